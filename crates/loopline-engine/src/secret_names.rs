//! Named secrets behind `loopline secret set|list|delete` (and Settings › Credentials):
//! the values live in the secret store; only the names are kept in the database, because
//! the OS keychains cannot list what an app has filed.

use loopline_core::secret_names::AWS_SECRETS;
use loopline_core::{ApiError, ErrorCode, SecretInfo, Sensitive};

use crate::secret_cache::SECRETS_REVISION;
use crate::Engine;

fn check_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::InvalidArgument,
            format!("'{name}' is not a secret name. Use lower-case letters, digits, '-', '_' and '.', e.g. label-studio-token."),
        ))
    }
}

fn hint(value: &str) -> Option<String> {
    let chars: Vec<char> = value.chars().collect();
    (chars.len() >= 12).then(|| format!("…{}", chars[chars.len() - 4..].iter().collect::<String>()))
}

impl Engine {
    /// The names are rows of their own (`secret_names`): two secrets set at once (the app and
    /// the CLI) are both listed.
    async fn secret_names(&self) -> Result<Vec<String>, ApiError> {
        self.store.secret_names().await
    }

    /// One secret's value, off the async threads (keychains block on D-Bus or XPC).
    /// Served from memory while no process changed a secret since it was read (and for a
    /// minute at most: `secret_cache.rs`).
    pub(crate) async fn secret(&self, name: &str) -> Result<Option<Sensitive<String>>, ApiError> {
        let revision = self
            .store
            .setting(SECRETS_REVISION)
            .await?
            .unwrap_or_default();
        let now = self.clock.now_ms();
        if let Some(known) = self.secret_cache.get(&revision, name, now) {
            return Ok(known);
        }
        let secrets = self.secrets.clone();
        let n = name.to_string();
        let value = tokio::task::spawn_blocking(move || secrets.get(&n))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))??;
        self.secret_cache.put(&revision, name, value.clone(), now);
        Ok(value)
    }

    /// Deletes a secret if it is there; no error when it is not.
    pub(crate) async fn forget_secret(&self, name: &str) -> Result<(), ApiError> {
        if !self.secrets.writable() {
            return Ok(());
        }
        let secrets = self.secrets.clone();
        let n = name.to_string();
        tokio::task::spawn_blocking(move || secrets.delete(&n))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))??;
        self.store.keep_secret_name(name, false).await?;
        self.secret_changed(name).await
    }

    /// A secret changed: every process's remembered reads are stale, and for a stored AWS
    /// key the cached AWS configuration too.
    async fn secret_changed(&self, name: &str) -> Result<(), ApiError> {
        let mut b = [0u8; 8];
        self.entropy.fill(&mut b);
        let rev = format!("{}-{:016x}", self.clock.now_ms(), u64::from_le_bytes(b));
        self.store.set_setting(SECRETS_REVISION, &rev).await?;
        self.secret_cache.clear();
        if AWS_SECRETS.contains(&name) {
            self.aws_changed().await?;
        }
        Ok(())
    }

    /// Stores (or replaces) a secret. The value comes from stdin or the UI, never argv.
    pub async fn set_secret(
        &self,
        name: &str,
        value: Sensitive<String>,
    ) -> Result<SecretInfo, ApiError> {
        check_name(name)?;
        if value.expose().trim().is_empty() {
            return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                format!("The value for '{name}' is empty."),
            ));
        }
        let secrets = self.secrets.clone();
        let (n, v) = (
            name.to_string(),
            Sensitive::new(value.expose().trim().to_string()),
        );
        let shown = hint(v.expose());
        tokio::task::spawn_blocking(move || secrets.set(&n, &v))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))??;
        self.store.keep_secret_name(name, true).await?;
        self.secret_changed(name).await?;
        Ok(SecretInfo {
            name: name.to_string(),
            hint: shown,
            store: self.secrets.describe().to_string(),
        })
    }

    /// Every named secret that is really there, with a hint of its value.
    pub async fn list_secrets(&self) -> Result<Vec<SecretInfo>, ApiError> {
        let mut names = self.secret_names().await?;
        if !self.secrets.writable() {
            // The environment is the registry: every LOOPLINE_SECRET_* variable.
            names = std::env::vars()
                .filter_map(|(k, _)| {
                    k.strip_prefix("LOOPLINE_SECRET_")
                        .map(|n| n.to_ascii_lowercase().replace('_', "-"))
                })
                .collect();
            names.sort();
        }
        let secrets = self.secrets.clone();
        let store = self.secrets.describe().to_string();
        tokio::task::spawn_blocking(move || -> Result<Vec<SecretInfo>, ApiError> {
            let mut out = Vec::new();
            for name in names {
                if let Some(value) = secrets.get(&name)? {
                    out.push(SecretInfo {
                        hint: hint(value.expose()),
                        name,
                        store: store.clone(),
                    });
                }
            }
            Ok(out)
        })
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
    }

    pub async fn delete_secret(&self, name: &str) -> Result<(), ApiError> {
        check_name(name)?;
        let names = self.secret_names().await?;
        if !names.iter().any(|x| x == name) && self.secrets.writable() {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!(
                    "No secret named '{name}'. `loopline secret list` shows the names there are."
                ),
            ));
        }
        let secrets = self.secrets.clone();
        let n = name.to_string();
        tokio::task::spawn_blocking(move || secrets.delete(&n))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))??;
        self.store.keep_secret_name(name, false).await?;
        self.secret_changed(name).await
    }
}

#[cfg(test)]
mod tests {
    use super::{check_name, hint};

    #[test]
    fn hints_reveal_at_most_four_characters_of_long_values() {
        assert_eq!(hint("abcdefghijkl1234").as_deref(), Some("…1234"));
        assert_eq!(hint("short"), None);
    }

    #[test]
    fn names_are_plain() {
        assert!(check_name("label-studio-token").is_ok());
        assert!(check_name("aws.secret_key").is_ok());
        assert!(check_name("Bad Name").is_err());
        assert!(check_name("").is_err());
    }
}
