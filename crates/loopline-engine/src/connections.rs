//! Connecting Loopline to Label Studio: `loopline connect label-studio` and `verify
//! label-studio`, and the Verify button. The URL is a setting; the token lives in the
//! secret store under `label-studio-token`.

use loopline_cloud::label_studio::LabelStudio;
use loopline_core::{ApiError, ErrorCode, LabelStudioIdentity as Identity, Sensitive};

use crate::Engine;

pub(crate) const LS_URL: &str = "label_studio.url";
pub use loopline_core::secret_names::LABEL_STUDIO_TOKEN as LS_TOKEN_SECRET;

impl Engine {
    /// Verifies the token against the server first, and stores nothing unless it works.
    pub async fn connect_label_studio(
        &self,
        url: &str,
        token: Sensitive<String>,
    ) -> Result<Identity, ApiError> {
        let client = LabelStudio::new(url, token.clone(), self.clock.clone())?;
        let identity = client.verify().await?;
        self.set_secret(LS_TOKEN_SECRET, token).await?;
        self.store.set_setting(LS_URL, &identity.url).await?;
        Ok(identity)
    }

    /// A client for the connected Label Studio.
    pub async fn label_studio(&self) -> Result<LabelStudio, ApiError> {
        let url = self.store.setting(LS_URL).await?.ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotConnected,
                "Loopline is not connected to Label Studio yet. Run `loopline connect label-studio --url URL` \
                 (the token is read from stdin), or use Settings › Credentials.",
            )
        })?;
        let token = self
            .secret(LS_TOKEN_SECRET)
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::SecretUnavailable,
                    format!(
                        "The Label Studio token is not in the {}. Connect again with `loopline connect label-studio --url {url}`.",
                        self.secrets.describe()
                    ),
                )
            })?;
        LabelStudio::new(&url, token, self.clock.clone())
    }

    /// The connected Label Studio's address (not a secret), if any.
    pub async fn label_studio_url(&self) -> Result<Option<String>, ApiError> {
        self.store.setting(LS_URL).await
    }

    pub async fn verify_label_studio(&self) -> Result<Identity, ApiError> {
        self.label_studio().await?.verify().await
    }

    /// Forgets the address and the token.
    pub async fn disconnect_label_studio(&self) -> Result<(), ApiError> {
        self.forget_secret(LS_TOKEN_SECRET).await?;
        self.store.delete_setting(LS_URL).await
    }
}
