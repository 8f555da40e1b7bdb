//! AWS through the official SDK. Credentials come from one of three places (stored keys, a
//! named profile, or the SDK's default chain), and every failure is turned into a coded error
//! that says what to fix. The SDK's clock is Loopline's `Clock`, so request signing happens
//! at the time tests pass in.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_smithy_async::time::{SharedTimeSource, TimeSource};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use loopline_core::{ApiError, AwsIdentity, AwsMode, Clock, ErrorCode, Sensitive};

mod failure;
mod signed;

pub use failure::{classify, Failure, FailureKind};
pub use signed::{shared_http, xml_escape, xml_tag, xml_tags, xml_unescape, Answer, Signed};

/// Where the credentials come from.
#[derive(Clone)]
pub enum AwsAuth {
    Keys {
        access_key_id: Sensitive<String>,
        secret_access_key: Sensitive<String>,
        session_token: Option<Sensitive<String>>,
    },
    Profile(String),
    DefaultChain,
}

impl AwsAuth {
    pub fn mode(&self) -> AwsMode {
        match self {
            AwsAuth::Keys { .. } => AwsMode::Keys,
            AwsAuth::Profile(_) => AwsMode::Profile,
            AwsAuth::DefaultChain => AwsMode::DefaultChain,
        }
    }

    fn profile(&self) -> Option<&str> {
        match self {
            AwsAuth::Profile(p) => Some(p),
            _ => None,
        }
    }
}

/// What error messages may say about the credentials in use: never a secret, the key id
/// only as its last 4 characters.
#[derive(Debug, Clone)]
pub struct Context {
    pub mode: AwsMode,
    pub profile: Option<String>,
    pub region: Option<String>,
    pub key_hint: Option<String>,
}

impl Context {
    fn of(auth: &AwsAuth, region: Option<&str>) -> Context {
        Context {
            mode: auth.mode(),
            profile: auth.profile().map(str::to_string),
            region: region.map(str::to_string),
            key_hint: match auth {
                AwsAuth::Keys { access_key_id, .. } => Some(last4(access_key_id.expose())),
                _ => None,
            },
        }
    }

    /// "the access key …ABCD", "the profile 'ml'", "the default credential chain".
    pub fn credentials_phrase(&self) -> String {
        match (self.mode, &self.key_hint, &self.profile) {
            (AwsMode::Keys, Some(h), _) => format!("the access key {h}"),
            (AwsMode::Profile, _, Some(p)) => format!("the profile '{p}'"),
            _ => "the access key from the AWS_* variables or the default profile".to_string(),
        }
    }
}

/// `…ABCD`: enough to tell two keys apart, never enough to use one.
pub fn last4(value: &str) -> String {
    let chars: Vec<char> = value.trim().chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("…{tail}")
}

/// AWS region names: `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`,
/// `us-isob-east-1`. Checked before any call so a typo gets a clear answer instead of a DNS
/// error.
pub fn is_region_name(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let lower = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase());
    let number = |s: &str| !s.is_empty() && s.len() <= 2 && s.chars().all(|c| c.is_ascii_digit());
    match parts.as_slice() {
        [area, direction, n] => area.len() == 2 && lower(area) && lower(direction) && number(n),
        [area, partition, direction, n] => {
            area.len() == 2 && lower(area) && lower(partition) && lower(direction) && number(n)
        }
        _ => false,
    }
}

/// The commercial, China and GovCloud regions known when this was written. A region outside
/// the list is still tried (AWS adds regions); the list only sharpens the explanation when
/// its endpoint cannot be found.
pub const KNOWN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

struct ClockTime(Arc<dyn Clock>);

impl std::fmt::Debug for ClockTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClockTime")
    }
}

impl TimeSource for ClockTime {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.0.now_ms().max(0) as u64)
    }
}

/// A ready SDK configuration and what messages may say about it. Cheap to clone (the SDK
/// shares its providers), so the engine caches one and hands out copies.
#[derive(Clone)]
pub struct Aws {
    config: SdkConfig,
    context: Context,
    clock: Arc<dyn Clock>,
}

