//! ngrok, in-process: the ngrok agent SDK (the `ngrok` crate) opens an HTTPS endpoint on
//! ngrok's edge and forwards it to the receiver. The authtoken comes from the secret store
//! and never reaches argv, the DB or a log. A traffic policy on the endpoint answers 404 at
//! the edge for anything but `/hooks/*` and `/healthz`, so even a future route added to the
//! receiver by mistake is not reachable through ngrok.

use std::net::SocketAddr;

use async_trait::async_trait;
use loopline_core::{ApiError, ErrorCode, Sensitive};
use ngrok::config::ForwarderBuilder;
use ngrok::prelude::{EndpointInfo, TunnelCloser};
use ngrok::Error as _;

use crate::{TunnelProvider, TunnelSession};

/// The edge refuses every path but the receiver's two, before a request reaches the laptop.
pub fn traffic_policy() -> String {
    serde_json::json!({
        "on_http_request": [{
            "name": "only the receiver's paths",
            "expressions": [
                "!(req.url.path.startsWith('/hooks/') || req.url.path == '/healthz')"
            ],
            "actions": [{
                "type": "custom-response",
                "config": {
                    "status_code": 404,
                    "body": "{\"code\":\"not_found\",\"message\":\"Only /hooks/* and /healthz are served here.\"}",
                    "headers": {"content-type": "application/json"}
                }
            }]
        }]
    })
    .to_string()
}

pub struct Ngrok {
    authtoken: Sensitive<String>,
    domain: Option<String>,
}

impl Ngrok {
    pub fn new(authtoken: Sensitive<String>, domain: Option<String>) -> Result<Ngrok, ApiError> {
        if authtoken.expose().trim().is_empty() {
            return Err(map_error("ERR_NGROK_4018"));
        }
        let domain = match domain.map(|d| normalize_domain(&d)) {
            Some(Ok(d)) => Some(d),
            Some(Err(e)) => return Err(e),
            None => None,
        };
        Ok(Ngrok { authtoken, domain })
    }

    pub fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }
}

/// `https://x.ngrok-free.app/` and `x.ngrok-free.app` name the same domain; ngrok wants the
/// bare host name.
pub fn normalize_domain(domain: &str) -> Result<String, ApiError> {
    let d = domain.trim();
    let d = d
        .strip_prefix("https://")
        .or_else(|| d.strip_prefix("http://"))
        .unwrap_or(d)
        .trim_end_matches('/');
    let valid = !d.is_empty()
        && d.contains('.')
        && d.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !valid {
        return Err(ApiError::new(
            ErrorCode::InvalidArgument,
            format!("'{domain}' is not an ngrok domain. Give the host name from the ngrok dashboard (Domains), such as my-name.ngrok-free.app."),
        ));
    }
    Ok(d.to_ascii_lowercase())
}

#[async_trait]
impl TunnelProvider for Ngrok {
    fn name(&self) -> &'static str {
        "ngrok"
    }

    async fn open(&self, local: SocketAddr) -> Result<Box<dyn TunnelSession>, ApiError> {
        let session = ngrok::Session::builder()
            .authtoken(self.authtoken.expose().clone())
            .client_info("loopline", env!("CARGO_PKG_VERSION"), None::<String>)
            .connect()
            .await
            .map_err(|e| map_sdk_error(e.error_code(), &e.msg(), &e))?;
        let mut endpoint = session.http_endpoint();
        endpoint.traffic_policy(traffic_policy());
        if let Some(d) = &self.domain {
            endpoint.domain(d.clone());
        }
        let to = url::Url::parse(&format!("http://{local}")).map_err(|e| {
            ApiError::new(
                ErrorCode::Internal,
                format!("The receiver's address {local} is not a URL: {e}"),
            )
        })?;
        let forwarder = endpoint
            .listen_and_forward(to)
            .await
            .map_err(|e| map_sdk_error(e.error_code(), &e.msg(), &e))?;
        let public_url = forwarder.url().trim_end_matches('/').to_string();
        Ok(Box::new(NgrokSession {
            public_url,
            forwarder: Some(forwarder),
            session,
        }))
    }
}

struct NgrokSession {
    public_url: String,
    forwarder: Option<ngrok::forwarder::Forwarder<ngrok::tunnel::HttpTunnel>>,
    session: ngrok::Session,
}

#[async_trait]
impl TunnelSession for NgrokSession {
    fn public_url(&self) -> String {
        self.public_url.clone()
    }

    async fn closed(&mut self) -> ApiError {
        // The SDK reconnects its own session; the forwarder ends only when the endpoint is
        // gone for good (stopped from the dashboard, or an error it cannot recover from).
        let why = match self.forwarder.as_mut() {
            Some(f) => match f.join().await {
                Ok(Ok(())) => "ngrok closed the endpoint".to_string(),
                Ok(Err(e)) => e.to_string(),
                Err(e) => e.to_string(),
            },
            None => std::future::pending().await,
        };
        self.forwarder = None;
        ApiError::new(
            ErrorCode::TunnelUnreachable,
            format!(
                "The ngrok endpoint {} stopped ({why}); reconnecting.",
                self.public_url
            ),
        )
    }

    async fn close(mut self: Box<Self>) {
        if let Some(mut f) = self.forwarder.take() {
            let _ = f.close().await;
            f.join().abort();
        }
        let _ = self.session.close().await;
    }
}

