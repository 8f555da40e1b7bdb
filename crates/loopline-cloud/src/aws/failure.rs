//! Turning an AWS SDK failure into a sentence that says what to fix. Split from the SDK types
//! so each explanation can be tested from the exact codes and texts AWS sends.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use loopline_core::{ApiError, AwsMode, ErrorCode};

use super::{Context, RawResponse};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// AWS answered with an error document.
    Service { status: u16 },
    /// No answer in time.
    Timeout,
    /// The request never got an answer: DNS, connection, TLS.
    Dispatch,
    /// An answer came, but not one the SDK could read (not AWS at that address?).
    Response,
    /// The request could not be built: typically no credentials could be loaded.
    Construction,
}

/// What is known about one failed call, with no SDK types in it.
#[derive(Debug, Clone)]
pub struct Failure {
    pub kind: FailureKind,
    pub code: Option<String>,
    pub message: Option<String>,
    /// The error and its sources, joined, lower-cased: for transport and credential errors.
    pub chain: String,
    /// Server time minus our time, when the answer carried a `Date` header.
    pub skew_ms: Option<i64>,
}

impl Failure {
    pub fn from_sdk<E, R>(err: &SdkError<E, R>, now_ms: i64) -> Failure
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: RawResponse + std::fmt::Debug,
    {
        let chain = error_chain(err);
        // The whole chain is for whoever runs with RUST_LOG=loopline=debug; it holds no secret
        // (the SDK never puts credentials in errors).
        tracing::debug!(target: "loopline::aws", %chain, "AWS call failed");
        match err {
            SdkError::ServiceError(se) => {
                let raw = se.raw();
                let status = raw.status_code();
                let skew_ms = raw
                    .date_header()
                    .and_then(|d| {
                        aws_smithy_types::DateTime::from_str(
                            &d,
                            aws_smithy_types::date_time::Format::HttpDate,
                        )
                        .ok()
                    })
                    .map(|t| t.to_millis().unwrap_or(now_ms) - now_ms);
                // Some AWS-compatible servers (moto among them) wrap query-protocol errors in
                // an extra <Errors> element the SDK does not look inside; read the body then.
                let body = raw.body_text().unwrap_or_default();
                let code = se
                    .err()
                    .code()
                    .map(str::to_string)
                    .or_else(|| xml_text(&body, "Code"));
                let message = se
                    .err()
                    .message()
                    .map(str::to_string)
                    .or_else(|| xml_text(&body, "Message"));
                Failure {
                    kind: FailureKind::Service { status },
                    code,
                    message,
                    chain,
                    skew_ms,
                }
            }
            SdkError::TimeoutError(_) => Failure::bare(FailureKind::Timeout, chain),
            SdkError::DispatchFailure(d) if d.is_timeout() => {
                Failure::bare(FailureKind::Timeout, chain)
            }
            SdkError::DispatchFailure(_) => Failure::bare(FailureKind::Dispatch, chain),
            SdkError::ResponseError(_) => Failure::bare(FailureKind::Response, chain),
            _ => Failure::bare(FailureKind::Construction, chain),
        }
    }

    /// A failure with no answer from AWS: only its kind and the error chain's text.
    pub fn bare(kind: FailureKind, chain: String) -> Failure {
        Failure {
            kind,
            code: None,
            message: None,
            chain,
            skew_ms: None,
        }
    }
}

/// The text of the first `<tag>…</tag>` in an XML error body.
fn xml_text(body: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{tag}>"))? + start;
    let text = body[start..end].trim();
    (!text.is_empty()).then(|| text.to_string())
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    // Debug output of the innermost errors names things Display hides (e.g. hyper's kind).
    text.push_str(&format!(" {err:?}"));
    text.to_lowercase()
}

fn minutes(ms: i64) -> String {
    let m = (ms.abs() as f64 / 60_000.0).round() as i64;
    if m == 1 {
        "1 minute".to_string()
    } else {
        format!("{m} minutes")
    }
}

