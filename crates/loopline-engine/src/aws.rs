//! Loopline's AWS credentials: `loopline connect aws`, `verify aws`, and Settings ›
//! Credentials. Keys go to the secret store; the mode, region, profile name and the key's
//! last 4 characters are settings (none of them is secret). With nothing configured, the
//! SDK's default chain decides, so the standard `AWS_*` variables work.

use loopline_cloud::aws::{last4, Aws, AwsAuth};
use loopline_core::{ApiError, AwsIdentity, AwsMode, AwsSettings, ErrorCode, Sensitive};

use crate::Engine;

const MODE: &str = "aws.mode";
const REGION: &str = "aws.region";
const PROFILE: &str = "aws.profile";
const KEY_HINT: &str = "aws.key_hint";
/// Bumped by every change to the AWS configuration (connect, disconnect, a stored key
/// rotated), by this process or another: the cached SDK configuration is rebuilt only then.
const REVISION: &str = "aws.revision";
pub use loopline_core::secret_names::{
    AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
};

/// What `connect aws` is given.
pub enum AwsCredentials {
    Keys {
        access_key_id: Sensitive<String>,
        secret_access_key: Sensitive<String>,
        session_token: Option<Sensitive<String>>,
    },
    Profile(String),
}

fn empty(what: &str) -> ApiError {
    ApiError::new(ErrorCode::InvalidArgument, format!("The {what} is empty."))
}

impl Engine {
    /// Verifies the credentials with STS first; nothing is stored unless they work.
    pub async fn connect_aws(
        &self,
        credentials: AwsCredentials,
        region: Option<&str>,
    ) -> Result<AwsIdentity, ApiError> {
        let region = region.map(str::trim).filter(|r| !r.is_empty());
        let auth = match credentials {
            AwsCredentials::Keys {
                access_key_id,
                secret_access_key,
                session_token,
            } => {
                if access_key_id.expose().trim().is_empty() {
                    return Err(empty("access key id"));
                }
                if secret_access_key.expose().trim().is_empty() {
                    return Err(empty("secret access key"));
                }
                AwsAuth::Keys {
                    access_key_id,
                    secret_access_key,
                    session_token: session_token.filter(|t| !t.expose().trim().is_empty()),
                }
            }
            AwsCredentials::Profile(p) if p.trim().is_empty() => return Err(empty("profile name")),
            AwsCredentials::Profile(p) => AwsAuth::Profile(p.trim().to_string()),
        };
        if matches!(auth, AwsAuth::Keys { .. }) {
            self.require_writable_secrets()?;
        }
        let identity = Aws::load(auth.clone(), region, self.clock.clone())
            .await?
            .verify()
            .await?;
        match auth {
            AwsAuth::Keys {
                access_key_id,
                secret_access_key,
                session_token,
            } => {
                let hint = last4(access_key_id.expose());
                self.set_secret(AWS_ACCESS_KEY_ID, access_key_id).await?;
                self.set_secret(AWS_SECRET_ACCESS_KEY, secret_access_key)
                    .await?;
                match session_token {
                    Some(t) => {
                        self.set_secret(AWS_SESSION_TOKEN, t).await?;
                    }
                    None => self.forget_secret(AWS_SESSION_TOKEN).await?,
                }
                self.store.set_setting(MODE, "keys").await?;
                self.store.set_setting(KEY_HINT, &hint).await?;
                self.store.delete_setting(PROFILE).await?;
            }
            AwsAuth::Profile(p) => {
                // A profile replaces stored keys: nothing stale stays in the keychain.
                self.forget_aws_keys().await?;
                self.store.set_setting(MODE, "profile").await?;
                self.store.set_setting(PROFILE, &p).await?;
            }
            AwsAuth::DefaultChain => {}
        }
        match region {
            Some(r) => self.store.set_setting(REGION, r).await?,
            None => self.store.delete_setting(REGION).await?,
        }
        self.aws_changed().await?;
        Ok(identity)
    }

    /// Forgets the stored keys or profile and region: the default chain applies again.
    pub async fn disconnect_aws(&self) -> Result<(), ApiError> {
        self.forget_aws_keys().await?;
        for key in [MODE, REGION, PROFILE, KEY_HINT] {
            self.store.delete_setting(key).await?;
        }
        self.aws_changed().await
    }

    async fn forget_aws_keys(&self) -> Result<(), ApiError> {
        for name in [AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN] {
            self.forget_secret(name).await?;
        }
        self.store.delete_setting(KEY_HINT).await
    }

