//! Cloudflare tunnels through the `cloudflared` binary. A quick tunnel (no account) gets a
//! new `*.trycloudflare.com` hostname on every start, learned from the metrics server's
//! `GET /quicktunnel`; readiness is `GET /ready` (503 until an edge connection is up, then
//! 200). A named tunnel runs with the user's token, passed in `TUNNEL_TOKEN` (never argv),
//! and serves the user's own hostname. `--metrics` is always passed, on a port we pick.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use loopline_core::{ApiError, ErrorCode, Sensitive};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::{TunnelProvider, TunnelSession};

/// How long cloudflared gets to connect to Cloudflare's edge.
const READY_WITHIN: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(200);
const STDERR_LINES: usize = 20;

pub struct Cloudflared {
    binary: PathBuf,
    named: Option<(Sensitive<String>, String)>,
    /// Where `~/.cloudflared/config.yaml` would be (the user's home).
    home: Option<PathBuf>,
}

/// The `cloudflared` binary: the one the user named, or the first on PATH.
pub fn find_binary(given: Option<&str>, path_var: Option<&str>) -> Result<PathBuf, ApiError> {
    if let Some(p) = given {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(ApiError::new(
                ErrorCode::TunnelStartFailed,
                format!(
                    "{} does not exist. Give the path of the cloudflared binary with --binary.",
                    p.display()
                ),
            ))
        };
    }
    let name = if cfg!(windows) {
        "cloudflared.exe"
    } else {
        "cloudflared"
    };
    path_var
        .into_iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| ApiError::new(ErrorCode::TunnelStartFailed, install_hint()))
}

/// How to get cloudflared, on each OS.
pub fn install_hint() -> String {
    "cloudflared is not installed (not on PATH). Install it: Linux: the .deb or binary from \
     https://github.com/cloudflare/cloudflared/releases (or `apt install cloudflared` from pkg.cloudflare.com); \
     macOS: `brew install cloudflared`; Windows: `winget install --id Cloudflare.cloudflared`. \
     Or give its path with `loopline tunnel set cloudflared --binary PATH`."
        .to_string()
}

impl Cloudflared {
    pub fn new(
        binary: PathBuf,
        named: Option<(Sensitive<String>, String)>,
        home: Option<PathBuf>,
    ) -> Cloudflared {
        Cloudflared {
            binary,
            named,
            home,
        }
    }

    fn args(&self, local: SocketAddr, metrics: u16) -> Vec<String> {
        let metrics = format!("127.0.0.1:{metrics}");
        match &self.named {
            None => vec![
                "tunnel".into(),
                "--url".into(),
                format!("http://{local}"),
                "--metrics".into(),
                metrics,
                "--no-autoupdate".into(),
            ],
            // The token selects the tunnel; its ingress (set in the dashboard) must point at
            // the receiver, and `--url` makes that the default.
            Some(_) => vec![
                "tunnel".into(),
                "--no-autoupdate".into(),
                "--metrics".into(),
                metrics,
                "run".into(),
                "--url".into(),
                format!("http://{local}"),
            ],
        }
    }

    fn refuses_config(&self) -> Option<PathBuf> {
        let dir = self.home.as_deref()?.join(".cloudflared");
        ["config.yaml", "config.yml"]
            .iter()
            .map(|f| dir.join(f))
            .find(|p| p.exists())
    }
}

fn free_port() -> Result<u16, ApiError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| {
            ApiError::new(
                ErrorCode::TunnelStartFailed,
                format!("no free port for cloudflared's metrics: {e}"),
            )
        })
}

/// Whether a stderr line says Cloudflare refused to create a quick tunnel for now.
pub fn is_rate_limited(line: &str) -> bool {
    line.contains("1015")
        || line.contains("429 Too Many Requests")
        || line.contains("status_code=\"429")
}

