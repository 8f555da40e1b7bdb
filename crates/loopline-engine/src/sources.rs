//! Sources: the senders Loopline accepts webhooks from. Behind `loopline source …` and the
//! Sources screen.

use std::sync::Arc;

use loopline_core::{ApiError, CreatedSource, ErrorCode, Sensitive, Source, SourceKind};
use loopline_hooks::auth::digest;

use crate::background::{signing_key_secret_name, token_secret_name};
use crate::tokens::{new_signing_secret, new_source_id, new_token};
use crate::Engine;

const MAX_NAME: usize = 120;

impl Engine {
    pub async fn list_sources(&self) -> Result<Vec<Source>, ApiError> {
        self.store.list_sources(self.clock.now_ms()).await
    }

    /// Adds a source. Label Studio and generic sources get a generated secret, returned this
    /// once; Aquarium's secret is the one Aquarium generated, passed in as `secret`.
    pub async fn add_source(
        &self,
        kind: SourceKind,
        name: &str,
        secret: Option<Sensitive<String>>,
    ) -> Result<CreatedSource, ApiError> {
        let name = name.trim();
        check_name(name)?;
        let (secret, shown) = self.choose_secret(kind, secret)?;
        let id = new_source_id(self.entropy.as_ref());
        let now = self.clock.now_ms();
        let digest = digest(secret.expose());
        // Keychain first: if it refuses, nothing was created.
        self.keep_secret(kind, &id, &digest, &secret).await?;
        if let Err(e) = self
            .store
            .insert_source(&id, kind, name, Some(&digest), now)
            .await
        {
            self.forget_secrets(&id, Some(&digest)).await;
            return Err(e);
        }
        self.reload_sources().await;
        Ok(self.created(&id, kind, name, shown.then_some(secret)).await)
    }

    /// Adds an Aquarium source that accepts deliveries without `X-Aquarium-Secret`: Aquarium
    /// sends the header only when the organisation has set a secret. Rotating a secret in
    /// later (`loopline source rotate ID --secret-stdin`) makes it required.
    pub async fn add_source_without_secret(&self, name: &str) -> Result<CreatedSource, ApiError> {
        let name = name.trim();
        check_name(name)?;
        let id = new_source_id(self.entropy.as_ref());
        self.store
            .insert_source(&id, SourceKind::Aquarium, name, None, self.clock.now_ms())
            .await?;
        self.reload_sources().await;
        Ok(self.created(&id, SourceKind::Aquarium, name, None).await)
    }

    /// Issues a new secret; the previous ones stay valid for `grace_secs` (0 = at once).
    pub async fn rotate_source(
        &self,
        id: &str,
        grace_secs: i64,
        secret: Option<Sensitive<String>>,
    ) -> Result<CreatedSource, ApiError> {
        let now = self.clock.now_ms();
        let source = self.store.source(id, now).await?;
        let (secret, shown) = self.choose_secret(source.kind, secret)?;
        let digest = digest(secret.expose());
        self.keep_secret(source.kind, id, &digest, &secret).await?;
        self.store
            .rotate_source_secret(id, &digest, now, now + grace_secs.max(0) * 1000)
            .await?;
        self.reload_sources().await;
        Ok(self
            .created(id, source.kind, &source.name, shown.then_some(secret))
            .await)
    }

    pub async fn remove_source(&self, id: &str) -> Result<(), ApiError> {
        let now = self.clock.now_ms();
        self.store.source(id, now).await?;
        let digests: Vec<Vec<u8>> = self
            .store
            .source_auth_table(0)
            .await?
            .into_iter()
            .filter(|s| s.id == id)
            .flat_map(|s| s.secrets.into_iter().map(|(_, d, _)| d))
            .collect();
        self.store.remove_source(id).await?;
        self.forget_secrets(id, None).await;
        for d in digests {
            self.forget_secrets(id, Some(&d)).await;
        }
        self.reload_sources().await;
        Ok(())
    }

