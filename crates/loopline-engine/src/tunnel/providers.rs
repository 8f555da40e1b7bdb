//! Building the provider for the saved configuration, with its secret read from the
//! secret store (never from the config, never into argv).

use std::sync::Arc;

use loopline_core::{ApiError, ErrorCode, TunnelConfig};
use loopline_tunnel::TunnelProvider;

use crate::Engine;

impl Engine {
    pub(crate) async fn tunnel_provider(
        &self,
        config: &TunnelConfig,
    ) -> Result<Arc<dyn TunnelProvider>, ApiError> {
        if let Some(p) = &self.tunnel_override {
            return Ok(p.clone());
        }
        let secret = |name: String| async move {
            self.secret(&name).await?.ok_or_else(|| {
                ApiError::new(
                    ErrorCode::SecretUnavailable,
                    format!("The tunnel needs the secret '{name}', which is not in the {}. Store it: `loopline secret set {name}`.", self.secrets.describe()),
                )
            })
        };
        Ok(match config {
            TunnelConfig::Url { public_url } => {
                Arc::new(loopline_tunnel::url::OwnUrl::new(public_url)?)
            }
            TunnelConfig::Bore {
                server,
                secret_name,
                https_url,
            } => {
                let s = match secret_name {
                    Some(n) => Some(secret(n.clone()).await?),
                    None => None,
                };
                let pinned = self
                    .store
                    .setting(super::BORE_PORT)
                    .await?
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0);
                Arc::new(loopline_tunnel::bore::Bore::new(
                    server,
                    s,
                    https_url.clone(),
                    pinned,
                )?)
            }
            TunnelConfig::Cloudflared { binary, named } => {
                let bin = loopline_tunnel::cloudflared::find_binary(
                    binary.as_deref(),
                    std::env::var("PATH").ok().as_deref(),
                )?;
                let named = match named {
                    Some(n) => Some((secret(n.token_secret.clone()).await?, n.hostname.clone())),
                    None => None,
                };
                // cloudflared looks for `.cloudflared` in the profile folder on Windows,
                // where HOME is usually unset.
                let home_var = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
                let home =
                    loopline_tunnel::cloudflared::home_dir(std::env::var(home_var).ok().as_deref());
                Arc::new(loopline_tunnel::cloudflared::Cloudflared::new(
                    bin, named, home,
                ))
            }
            TunnelConfig::Ngrok {
                authtoken_secret,
                domain,
            } => Arc::new(loopline_tunnel::ngrok::Ngrok::new(
                secret(authtoken_secret.clone()).await?,
                domain.clone(),
            )?),
        })
    }
}