/// An SDK error with its `ERR_NGROK_<n>` code, if it has one, as a sentence with a fix.
fn map_sdk_error(code: Option<&str>, msg: &str, e: &dyn std::error::Error) -> ApiError {
    match code {
        Some(code) => map_error(&format!("{code}: {msg}")),
        None => {
            let mut text = e.to_string();
            if let Some(src) = e.source() {
                text = format!("{text}: {src}");
            }
            if text.contains("tcp connection") || text.contains("tls handshake") {
                ApiError::new(
                    ErrorCode::TunnelStartFailed,
                    format!("Loopline could not reach ngrok's service ({text}). Check the internet connection, or a proxy or firewall that blocks outgoing port 443."),
                )
            } else {
                map_error(&text)
            }
        }
    }
}

/// ngrok's error text (it carries an `ERR_NGROK_<n>` code) as a sentence with a fix.
pub fn map_error(text: &str) -> ApiError {
    if text.contains("ERR_NGROK_4018") {
        ApiError::new(ErrorCode::TunnelUnauthorized, "ngrok needs an authtoken: copy yours from https://dashboard.ngrok.com/get-started/your-authtoken and store it with `loopline secret set ngrok-authtoken`.")
    } else if text.contains("ERR_NGROK_105") || text.contains("ERR_NGROK_107") {
        ApiError::new(ErrorCode::TunnelUnauthorized, "ngrok refused the authtoken (it is wrong or was revoked). Store the current one from the ngrok dashboard with `loopline secret set ngrok-authtoken`.")
    } else if text.contains("ERR_NGROK_108") {
        ApiError::new(ErrorCode::TunnelRateLimited, "Your ngrok account already has an agent session running elsewhere (free accounts allow one). Stop the other ngrok agent, then Loopline reconnects.")
    } else if text.contains("ERR_NGROK_320") || text.contains("ERR_NGROK_313") {
        ApiError::new(ErrorCode::TunnelUnauthorized, "ngrok refused the domain: it is not reserved on your account. Use the domain shown in the ngrok dashboard (Domains), or leave --domain out for a random one.")
    } else if text.contains("ERR_NGROK_") {
        ApiError::new(
            ErrorCode::TunnelStartFailed,
            format!("ngrok refused the tunnel: {text}"),
        )
    } else {
        ApiError::new(
            ErrorCode::TunnelStartFailed,
            format!("ngrok could not start: {text}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ngrok_errors_read_as_sentences_with_a_fix() {
        let e = map_error("failed to connect session: ERR_NGROK_4018 authentication failed");
        assert_eq!(e.code, ErrorCode::TunnelUnauthorized);
        assert!(e.message.contains("loopline secret set ngrok-authtoken"));
        let e = map_error(
            "ERR_NGROK_108: Your account is limited to 1 simultaneous ngrok agent sessions.",
        );
        assert_eq!(e.code, ErrorCode::TunnelRateLimited);
        assert!(e.message.contains("Stop the other ngrok agent"));
        assert_eq!(
            map_error("ERR_NGROK_9999 x").code,
            ErrorCode::TunnelStartFailed
        );
        let e = map_sdk_error(
            Some("ERR_NGROK_105"),
            "The authtoken you specified does not look like a proper ngrok tunnel authtoken.",
            &std::io::Error::other("x"),
        );
        assert_eq!(e.code, ErrorCode::TunnelUnauthorized);
        assert!(e.message.contains("wrong or was revoked"));
    }

    #[test]
    fn an_unreachable_edge_is_explained() {
        let io = std::io::Error::other("failed to establish tcp connection");
        let e = map_sdk_error(None, "", &io);
        assert_eq!(e.code, ErrorCode::TunnelStartFailed);
        assert!(e.message.contains("port 443"), "{}", e.message);
    }

    #[test]
    fn an_empty_authtoken_is_refused_before_connecting() {
        let e = Ngrok::new(Sensitive::new(" ".into()), None)
            .err()
            .expect("refused");
        assert_eq!(e.code, ErrorCode::TunnelUnauthorized);
    }

    #[test]
    fn domains_are_bare_host_names() {
        assert_eq!(
            normalize_domain("https://My-Name.ngrok-free.app/").unwrap(),
            "my-name.ngrok-free.app"
        );
        assert_eq!(normalize_domain("x.ngrok.dev").unwrap(), "x.ngrok.dev");
        assert!(normalize_domain("not a domain").is_err());
        assert!(normalize_domain("").is_err());
        let n = Ngrok::new(
            Sensitive::new("t".into()),
            Some("https://a.ngrok.app".into()),
        )
        .unwrap();
        assert_eq!(n.domain(), Some("a.ngrok.app"));
    }

    #[test]
    fn the_policy_lets_only_the_receiver_paths_through() {
        let p: serde_json::Value = serde_json::from_str(&traffic_policy()).unwrap();
        let rule = &p["on_http_request"][0];
        let expr = rule["expressions"][0].as_str().unwrap();
        assert!(
            expr.starts_with("!("),
            "the rule matches what is NOT allowed"
        );
        assert!(expr.contains("startsWith('/hooks/')"));
        assert!(expr.contains("== '/healthz'"));
        assert_eq!(rule["actions"][0]["type"], "custom-response");
        assert_eq!(rule["actions"][0]["config"]["status_code"], 404);
    }
}
