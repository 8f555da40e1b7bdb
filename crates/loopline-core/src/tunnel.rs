//! The tunnel that makes the receiver reachable from the internet: what the user chose
//! (`TunnelConfig`) and what the running app or `loopline serve` reports (`TunnelStatus`).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::ApiError;

/// A Cloudflare named tunnel: the user's own hostname, its token in the secret store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NamedTunnel {
    /// The secret holding the tunnel token (passed to cloudflared in `TUNNEL_TOKEN`).
    pub token_secret: String,
    /// The public hostname routed to this tunnel in the Cloudflare dashboard.
    pub hostname: String,
}

/// Which tunnel the user chose. Secrets are named, never held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "provider", rename_all = "snake_case")]
pub enum TunnelConfig {
    /// The user's own public URL (a reverse proxy, Tailscale Funnel, a VPN): only checked.
    Url { public_url: String },
    /// A Cloudflare tunnel run by the `cloudflared` binary: a quick tunnel, or a named one.
    Cloudflared {
        /// The binary; `cloudflared` from PATH when `None`.
        binary: Option<String>,
        named: Option<NamedTunnel>,
    },
    /// The ngrok agent, in-process.
    Ngrok {
        authtoken_secret: String,
        domain: Option<String>,
    },
    /// The user's own bore server (`bore server`), in-process.
    Bore {
        /// `host` or `host:port` of the bore server's control port (7835 by default).
        server: String,
        /// The secret holding the server's `--secret`, if it has one.
        secret_name: Option<String>,
        /// The HTTPS URL the user's reverse proxy serves in front of the bore port. Needed
        /// before Label Studio is pointed at a bore server that is not on this machine.
        https_url: Option<String>,
    },
}

impl TunnelConfig {
    pub fn provider(&self) -> &'static str {
        match self {
            TunnelConfig::Url { .. } => "url",
            TunnelConfig::Cloudflared { .. } => "cloudflared",
            TunnelConfig::Ngrok { .. } => "ngrok",
            TunnelConfig::Bore { .. } => "bore",
        }
    }
}

/// Where the tunnel is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TunnelState {
    /// No tunnel is configured, or nothing is running it.
    Stopped,
    /// The provider is connecting, or the first self-test has not passed yet.
    Starting,
    /// The last self-test through the public URL reached this receiver.
    Reachable,
    /// The tunnel is down or the self-test failed; `error` says why.
    Unreachable,
}

/// What `loopline tunnel status` and the status bar show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TunnelStatus {
    /// `url`, `cloudflared`, `ngrok`, `bore`; `None` when no tunnel is configured.
    pub provider: Option<String>,
    pub state: TunnelState,
    /// The public base URL (no path), once known. Webhooks go to `{public_url}/hooks/…`.
    pub public_url: Option<String>,
    /// When the last self-test passed (RFC 3339).
    pub verified_at: Option<String>,
    /// How long that self-test's round trip took.
    pub rtt_ms: Option<u64>,
    pub error: Option<ApiError>,
    /// Which process keeps the tunnel (`app` or `serve`, with its pid); `None` when nothing
    /// is running it.
    pub kept_by: Option<String>,
    /// The reason in words when nothing runs it, or other advice for the user.
    pub note: Option<String>,
    /// Where `cloudflared` was found on this machine's PATH, if it was: the quick tunnel
    /// (no account) is then the default choice. Worked out on each status read.
    #[serde(default)]
    pub cloudflared_found: Option<String>,
}

impl TunnelStatus {
    pub fn stopped(provider: Option<&str>, note: impl Into<String>) -> TunnelStatus {
        TunnelStatus {
            provider: provider.map(str::to_string),
            state: TunnelState::Stopped,
            public_url: None,
            verified_at: None,
            rtt_ms: None,
            error: None,
            kept_by: None,
            note: Some(note.into()),
            cloudflared_found: None,
        }
    }
}

/// One self-test through the public URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TunnelTest {
    pub public_url: String,
    pub reachable: bool,
    pub rtt_ms: Option<u64>,
    pub attempts: u32,
    pub error: Option<ApiError>,
}
