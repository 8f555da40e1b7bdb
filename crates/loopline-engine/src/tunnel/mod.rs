//! The tunnel, as the engine keeps it: the user's choice is saved (`tunnel.config`), and
//! whichever process runs the background work (the app or `loopline serve`) and holds the
//! keeper's lease opens it, self-tests it through the public URL, reconnects it, and moves
//! Label Studio's webhooks to each new URL (see `keeper`). The CLI in another process
//! changes the choice and reads the status through the same settings.

mod hook_sync;
mod keeper;
mod lease;
mod providers;
mod selftest;

pub(crate) use hook_sync::LS_HOOK_URL;
pub(crate) use keeper::keep_tunnel;

use loopline_core::{ApiError, ErrorCode, TunnelConfig, TunnelState, TunnelStatus, TunnelTest};

use crate::Engine;

const CONFIG: &str = "tunnel.config";
const STATUS: &str = "tunnel.status";
/// The last public URL Label Studio was moved to (survives restarts, so a quick tunnel's
/// new hostname after a restart is seen as a change).
const LAST_URL: &str = "tunnel.public_url";
/// The bore remote port to ask for again, so a reconnect keeps the URL.
const BORE_PORT: &str = "tunnel.bore_port";
const SELFTEST_KEY: &str = "tunnel.selftest_key";

impl Engine {
    /// Saves the tunnel to keep. A running serve or app picks it up within a second.
    pub async fn set_tunnel(&self, config: TunnelConfig) -> Result<TunnelStatus, ApiError> {
        let config = self.validate_tunnel(config).await?;
        let json = serde_json::to_string(&config).map_err(|e| ApiError::internal(e.to_string()))?;
        if self.store.setting(CONFIG).await?.as_deref() != Some(json.as_str()) {
            self.store.set_setting(CONFIG, &json).await?;
            self.store.delete_setting(STATUS).await?;
            self.store.delete_setting(BORE_PORT).await?;
        }
        self.tunnel_wake.notify_one();
        self.tunnel_status().await
    }

    /// Stops keeping a tunnel. Label Studio's webhooks keep their last URL.
    pub async fn tunnel_off(&self) -> Result<TunnelStatus, ApiError> {
        self.store.delete_setting(CONFIG).await?;
        self.store.delete_setting(STATUS).await?;
        self.tunnel_wake.notify_one();
        self.tunnel_status().await
    }

    pub async fn tunnel_config(&self) -> Result<Option<TunnelConfig>, ApiError> {
        match self.store.setting(CONFIG).await? {
            None => Ok(None),
            Some(json) => serde_json::from_str(&json).map(Some).map_err(|e| {
                ApiError::new(
                    ErrorCode::InvalidArgument,
                    format!("The saved tunnel cannot be read ({e}); set it again with `loopline tunnel set …`."),
                )
            }),
        }
    }

    /// What the process keeping the tunnel reports, or why nothing keeps it.
    pub async fn tunnel_status(&self) -> Result<TunnelStatus, ApiError> {
        let mut status = self.kept_tunnel_status().await?;
        status.cloudflared_found =
            loopline_tunnel::cloudflared::find_binary(None, std::env::var("PATH").ok().as_deref())
                .ok()
                .map(|p| p.display().to_string());
        Ok(status)
    }

    async fn kept_tunnel_status(&self) -> Result<TunnelStatus, ApiError> {
        let Some(config) = self.tunnel_config().await? else {
            return Ok(TunnelStatus::stopped(
                None,
                "No tunnel is set up: Label Studio and Aquarium in the cloud cannot reach this receiver. Set one in Settings → Tunnel or with `loopline tunnel set …`.",
            ));
        };
        let provider = config.provider();
        let Some(keeper) = self.tunnel_keeper().await? else {
            return Ok(TunnelStatus::stopped(
                Some(provider),
                "Nothing is running it: the tunnel runs inside the app or `loopline serve` whose receiver is listening. Start one of them (or fix the receiver: see the status bar or `loopline info`).",
            ));
        };
        let mut status = match self.store.setting(STATUS).await? {
            Some(json) => serde_json::from_str::<TunnelStatus>(&json)
                .map_err(|e| ApiError::internal(format!("tunnel status unreadable: {e}")))?,
            None => TunnelStatus {
                state: TunnelState::Starting,
                note: None,
                ..TunnelStatus::stopped(Some(provider), "")
            },
        };
        status.provider = Some(provider.to_string());
        status.kept_by = Some(keeper);
        Ok(status)
    }