fn clock_skew(ctx_skew: Option<i64>) -> ApiError {
    let how_far = match ctx_skew {
        Some(ms) if ms.abs() >= 60_000 => format!(
            " (by about {}: this computer is {})",
            minutes(ms),
            if ms > 0 { "behind" } else { "ahead" }
        ),
        _ => String::new(),
    };
    ApiError::new(
        ErrorCode::AwsClockSkew,
        format!(
            "AWS refused the request because this computer's clock is off{how_far}. AWS accepts signatures only within 5 minutes of its own time. Turn on automatic time (NTP) in your system settings, then verify again."
        ),
    )
}

/// AWS's own words, cut short and with nothing but printable text.
/// The action an AccessDenied names: "… is not authorized to perform: iam:CreateRole on
/// resource: …" → `iam:CreateRole`.
pub fn missing_permission(message: &str) -> Option<String> {
    let rest = message.split("to perform: ").nth(1)?;
    let action: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == ':' || *c == '-' || *c == '*')
        .collect();
    action.contains(':').then_some(action)
}

fn aws_words(f: &Failure) -> String {
    let words: String = f
        .message
        .as_deref()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(300)
        .collect();
    match (&f.code, words.is_empty()) {
        (Some(c), false) => format!("{c}: {words}"),
        (Some(c), true) => c.clone(),
        (None, false) => words,
        (None, true) => "no details".to_string(),
    }
}

/// The one place where AWS failures get their explanations.
pub fn classify(f: &Failure, ctx: &Context) -> ApiError {
    let who = ctx.credentials_phrase();
    let region = ctx.region.as_deref().unwrap_or("(none)");
    let fix_keys = match ctx.mode {
        AwsMode::Keys => "Create a new access key in the IAM console (Users › Security credentials) and enter it in Settings › Credentials, or with `loopline connect aws`.",
        AwsMode::Profile => "Fix the profile in ~/.aws/credentials or ~/.aws/config, or choose another profile.",
        AwsMode::DefaultChain => "Check the AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY variables, or store keys in Settings › Credentials.",
    };
    let code = f.code.as_deref().unwrap_or("");
    let message = f.message.as_deref().unwrap_or("").to_lowercase();
    match f.kind {
        FailureKind::Service { status } => match code {
            "InvalidClientTokenId" | "UnrecognizedClientException" | "InvalidAccessKeyId" => {
                ApiError::new(
                    ErrorCode::AwsInvalidKey,
                    format!(
                        "AWS does not recognise {who}: it is wrong, deleted or deactivated. {fix_keys} If the key is right, the region {region} may not be enabled for your account: enable it under Account › AWS Regions, or choose another region."
                    ),
                )
            }
            "SignatureDoesNotMatch"
                if message.contains("expired") || message.contains("not yet current") =>
            {
                clock_skew(f.skew_ms)
            }
            "SignatureDoesNotMatch" => ApiError::new(
                ErrorCode::AwsInvalidSecret,
                format!(
                    "The secret access key does not belong to {who}. Copy the secret that was shown when the key was created (it is shown only once); if it is lost, create a new key. {fix_keys}"
                ),
            ),
            "ExpiredToken" | "ExpiredTokenException" | "TokenRefreshRequired" => ApiError::new(
                ErrorCode::AwsExpired,
                match ctx.mode {
                    AwsMode::Profile => format!(
                        "The temporary credentials of {who} have expired. Run `aws sso login --profile {}` (or refresh them however your organization issues them), then verify again.",
                        ctx.profile.as_deref().unwrap_or("default")
                    ),
                    _ => "The session token has expired: temporary credentials last only hours. Get new ones (for example `aws sts get-session-token`, or your SSO portal) and enter the key, secret and session token again.".to_string(),
                },
            ),
            "RequestExpired" | "RequestTimeTooSkewed" | "RequestInTheFuture" => {
                clock_skew(f.skew_ms)
            }
            "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => ApiError::new(
                ErrorCode::AwsAccessDenied,
                match missing_permission(f.message.as_deref().unwrap_or("")) {
                    Some(action) => format!(
                        "AWS accepted {who} but refused this action ({}). The missing permission is {action}: ask your AWS administrator to allow it for this user or role.",
                        aws_words(f)
                    ),
                    None => format!(
                        "AWS accepted {who} but refused this action ({}). Ask your AWS administrator to allow it for this user or role.",
                        aws_words(f)
                    ),
                },
            ),
            "Throttling" | "ThrottlingException" | "RequestLimitExceeded" | "TooManyRequestsException"
            | "SlowDown" => ApiError::new(
                ErrorCode::AwsThrottled,
                "AWS is throttling requests from this account right now. Loopline retried; wait a minute and try again.",
            ),
            _ if f.skew_ms.is_some_and(|s| s.abs() > 5 * 60_000) && status == 403 => {
                clock_skew(f.skew_ms)
            }
            _ if status >= 500 => ApiError::new(
                ErrorCode::AwsUnavailable,
                format!(
                    "AWS answered with a server error (HTTP {status}, {}). Loopline retried; try again in a few minutes, or check the AWS Health Dashboard for {region}.",
                    aws_words(f)
                ),
            ),
            _ => ApiError::new(
                ErrorCode::AwsError,
                format!("AWS refused the request: {}.", aws_words(f)),
            ),
        },
        FailureKind::Timeout => ApiError::new(
            ErrorCode::AwsUnavailable,
            format!(
                "AWS did not answer in time (region {region}). Check your internet connection, proxy or VPN, then try again."
            ),
        ),
        // The SDK reports credentials it could not load as a dispatch failure.
        FailureKind::Dispatch if is_credentials_failure(&f.chain) => credentials_missing(f, ctx),
        FailureKind::Dispatch | FailureKind::Response => transport(f, ctx),
        FailureKind::Construction => credentials_missing(f, ctx),
    }
}

