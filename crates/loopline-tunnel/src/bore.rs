//! bore, in-process, to the user's own bore server (`bore server [--secret S]`). bore
//! carries plain TCP: the public URL is `http://server:port` unless the user fronts it with
//! their own HTTPS reverse proxy (`https_url`). The remote port is pinned after the first
//! connection, so a reconnect keeps the URL and Label Studio keeps delivering.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use loopline_core::{ApiError, ErrorCode, Sensitive};

use crate::{TunnelProvider, TunnelSession};

/// bore's control port; bore 0.6 cannot use another one.
pub const CONTROL_PORT: u16 = 7835;
/// A pinned port may still be held by the server for the session that just dropped.
const PINNED_TRIES: u32 = 4;

pub struct Bore {
    host: String,
    secret: Option<Sensitive<String>>,
    https_url: Option<String>,
    /// The remote port of the last session, asked for again on reconnect.
    pinned: Arc<Mutex<u16>>,
}

/// `host`, `host:7835` → `host`; another port is refused (bore 0.6 has no such option).
pub fn server_host(server: &str) -> Result<String, ApiError> {
    let server = server.trim();
    let (host, port) = match server.rsplit_once(':') {
        Some((h, _)) if !h.ends_with(']') && h.contains(':') => (server, None), // bare IPv6
        Some((h, p)) => (h, Some(p)),
        None => (server, None),
    };
    if host.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidArgument,
            "Give the bore server as HOST or HOST:7835.",
        ));
    }
    if let Some(p) = port {
        if p.parse::<u16>().ok() != Some(CONTROL_PORT) {
            return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                format!("bore servers listen for clients on port {CONTROL_PORT} only; give '{host}' or '{host}:{CONTROL_PORT}'."),
            ));
        }
    }
    Ok(host.trim_matches(['[', ']']).to_string())
}

impl Bore {
    pub fn new(
        server: &str,
        secret: Option<Sensitive<String>>,
        https_url: Option<String>,
        pinned_port: u16,
    ) -> Result<Bore, ApiError> {
        let https_url = match https_url {
            Some(u) => {
                let u = crate::public_url::normalize(&u)?;
                if !u.starts_with("https://") {
                    return Err(ApiError::new(
                        ErrorCode::InvalidArgument,
                        format!("--https-url must be an https:// address; '{u}' is not."),
                    ));
                }
                Some(u)
            }
            None => None,
        };
        Ok(Bore {
            host: server_host(server)?,
            secret,
            https_url,
            pinned: Arc::new(Mutex::new(pinned_port)),
        })
    }

    /// The remote port the last session had (0 before the first).
    pub fn pinned_port(&self) -> u16 {
        self.pinned.lock().map(|p| *p).unwrap_or(0)
    }

    async fn connect(&self, local: SocketAddr) -> Result<bore_cli::client::Client, ApiError> {
        let pinned = self.pinned_port();
        let secret = self.secret.as_ref().map(|s| s.expose().as_str());
        let local_host = local.ip().to_string();
        let mut tries = 0;
        loop {
            tries += 1;
            let port = if tries <= PINNED_TRIES { pinned } else { 0 };
            match bore_cli::client::Client::new(&local_host, local.port(), &self.host, port, secret)
                .await
            {
                Ok(c) => return Ok(c),
                Err(e) => {
                    let text = e.to_string();
                    // The old port stays taken for a moment after a drop; after a few tries
                    // a new one changes the URL, and the engine moves Label Studio to it.
                    if port != 0
                        && (text.contains("port already in use")
                            || text.contains("not in allowed range"))
                    {
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        continue;
                    }
                    return Err(self.map_error(&format!("{e:#}")));
                }
            }
        }
    }

    fn map_error(&self, text: &str) -> ApiError {
        let host = &self.host;
        if text.contains("requires authentication") {
            ApiError::new(ErrorCode::TunnelUnauthorized, format!("The bore server at {host} requires a secret. Store it (`loopline secret set bore-secret`) and name it with --secret-name."))
        } else if text.contains("no secret was required") {
            ApiError::new(ErrorCode::TunnelUnauthorized, format!("The bore server at {host} has no secret, but Loopline was given one. Drop --secret-name, or start the server with --secret."))
        } else if text.contains("invalid secret") {
            ApiError::new(ErrorCode::TunnelUnauthorized, format!("The bore server at {host} refused the secret. Check the secret named in `loopline tunnel set bore --secret-name`."))
        } else if text.contains("could not connect")
            || text.contains("timed out")
            || text.contains("Connection refused")
        {
            ApiError::new(ErrorCode::TunnelStartFailed, format!("The bore server at {host}:{CONTROL_PORT} did not answer. Check that `bore server` runs there and that port {CONTROL_PORT} is open."))
        } else {
            ApiError::new(
                ErrorCode::TunnelStartFailed,
                format!("bore could not open a tunnel through {host}: {text}"),
            )
        }
    }
}

#[async_trait]
impl TunnelProvider for Bore {
    fn name(&self) -> &'static str {
        "bore"
    }

    async fn open(&self, local: SocketAddr) -> Result<Box<dyn TunnelSession>, ApiError> {
        let client = self.connect(local).await?;
        let port = client.remote_port();
        if let Ok(mut p) = self.pinned.lock() {
            *p = port;
        }
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let public_url = self
            .https_url
            .clone()
            .unwrap_or_else(|| format!("http://{host}:{port}"));
        let task = tokio::spawn(async move { client.listen().await.map_err(|e| e.to_string()) });
        Ok(Box::new(BoreSession {
            public_url,
            server: self.host.clone(),
            task: Some(task),
        }))
    }
}

struct BoreSession {
    public_url: String,
    server: String,
    task: Option<tokio::task::JoinHandle<Result<(), String>>>,
}

#[async_trait]
impl TunnelSession for BoreSession {
    fn public_url(&self) -> String {
        self.public_url.clone()
    }

    async fn closed(&mut self) -> ApiError {
        let why = match self.task.as_mut() {
            Some(task) => match task.await {
                Ok(Ok(())) => "the server closed the connection".to_string(),
                Ok(Err(e)) => e,
                Err(e) => e.to_string(),
            },
            None => std::future::pending().await,
        };
        self.task = None;
        ApiError::new(
            ErrorCode::TunnelUnreachable,
            format!(
                "The bore tunnel through {} dropped ({why}); reconnecting.",
                self.server
            ),
        )
    }

    async fn close(mut self: Box<Self>) {
        if let Some(task) = self.task.take() {
            // Dropping the control connection makes the server free the port.
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for BoreSession {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_host_takes_the_control_port_only() {
        assert_eq!(server_host("bore.example").unwrap(), "bore.example");
        assert_eq!(server_host("bore.example:7835").unwrap(), "bore.example");
        assert_eq!(server_host("127.0.0.1").unwrap(), "127.0.0.1");
        assert!(server_host("bore.example:9000").is_err());
        assert!(server_host("").is_err());
    }

    #[test]
    fn an_https_url_must_be_https() {
        assert!(Bore::new("b.example", None, Some("http://b.example".into()), 0).is_err());
        assert!(Bore::new("b.example", None, Some("https://b.example/".into()), 0).is_ok());
    }
}