    fn choose_secret(
        &self,
        kind: SourceKind,
        given: Option<Sensitive<String>>,
    ) -> Result<(Sensitive<String>, bool), ApiError> {
        let given = given.filter(|s| !s.expose().trim().is_empty());
        match (kind, given) {
            (SourceKind::Aquarium, Some(s)) => Ok((Sensitive::new(s.expose().trim().to_string()), false)),
            (SourceKind::Aquarium, None) => Err(ApiError::new(
                ErrorCode::InvalidArgument,
                "An Aquarium source needs the webhook secret Aquarium generated (Organization settings → Webhooks). \
                 Paste it when asked, or pipe it to `loopline source add aquarium --name NAME --secret-stdin`.",
            )),
            (SourceKind::Generic, Some(s)) => Ok((Sensitive::new(s.expose().trim().to_string()), false)),
            (SourceKind::Generic, None) => Ok((new_signing_secret(self.entropy.as_ref()), true)),
            (SourceKind::LabelStudio, _) => Ok((new_token(self.entropy.as_ref()), true)),
        }
    }

    /// Puts the plaintext where it belongs: the keychain (for test events, for registering
    /// the hook in Label Studio, and for Standard Webhooks verification). SQLite has only
    /// the digest.
    async fn keep_secret(
        &self,
        kind: SourceKind,
        id: &str,
        digest: &[u8],
        secret: &Sensitive<String>,
    ) -> Result<(), ApiError> {
        let secrets = self.secrets.clone();
        let secret = secret.clone();
        let (token_name, key_name) = (token_secret_name(id), signing_key_secret_name(id, digest));
        tokio::task::spawn_blocking(move || {
            if !secrets.writable() {
                // --secrets env: Loopline writes nothing. The digest still lets the receiver
                // check the token; a generic source needs its key in the environment.
                return Ok(());
            }
            secrets.set(&token_name, &secret)?;
            if kind == SourceKind::Generic {
                secrets.set(&key_name, &secret)?;
            }
            Ok(())
        })
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
    }

    /// Best effort: removes a source's token (`digest` None) or one signing key.
    async fn forget_secrets(&self, id: &str, digest: Option<&[u8]>) {
        if !self.secrets.writable() {
            return;
        }
        let secrets = self.secrets.clone();
        let name = match digest {
            Some(d) => signing_key_secret_name(id, d),
            None => token_secret_name(id),
        };
        let _ = tokio::task::spawn_blocking(move || secrets.delete(&name)).await;
    }

    async fn created(
        &self,
        id: &str,
        kind: SourceKind,
        name: &str,
        token: Option<Sensitive<String>>,
    ) -> CreatedSource {
        let base = match self.receiver_addr().await {
            Some(addr) => format!("http://{addr}"),
            None => format!(
                "http://{}",
                self.saved_listen()
                    .await
                    .unwrap_or_else(|_| crate::DEFAULT_LISTEN.to_string())
            ),
        };
        CreatedSource {
            id: id.to_string(),
            kind,
            name: name.to_string(),
            hook_path: format!("/hooks/{id}"),
            hook_url: format!("{base}/hooks/{id}"),
            header_name: kind.header_name().to_string(),
            // The one place a secret leaves the engine: shown to the user once.
            token: token.map(|t| t.expose().clone()),
        }
    }

    /// The plaintext secret of a source, from the secret store.
    pub(crate) async fn source_secret(&self, id: &str) -> Result<Sensitive<String>, ApiError> {
        let secrets: Arc<dyn crate::secrets::SecretStore> = self.secrets.clone();
        let name = token_secret_name(id);
        let found = tokio::task::spawn_blocking(move || secrets.get(&name))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))??;
        found.ok_or_else(|| {
            ApiError::new(
                ErrorCode::SecretUnavailable,
                format!(
                    "The secret of source {id} is not in the {}. Rotate the source to get a new one{}.",
                    self.secrets.describe(),
                    if self.secrets.writable() {
                        String::new()
                    } else {
                        format!(", or set {}", crate::secrets::env_var_name(&token_secret_name(id)))
                    }
                ),
            )
        })
    }
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(ApiError::new(
            ErrorCode::InvalidArgument,
            format!("Give the source a name of 1 to {MAX_NAME} characters, e.g. 'Bird parts'."),
        ));
    }
    Ok(())
}