fn is_credentials_failure(chain: &str) -> bool {
    [
        "credentialsnotloaded",
        "credential provider",
        "no credentials",
        "providererror",
        "invalidconfiguration",
        "profile file",
    ]
    .iter()
    .any(|needle| chain.contains(needle))
}

fn transport(f: &Failure, ctx: &Context) -> ApiError {
    let region = ctx.region.as_deref().unwrap_or("(none)");
    let chain = &f.chain;
    if chain.contains("certificate")
        || chain.contains("tls")
        || chain.contains("ssl")
        || chain.contains("handshake")
    {
        return ApiError::new(
            ErrorCode::AwsTls,
            "The secure (TLS) connection to AWS failed: a proxy or antivirus may be intercepting HTTPS, or AWS_ENDPOINT_URL points to a server with an untrusted certificate. Check your network's proxy settings, or set AWS_CA_BUNDLE to your organization's certificate.",
        );
    }
    if chain.contains("dns")
        || chain.contains("lookup")
        || chain.contains("resolve")
        || chain.contains("name or service not known")
    {
        if !super::KNOWN_REGIONS.contains(&region) {
            return ApiError::new(
                ErrorCode::AwsBadRegion,
                format!(
                    "AWS has no endpoint for the region '{region}'. Check the region name: it is the one your SageMaker pipeline and bucket are in, like us-east-1 or eu-west-1."
                ),
            );
        }
        return ApiError::new(
            ErrorCode::AwsUnavailable,
            format!(
                "The AWS endpoint for {region} could not be looked up (DNS). Check your internet connection, DNS or VPN, then try again."
            ),
        );
    }
    if f.kind == FailureKind::Response {
        return ApiError::new(
            ErrorCode::AwsUnavailable,
            "Something answered at the AWS endpoint, but not like AWS. If AWS_ENDPOINT_URL is set, check that it points to AWS or a compatible service.",
        );
    }
    ApiError::new(
        ErrorCode::AwsUnavailable,
        format!(
            "Could not reach AWS (region {region}): the connection failed. Check your internet connection, proxy or VPN{}.",
            if std::env::var_os("AWS_ENDPOINT_URL").is_some() {
                ", and that the service at AWS_ENDPOINT_URL is running"
            } else {
                ""
            }
        ),
    )
}