#[async_trait]
impl TunnelProvider for Cloudflared {
    fn name(&self) -> &'static str {
        "cloudflared"
    }

    async fn open(&self, local: SocketAddr) -> Result<Box<dyn TunnelSession>, ApiError> {
        if self.named.is_none() {
            if let Some(config) = self.refuses_config() {
                return Err(ApiError::new(
                    ErrorCode::TunnelStartFailed,
                    format!(
                        "cloudflared will not start a quick tunnel while {} exists. Rename that file, or use your named tunnel (`loopline tunnel set cloudflared --named --token-secret NAME --hostname HOST`).",
                        config.display()
                    ),
                ));
            }
        }
        let metrics = free_port()?;
        let mut cmd = Command::new(&self.binary);
        cmd.args(self.args(local, metrics))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some((token, _)) = &self.named {
            cmd.env("TUNNEL_TOKEN", token.expose());
        }
        let mut child = cmd.spawn().map_err(|e| {
            ApiError::new(
                ErrorCode::TunnelStartFailed,
                format!("{} could not be started: {e}", self.binary.display()),
            )
        })?;
        let lines = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(stderr) = child.stderr.take() {
            let lines = lines.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = reader.next_line().await {
                    if let Ok(mut l) = lines.lock() {
                        if l.len() == STDERR_LINES {
                            l.pop_front();
                        }
                        l.push_back(line);
                    }
                }
            });
        }
        let mut session = CloudflaredSession {
            child,
            lines,
            public_url: String::new(),
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let base = format!("http://127.0.0.1:{metrics}");
        match session.wait_ready(&http, &base).await {
            Ok(()) => {}
            Err(e) => {
                Box::new(session).close().await;
                return Err(e);
            }
        }
        session.public_url = match &self.named {
            Some((_, hostname)) => format!(
                "https://{}",
                hostname
                    .trim_start_matches("https://")
                    .trim_end_matches('/')
            ),
            None => match quick_hostname(&http, &base).await {
                // cloudflared says a bare hostname; an address with its own scheme is taken
                // as given (a local stand-in in tests).
                Ok(h) if h.starts_with("http://") || h.starts_with("https://") => h,
                Ok(h) => format!("https://{h}"),
                Err(e) => {
                    Box::new(session).close().await;
                    return Err(e);
                }
            },
        };
        Ok(Box::new(session))
    }
}

async fn quick_hostname(http: &reqwest::Client, base: &str) -> Result<String, ApiError> {
    let body: serde_json::Value = http
        .get(format!("{base}/quicktunnel"))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| {
            ApiError::new(
                ErrorCode::TunnelStartFailed,
                format!("cloudflared did not say its hostname: {e}"),
            )
        })?
        .json()
        .await
        .map_err(|e| {
            ApiError::new(
                ErrorCode::TunnelStartFailed,
                format!("cloudflared's /quicktunnel answer is not JSON: {e}"),
            )
        })?;
    match body["hostname"].as_str() {
        Some(h) if !h.is_empty() => Ok(h.trim_end_matches('/').to_string()),
        _ => Err(ApiError::new(
            ErrorCode::TunnelStartFailed,
            "cloudflared is connected but has no quick-tunnel hostname yet.",
        )),
    }
}

struct CloudflaredSession {
    child: Child,
    lines: Arc<Mutex<VecDeque<String>>>,
    public_url: String,
}

impl CloudflaredSession {
    fn stderr_says(&self) -> (bool, Option<String>) {
        let lines = self.lines.lock().map(|l| l.clone()).unwrap_or_default();
        let limited = lines.iter().any(|l| is_rate_limited(l));
        let last = lines
            .iter()
            .rev()
            .find(|l| l.contains("ERR") || l.contains("error"))
            .or(lines.back())
            .cloned();
        (limited, last)
    }