    fn require_writable_secrets(&self) -> Result<(), ApiError> {
        if self.secrets.writable() {
            return Ok(());
        }
        Err(ApiError::new(
            ErrorCode::InvalidArgument,
            "Secrets come from the environment (--secrets env), which Loopline never writes. Set LOOPLINE_SECRET_AWS_ACCESS_KEY_ID and LOOPLINE_SECRET_AWS_SECRET_ACCESS_KEY instead, or use the keychain.",
        ))
    }

    /// What is configured, without any secret.
    pub async fn aws_settings(&self) -> Result<AwsSettings, ApiError> {
        let region = self.store.setting(REGION).await?;
        let mode = self.store.setting(MODE).await?;
        if mode.as_deref() == Some("profile") {
            return Ok(AwsSettings {
                mode: AwsMode::Profile,
                region,
                profile: self.store.setting(PROFILE).await?,
                access_key_hint: None,
                has_session_token: false,
            });
        }
        let key_id = self.secret(AWS_ACCESS_KEY_ID).await?;
        let has_secret = self.secret(AWS_SECRET_ACCESS_KEY).await?.is_some();
        Ok(match key_id {
            Some(id) if has_secret => AwsSettings {
                mode: AwsMode::Keys,
                region,
                profile: None,
                access_key_hint: Some(last4(id.expose())),
                has_session_token: self.secret(AWS_SESSION_TOKEN).await?.is_some(),
            },
            _ => AwsSettings {
                mode: AwsMode::DefaultChain,
                region,
                profile: None,
                access_key_hint: None,
                has_session_token: false,
            },
        })
    }

    /// Marks the cached AWS configuration stale, here and in every other process on this
    /// data directory.
    pub(crate) async fn aws_changed(&self) -> Result<(), ApiError> {
        let mut b = [0u8; 8];
        self.entropy.fill(&mut b);
        let rev = format!("{}-{:016x}", self.clock.now_ms(), u64::from_le_bytes(b));
        self.store.set_setting(REVISION, &rev).await?;
        *self.aws_cache.lock().await = None;
        Ok(())
    }

    /// The AWS configuration every AWS call goes through. Built once and cached: building it
    /// reads the keychain up to six times (D-Bus round trips) and reloads the SDK's config,
    /// which the run monitor would otherwise do every second. One settings read tells
    /// whether anything changed since.
    pub async fn aws(&self) -> Result<Aws, ApiError> {
        let revision = self.store.setting(REVISION).await?.unwrap_or_default();
        let mut cache = self.aws_cache.lock().await;
        if let Some((rev, aws)) = cache.as_ref() {
            if *rev == revision {
                return Ok(aws.clone());
            }
        }
        let aws = self.load_aws().await?;
        *cache = Some((revision, aws.clone()));
        self.aws_loads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(aws)
    }

    /// How many times the AWS configuration was built (the cache's misses), for tests.
    pub fn aws_config_loads(&self) -> u64 {
        self.aws_loads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The AWS configuration with the region the setup names, whatever the connection's
    /// own region is (a bucket is created where the user says). Not cached: setup is rare.
    pub(crate) async fn aws_in(&self, region: &str) -> Result<Aws, ApiError> {
        let cached = self.aws().await;
        match cached {
            Ok(aws) if aws.region() == region => Ok(aws),
            _ => self.load_aws_in(Some(region)).await,
        }
    }

    async fn load_aws(&self) -> Result<Aws, ApiError> {
        self.load_aws_in(None).await
    }

    async fn load_aws_in(&self, region: Option<&str>) -> Result<Aws, ApiError> {
        let settings = self.aws_settings().await?;
        let auth = match settings.mode {
            AwsMode::Profile => AwsAuth::Profile(settings.profile.unwrap_or_default()),
            AwsMode::Keys => {
                let missing = || {
                    ApiError::new(
                        ErrorCode::SecretUnavailable,
                        "The AWS key vanished from the secret store while it was being read. Enter it again in Settings › Credentials.",
                    )
                };
                AwsAuth::Keys {
                    access_key_id: self.secret(AWS_ACCESS_KEY_ID).await?.ok_or_else(missing)?,
                    secret_access_key: self
                        .secret(AWS_SECRET_ACCESS_KEY)
                        .await?
                        .ok_or_else(missing)?,
                    session_token: self.secret(AWS_SESSION_TOKEN).await?,
                }
            }
            AwsMode::DefaultChain => AwsAuth::DefaultChain,
        };
        Aws::load(
            auth,
            region.or(settings.region.as_deref()),
            self.clock.clone(),
        )
        .await
    }

    /// STS GetCallerIdentity with whatever is configured.
    pub async fn verify_aws(&self) -> Result<AwsIdentity, ApiError> {
        self.aws().await?.verify().await
    }
}