    /// The URL to give Label Studio: the tunnel's, once proven to reach this receiver.
    pub async fn tunnel_public_url(&self) -> Result<String, ApiError> {
        let status = self.tunnel_status().await?;
        match (status.state, status.public_url) {
            (TunnelState::Reachable, Some(url)) => {
                if loopline_tunnel::public_url::is_plaintext_remote(&url) {
                    return Err(loopline_tunnel::public_url::plaintext_refusal(&url));
                }
                Ok(url)
            }
            _ => Err(ApiError::new(
                ErrorCode::TunnelNotConfigured,
                format!(
                    "There is no verified tunnel URL to give Label Studio ({}). Pass --public-url, or set up the tunnel and start `loopline serve` or the app.",
                    status
                        .error
                        .map(|e| e.message)
                        .or(status.note)
                        .unwrap_or_else(|| "the tunnel is still starting".into())
                ),
            )),
        }
    }

    /// One self-test through the public URL now (a few quick tries).
    pub async fn tunnel_test(&self) -> Result<TunnelTest, ApiError> {
        let status = self.tunnel_status().await?;
        let url = match (&status.public_url, self.tunnel_config().await?) {
            (Some(u), _) => u.clone(),
            (None, Some(TunnelConfig::Url { public_url })) => public_url,
            (None, None) => {
                return Err(ApiError::new(
                    ErrorCode::TunnelNotConfigured,
                    status.note.unwrap_or_default(),
                ))
            }
            (None, Some(_)) => {
                return Err(ApiError::new(
                    ErrorCode::TunnelUnreachable,
                    status
                        .error
                        .map(|e| e.message)
                        .or(status.note)
                        .unwrap_or_else(|| "The tunnel has no public URL yet.".into()),
                ))
            }
        };
        Ok(self.self_test(&url, 3).await)
    }

    /// The key the receiver proves itself with in a self-test: created once per data
    /// directory. It is not a credential (it opens nothing; a stolen one could only fake a
    /// self-test answer), so it lives in the settings, where every process can read it.
    pub(crate) async fn selftest_key(&self) -> Result<Vec<u8>, ApiError> {
        let mut fresh = [0u8; 32];
        self.entropy.fill(&mut fresh);
        let hex: String = fresh.iter().map(|b| format!("{b:02x}")).collect();
        let stored = self.store.setting_or_insert(SELFTEST_KEY, &hex).await?;
        Ok(stored.into_bytes())
    }

    async fn save_tunnel_status(&self, status: &TunnelStatus) -> Result<(), ApiError> {
        let json = serde_json::to_string(status).map_err(|e| ApiError::internal(e.to_string()))?;
        self.store.set_setting(STATUS, &json).await
    }

    async fn validate_tunnel(&self, config: TunnelConfig) -> Result<TunnelConfig, ApiError> {
        let needs_secret = |name: &str, what: &str| {
            let name = name.to_string();
            let what = what.to_string();
            async move {
                match self.secret(&name).await? {
                    Some(_) => Ok(()),
                    None => Err(ApiError::new(
                        ErrorCode::SecretUnavailable,
                        format!("There is no secret named '{name}' ({what}). Store it first: `loopline secret set {name}`."),
                    )),
                }
            }
        };
        match &config {
            TunnelConfig::Url { public_url } => {
                let url = loopline_tunnel::public_url::normalize(public_url)?;
                return Ok(TunnelConfig::Url { public_url: url });
            }
            TunnelConfig::Bore {
                server,
                secret_name,
                https_url,
            } => {
                loopline_tunnel::bore::Bore::new(server, None, https_url.clone(), 0)?;
                if let Some(name) = secret_name {
                    needs_secret(name, "the bore server's secret").await?;
                }
            }
            TunnelConfig::Cloudflared { binary, named } => {
                loopline_tunnel::cloudflared::find_binary(
                    binary.as_deref(),
                    std::env::var("PATH").ok().as_deref(),
                )?;
                if let Some(n) = named {
                    needs_secret(&n.token_secret, "the Cloudflare tunnel token").await?;
                    if n.hostname.trim().is_empty() {
                        return Err(ApiError::new(
                            ErrorCode::InvalidArgument,
                            "A named tunnel needs --hostname: the public hostname routed to it.",
                        ));
                    }
                }
            }
            TunnelConfig::Ngrok {
                authtoken_secret,
                domain,
            } => {
                needs_secret(authtoken_secret, "the ngrok authtoken").await?;
                let domain = match domain {
                    Some(d) => Some(loopline_tunnel::ngrok::normalize_domain(d)?),
                    None => None,
                };
                return Ok(TunnelConfig::Ngrok {
                    authtoken_secret: authtoken_secret.clone(),
                    domain,
                });
            }
        }
        Ok(config)
    }
}