    fn exited(&self, status: std::process::ExitStatus) -> ApiError {
        let (limited, last) = self.stderr_says();
        if limited {
            return ApiError::new(
                ErrorCode::TunnelRateLimited,
                "Cloudflare refuses new quick tunnels from this address for now (429, error code 1015). Loopline waits several minutes before trying again; a named tunnel or ngrok avoids the limit.",
            );
        }
        ApiError::new(
            ErrorCode::TunnelUnreachable,
            format!(
                "cloudflared exited ({status}){}",
                last.map(|l| format!(": {l}")).unwrap_or_default()
            ),
        )
    }

    async fn wait_ready(&mut self, http: &reqwest::Client, base: &str) -> Result<(), ApiError> {
        let deadline = tokio::time::Instant::now() + READY_WITHIN;
        loop {
            if let Some(status) = self
                .child
                .try_wait()
                .map_err(|e| ApiError::internal(e.to_string()))?
            {
                // Let the stderr reader catch up with the process's last words.
                tokio::time::sleep(Duration::from_millis(100)).await;
                let e = self.exited(status);
                return Err(if e.code == ErrorCode::TunnelUnreachable {
                    ApiError::new(ErrorCode::TunnelStartFailed, e.message)
                } else {
                    e
                });
            }
            if let Ok(r) = http.get(format!("{base}/ready")).send().await {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            if tokio::time::Instant::now() >= deadline {
                let (_, last) = self.stderr_says();
                return Err(ApiError::new(
                    ErrorCode::TunnelStartFailed,
                    format!(
                        "cloudflared did not connect to Cloudflare within {} s{}. Check this machine's internet connection.",
                        READY_WITHIN.as_secs(),
                        last.map(|l| format!(" (it said: {l})")).unwrap_or_default()
                    ),
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

#[async_trait]
impl TunnelSession for CloudflaredSession {
    fn public_url(&self) -> String {
        self.public_url.clone()
    }

    async fn closed(&mut self) -> ApiError {
        match self.child.wait().await {
            Ok(status) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                self.exited(status)
            }
            Err(e) => ApiError::new(
                ErrorCode::TunnelUnreachable,
                format!("cloudflared is gone: {e}"),
            ),
        }
    }

    async fn close(mut self: Box<Self>) {
        let _ = self.child.kill().await;
    }
}

/// The user's home, where cloudflared looks for its config.
pub fn home_dir(home_var: Option<&str>) -> Option<PathBuf> {
    home_var
        .filter(|h| !h.is_empty())
        .map(Path::new)
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_tunnel_args_always_carry_metrics() {
        let c = Cloudflared::new("cloudflared".into(), None, None);
        let args = c.args("127.0.0.1:8787".parse().unwrap(), 4000);
        assert_eq!(
            args,
            [
                "tunnel",
                "--url",
                "http://127.0.0.1:8787",
                "--metrics",
                "127.0.0.1:4000",
                "--no-autoupdate"
            ]
        );
        let named = Cloudflared::new(
            "cloudflared".into(),
            Some((Sensitive::new("tok".into()), "h.example".into())),
            None,
        );
        let args = named.args("127.0.0.1:8787".parse().unwrap(), 4000);
        assert!(args.contains(&"--metrics".to_string()));
        assert!(
            !args.iter().any(|a| a.contains("tok")),
            "the token never reaches argv"
        );
    }

    #[test]
    fn rate_limit_lines_are_recognised() {
        assert!(is_rate_limited("ERR Error unmarshaling QuickTunnel response: error code: 1015 status_code=\"429 Too Many Requests\""));
        assert!(!is_rate_limited("INF Registered tunnel connection"));
    }

    #[test]
    fn a_config_file_blocks_quick_tunnels() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir(home.path().join(".cloudflared")).unwrap();
        let c = Cloudflared::new("x".into(), None, Some(home.path().into()));
        assert!(c.refuses_config().is_none());
        std::fs::write(home.path().join(".cloudflared/config.yaml"), "tunnel: x").unwrap();
        assert!(c.refuses_config().is_some());
    }
}