impl Aws {
    /// Resolves the configuration. `region` overrides whatever the profile or environment
    /// says; without it the SDK's own lookup decides, and no region at all is an error.
    pub async fn load(
        auth: AwsAuth,
        region: Option<&str>,
        clock: Arc<dyn Clock>,
    ) -> Result<Aws, ApiError> {
        let mut context = Context::of(&auth, region);
        if let Some(r) = region {
            if !is_region_name(r) {
                return Err(ApiError::new(
                    ErrorCode::AwsBadRegion,
                    format!("'{r}' is not an AWS region name. Use one like us-east-1 or eu-west-1 (the region your SageMaker pipeline and bucket are in)."),
                ));
            }
        }
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .time_source(SharedTimeSource::new(ClockTime(clock.clone())))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_timeout(Duration::from_secs(30))
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(3));
        match &auth {
            AwsAuth::Keys {
                access_key_id,
                secret_access_key,
                session_token,
            } => {
                loader = loader.credentials_provider(Credentials::new(
                    access_key_id.expose().trim(),
                    secret_access_key.expose().trim(),
                    session_token
                        .as_ref()
                        .map(|t| t.expose().trim().to_string()),
                    None,
                    "loopline-keychain",
                ));
            }
            AwsAuth::Profile(name) => loader = loader.profile_name(name),
            AwsAuth::DefaultChain => {}
        }
        if let Some(r) = region {
            loader = loader.region(Region::new(r.to_string()));
        }
        let config = loader.load().await;
        let Some(resolved) = config.region().map(|r| r.to_string()) else {
            return Err(ApiError::new(
                ErrorCode::AwsNoRegion,
                match &auth {
                    AwsAuth::Profile(p) => format!(
                        "The profile '{p}' names no region. Choose a region in Settings › Credentials, or add `region = …` to the profile in ~/.aws/config."
                    ),
                    _ => "No AWS region is set. Choose the region your SageMaker pipeline runs in (Settings › Credentials, or --region), or set AWS_REGION.".to_string(),
                },
            ));
        };
        if !is_region_name(&resolved) {
            return Err(ApiError::new(
                ErrorCode::AwsBadRegion,
                format!("The region '{resolved}' (from the AWS profile or AWS_REGION) is not an AWS region name. Choose one like us-east-1 in Settings › Credentials, or fix the profile or variable."),
            ));
        }
        context.region = Some(resolved);
        Ok(Aws {
            config,
            context,
            clock,
        })
    }

    pub fn config(&self) -> &SdkConfig {
        &self.config
    }

    pub fn context(&self) -> &Context {
        &self.context
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn region(&self) -> &str {
        self.context.region.as_deref().unwrap_or_default()
    }

    /// STS GetCallerIdentity: which account and principal the credentials are.
    pub async fn verify(&self) -> Result<AwsIdentity, ApiError> {
        let client = aws_sdk_sts::Client::new(&self.config);
        let out = client
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| self.explain(e))?;
        Ok(AwsIdentity {
            account: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
            user_id: out.user_id().unwrap_or_default().to_string(),
            region: self.region().to_string(),
            mode: self.context.mode,
            profile: self.context.profile.clone(),
        })
    }

    /// Any SDK error, as a coded error that says what to fix.
    pub fn explain<E, R>(&self, err: SdkError<E, R>) -> ApiError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: RawResponse + std::fmt::Debug,
    {
        classify(&Failure::from_sdk(&err, self.clock.now_ms()), &self.context)
    }
}

/// What the explanations read from a raw response: its status, and its `Date` for telling
/// the user how far off their clock is.
pub trait RawResponse {
    fn status_code(&self) -> u16;
    fn date_header(&self) -> Option<String>;
    /// The body, when it is in memory (error bodies are).
    fn body_text(&self) -> Option<String>;
}

impl RawResponse for aws_smithy_runtime_api::http::Response {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }

    fn date_header(&self) -> Option<String> {
        self.headers().get("date").map(str::to_string)
    }

    fn body_text(&self) -> Option<String> {
        self.body()
            .bytes()
            .map(|b| String::from_utf8_lossy(&b[..b.len().min(4096)]).into_owned())
    }
}