fn credentials_missing(f: &Failure, ctx: &Context) -> ApiError {
    let chain = &f.chain;
    let profile = ctx.profile.as_deref().unwrap_or("default");
    if chain.contains("sso")
        && ["expired", "sso token", "sso_session", "token cache"]
            .iter()
            .any(|n| chain.contains(n))
    {
        return ApiError::new(
            ErrorCode::AwsExpired,
            format!(
                "The SSO login for the profile '{profile}' has expired or was never made. Run `aws sso login --profile {profile}`, then verify again."
            ),
        );
    }
    if ctx.mode == AwsMode::Profile
        && (chain.contains("not defined")
            || chain.contains("could not find")
            || chain.contains("profile file")
            || chain.contains("no profile")
            || chain.contains("profilefile"))
    {
        return ApiError::new(
            ErrorCode::AwsProfileMissing,
            format!(
                "There is no AWS profile named '{profile}' in ~/.aws/config or ~/.aws/credentials (or AWS_CONFIG_FILE). Check the name with `aws configure list-profiles`."
            ),
        );
    }
    ApiError::new(
        ErrorCode::AwsNoCredentials,
        match ctx.mode {
            AwsMode::Profile => format!(
                "The AWS profile '{profile}' gave no credentials. Run `aws configure --profile {profile}` (or `aws sso login --profile {profile}`), then verify again."
            ),
            _ => "No AWS credentials were found. Enter an access key in Settings › Credentials (or `loopline connect aws`), choose an AWS profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.".to_string(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_ctx() -> Context {
        Context {
            mode: AwsMode::Keys,
            profile: None,
            region: Some("eu-west-1".into()),
            key_hint: Some("…WXYZ".into()),
        }
    }

    fn service(status: u16, code: &str, message: &str, skew_ms: Option<i64>) -> Failure {
        Failure {
            kind: FailureKind::Service { status },
            code: Some(code.into()),
            message: Some(message.into()),
            chain: String::new(),
            skew_ms,
        }
    }

    // The codes and messages below are the ones STS sends (AWS documentation, "Common Errors").
    #[test]
    fn unknown_key_names_the_key_by_its_last_four_and_the_region() {
        let e = classify(
            &service(
                403,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
                None,
            ),
            &keys_ctx(),
        );
        assert_eq!(e.code, ErrorCode::AwsInvalidKey);
        assert!(e.message.contains("…WXYZ"), "{}", e.message);
        assert!(e.message.contains("eu-west-1"), "{}", e.message);
    }

    #[test]
    fn wrong_secret_and_expired_signature_are_told_apart() {
        let wrong = classify(
            &service(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.", None),
            &keys_ctx(),
        );
        assert_eq!(wrong.code, ErrorCode::AwsInvalidSecret);
        let skewed = classify(
            &service(403, "SignatureDoesNotMatch", "Signature expired: 20261123T101500Z is now earlier than 20261123T102500Z (20261123T104000Z - 15 min.)", Some(25 * 60_000)),
            &keys_ctx(),
        );
        assert_eq!(skewed.code, ErrorCode::AwsClockSkew);
        assert!(skewed.message.contains("25 minutes"), "{}", skewed.message);
        assert!(skewed.message.contains("behind"), "{}", skewed.message);
    }

    #[test]
    fn expired_session_tokens_say_how_to_renew() {
        let e = classify(
            &service(
                400,
                "ExpiredToken",
                "The security token included in the request is expired",
                None,
            ),
            &keys_ctx(),
        );
        assert_eq!(e.code, ErrorCode::AwsExpired);
        let mut ctx = keys_ctx();
        ctx.mode = AwsMode::Profile;
        ctx.profile = Some("ml".into());
        let e = classify(
            &service(
                400,
                "ExpiredToken",
                "The security token included in the request is expired",
                None,
            ),
            &ctx,
        );
        assert!(
            e.message.contains("aws sso login --profile ml"),
            "{}",
            e.message
        );
    }

    #[test]
    fn request_expired_is_clock_skew() {
        let e = classify(
            &service(
                400,
                "RequestExpired",
                "Request has expired.",
                Some(-7 * 60_000),
            ),
            &keys_ctx(),
        );
        assert_eq!(e.code, ErrorCode::AwsClockSkew);
        assert!(e.message.contains("ahead"), "{}", e.message);
    }

    #[test]
    fn codes_are_found_inside_an_extra_errors_element() {
        let body = "<?xml version=\"1.0\"?><ErrorResponse><Errors><Error><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></Errors></ErrorResponse>";
        assert_eq!(
            xml_text(body, "Code").as_deref(),
            Some("InvalidClientTokenId")
        );
        assert_eq!(
            xml_text(body, "Message").as_deref(),
            Some("The security token included in the request is invalid.")
        );
        assert_eq!(xml_text("<Code></Code>", "Code"), None);
    }

    #[test]
    fn dns_failure_points_at_the_region_and_tls_at_the_proxy() {
        let dns = Failure {
            kind: FailureKind::Dispatch,
            code: None,
            message: None,
            chain: "dispatch failure: io error: dns error: failed to lookup address information"
                .into(),
            skew_ms: None,
        };
        assert_eq!(classify(&dns, &keys_ctx()).code, ErrorCode::AwsUnavailable);
        let mut typo = keys_ctx();
        typo.region = Some("eu-wast-1".into());
        let e = classify(&dns, &typo);
        assert_eq!(e.code, ErrorCode::AwsBadRegion);
        assert!(e.message.contains("eu-wast-1"), "{}", e.message);
        let tls = Failure {
            chain: "dispatch failure: invalid peer certificate: unknownissuer".into(),
            ..dns.clone()
        };
        assert_eq!(classify(&tls, &keys_ctx()).code, ErrorCode::AwsTls);
        let refused = Failure {
            chain: "dispatch failure: io error: connection refused".into(),
            ..dns
        };
        assert_eq!(
            classify(&refused, &keys_ctx()).code,
            ErrorCode::AwsUnavailable
        );
    }

    #[test]
    fn throttling_and_server_errors() {
        let e = classify(
            &service(400, "Throttling", "Rate exceeded", None),
            &keys_ctx(),
        );
        assert_eq!(e.code, ErrorCode::AwsThrottled);
        let e = classify(&service(503, "ServiceUnavailable", "", None), &keys_ctx());
        assert_eq!(e.code, ErrorCode::AwsUnavailable);
    }

    #[test]
    fn missing_profile_and_missing_credentials() {
        let mut ctx = keys_ctx();
        ctx.mode = AwsMode::Profile;
        ctx.profile = Some("nope".into());
        let f = Failure {
            kind: FailureKind::Construction,
            code: None,
            message: None,
            chain: "failed to construct request: no credentials: profile `nope` was not defined"
                .into(),
            skew_ms: None,
        };
        assert_eq!(classify(&f, &ctx).code, ErrorCode::AwsProfileMissing);
        ctx.mode = AwsMode::DefaultChain;
        ctx.profile = None;
        let f = Failure {
            chain: "failed to construct request: no credentials in the property bag".into(),
            ..f
        };
        assert_eq!(classify(&f, &ctx).code, ErrorCode::AwsNoCredentials);
    }

    #[test]
    fn an_access_denied_names_the_missing_permission() {
        let m = "User: arn:aws:iam::123456789012:user/ada is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::123456789012:role/X because no identity-based policy allows the iam:CreateRole action";
        assert_eq!(
            super::missing_permission(m).as_deref(),
            Some("iam:CreateRole")
        );
        assert_eq!(super::missing_permission("Access Denied"), None);
    }
}
