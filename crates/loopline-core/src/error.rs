use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Stable error codes. The UI and scripts branch on these, never on message text,
/// so a code, once shipped, keeps its meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The database was written by a newer Loopline; we refuse to touch it.
    DbNewerSchema,
    /// The database file is not a SQLite database, or is damaged.
    DbCorrupt,
    /// Another program holds a lock on the database.
    DbLocked,
    /// The database (or its folder) cannot be opened or created.
    DbOpenFailed,
    /// A migration failed to apply.
    DbMigrationFailed,
    /// A query failed for a reason not covered above.
    DbError,
    /// Another process (the app, `loopline serve`, a running command) has the database open,
    /// so it cannot be replaced now.
    DbInUse,
    /// No backup that passes its check exists to restore from.
    NoBackup,
    /// The data directory cannot be found or created.
    DataDirUnavailable,
    /// The listen port is taken by another program.
    PortInUse,
    /// A non-loopback listen address was asked for without `--public`.
    ListenNotLoopback,
    /// The listen address could not be parsed or bound.
    ListenInvalid,
    /// The engine could not start, so nothing else can run.
    EngineUnavailable,
    /// No source has this id (the hook URL is wrong, or the source was removed).
    SourceNotFound,
    /// The request's secret is missing or wrong.
    Unauthorized,
    /// The body is over the receiver's size limit.
    PayloadTooLarge,
    /// The body is not JSON where JSON is required.
    UnsupportedMediaType,
    /// The body is not valid JSON.
    MalformedJson,
    /// The request's body could not be read (a broken chunked encoding, a body cut short).
    MalformedBody,
    /// Too many requests for one source; try again later.
    RateLimited,
    /// The store cannot write right now; nothing was acknowledged.
    StoreUnavailable,
    /// A secret Loopline needs is not in the secret store.
    SecretUnavailable,
    /// The OS keychain cannot be reached.
    KeychainUnavailable,
    /// No event has this id.
    EventNotFound,
    /// Label Studio refused the token.
    LsUnauthorized,
    /// Label Studio no longer accepts legacy tokens for this organization.
    LsLegacyTokensDisabled,
    /// Label Studio could not be reached, or did not look like Label Studio.
    LsUnavailable,
    /// AWS does not know the access key id (or the region is not enabled for the account).
    AwsInvalidKey,
    /// The secret access key does not match the access key id.
    AwsInvalidSecret,
    /// The session token or SSO login has expired.
    AwsExpired,
    /// This computer's clock is too far from AWS's for a signature to be accepted.
    AwsClockSkew,
    /// The region is not a region AWS knows, or its endpoint cannot be reached.
    AwsBadRegion,
    /// No region is configured.
    AwsNoRegion,
    /// No AWS credentials were found (no keys stored, no profile, nothing in the default chain).
    AwsNoCredentials,
    /// The named AWS profile is not in ~/.aws/config or ~/.aws/credentials.
    AwsProfileMissing,
    /// The credentials are valid but not allowed to do this.
    AwsAccessDenied,
    /// AWS is throttling requests; try again shortly.
    AwsThrottled,
    /// AWS could not be reached, or answered with a server error.
    AwsUnavailable,
    /// The TLS connection to AWS (or the configured endpoint) failed.
    AwsTls,
    /// AWS refused the request for a reason not covered above; the message carries AWS's own words.
    AwsError,
    /// No Label Studio connection has been set up yet.
    NotConnected,
    /// A new rule's starting count could not be read from Label Studio; the user gives it.
    StartCountUnknown,
    /// An argument was malformed.
    InvalidArgument,
    /// Something was asked for that does not exist.
    NotFound,
    /// A globally unique name (an S3 bucket) belongs to someone else.
    NameTaken,
    /// The user stopped the work (an upload cancelled); what was done is kept.
    Cancelled,
    /// The same work is already under way (a loop check, in this or another Loopline
    /// process on the data directory); wait for it to end.
    AlreadyRunning,
    /// Something Loopline waited for did not happen in time; the message says what, and
    /// what to check.
    TimedOut,
    /// The account's quota for what was asked (a training instance type) is zero.
    NoQuota,
    /// The pipeline has no model package group yet: the training setup creates it.
    NoModelGroup,
    /// Label Studio's SSRF protection refused a private or loopback address.
    LsAddressRefused,
    /// Label Studio could not use an S3 storage (its reason may be hidden).
    LsStorageFailed,
    /// No tunnel is configured (`loopline tunnel set …`).
    TunnelNotConfigured,
    /// The tunnel's provider could not be started (binary missing, refused configuration).
    TunnelStartFailed,
    /// The public URL did not reach this receiver.
    TunnelUnreachable,
    /// The provider refused to create a tunnel for now (rate limit, session limit).
    TunnelRateLimited,
    /// The provider refused the credentials (authtoken, tunnel token, bore secret).
    TunnelUnauthorized,
    /// An export target (a REST or GraphQL endpoint) refused the request; its words are kept.
    TargetRejected,
    /// An export target could not be reached, or answered with a server error.
    TargetUnavailable,
    /// The login entry (start at login) could not be written or removed.
    AutostartFailed,
    /// Another Loopline already receives the project's annotations; a second automation that
    /// starts the pipeline would start a run on each laptop.
    SharedProject,
    /// A bug: something that should not happen did.
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::DbNewerSchema => "db_newer_schema",
            ErrorCode::DbCorrupt => "db_corrupt",
            ErrorCode::DbLocked => "db_locked",
            ErrorCode::DbOpenFailed => "db_open_failed",
            ErrorCode::DbMigrationFailed => "db_migration_failed",
            ErrorCode::DbError => "db_error",
            ErrorCode::DbInUse => "db_in_use",
            ErrorCode::NoBackup => "no_backup",
            ErrorCode::DataDirUnavailable => "data_dir_unavailable",
            ErrorCode::PortInUse => "port_in_use",
            ErrorCode::ListenNotLoopback => "listen_not_loopback",
            ErrorCode::ListenInvalid => "listen_invalid",
            ErrorCode::EngineUnavailable => "engine_unavailable",
            ErrorCode::SourceNotFound => "source_not_found",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::MalformedBody => "malformed_body",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::StoreUnavailable => "store_unavailable",
            ErrorCode::SecretUnavailable => "secret_unavailable",
            ErrorCode::KeychainUnavailable => "keychain_unavailable",
            ErrorCode::EventNotFound => "event_not_found",
            ErrorCode::LsUnauthorized => "ls_unauthorized",
            ErrorCode::LsLegacyTokensDisabled => "ls_legacy_tokens_disabled",
            ErrorCode::LsUnavailable => "ls_unavailable",
            ErrorCode::AwsInvalidKey => "aws_invalid_key",
            ErrorCode::AwsInvalidSecret => "aws_invalid_secret",
            ErrorCode::AwsExpired => "aws_expired",
            ErrorCode::AwsClockSkew => "aws_clock_skew",
            ErrorCode::AwsBadRegion => "aws_bad_region",
            ErrorCode::AwsNoRegion => "aws_no_region",
            ErrorCode::AwsNoCredentials => "aws_no_credentials",
            ErrorCode::AwsProfileMissing => "aws_profile_missing",
            ErrorCode::AwsAccessDenied => "aws_access_denied",
            ErrorCode::AwsThrottled => "aws_throttled",
            ErrorCode::AwsUnavailable => "aws_unavailable",
            ErrorCode::AwsTls => "aws_tls",
            ErrorCode::AwsError => "aws_error",
            ErrorCode::NotConnected => "not_connected",
            ErrorCode::StartCountUnknown => "start_count_unknown",
            ErrorCode::InvalidArgument => "invalid_argument",
            ErrorCode::NotFound => "not_found",
            ErrorCode::NameTaken => "name_taken",
            ErrorCode::Cancelled => "cancelled",
            ErrorCode::AlreadyRunning => "already_running",
            ErrorCode::TimedOut => "timed_out",
            ErrorCode::NoQuota => "no_quota",
            ErrorCode::NoModelGroup => "no_model_group",
            ErrorCode::LsAddressRefused => "ls_address_refused",
            ErrorCode::LsStorageFailed => "ls_storage_failed",
            ErrorCode::TunnelNotConfigured => "tunnel_not_configured",
            ErrorCode::TunnelStartFailed => "tunnel_start_failed",
            ErrorCode::TunnelUnreachable => "tunnel_unreachable",
            ErrorCode::TunnelRateLimited => "tunnel_rate_limited",
            ErrorCode::TunnelUnauthorized => "tunnel_unauthorized",
            ErrorCode::TargetRejected => "target_rejected",
            ErrorCode::TargetUnavailable => "target_unavailable",
            ErrorCode::AutostartFailed => "autostart_failed",
            ErrorCode::SharedProject => "shared_project",
            ErrorCode::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The one error shape that crosses IPC, the CLI and HTTP: a stable code and a sentence
/// that tells the user what happened and what to do. Messages never carry secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_code_and_message() {
        let e = ApiError::new(ErrorCode::PortInUse, "Port 8787 is taken.");
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "port_in_use", "message": "Port 8787 is taken."})
        );
    }

    #[test]
    fn as_str_matches_serde_name() {
        for code in [
            ErrorCode::DbNewerSchema,
            ErrorCode::DbCorrupt,
            ErrorCode::DbLocked,
            ErrorCode::DbOpenFailed,
            ErrorCode::DbMigrationFailed,
            ErrorCode::DbError,
            ErrorCode::DbInUse,
            ErrorCode::NoBackup,
            ErrorCode::DataDirUnavailable,
            ErrorCode::PortInUse,
            ErrorCode::ListenNotLoopback,
            ErrorCode::ListenInvalid,
            ErrorCode::EngineUnavailable,
            ErrorCode::SourceNotFound,
            ErrorCode::NoModelGroup,
            ErrorCode::Unauthorized,
            ErrorCode::PayloadTooLarge,
            ErrorCode::UnsupportedMediaType,
            ErrorCode::MalformedJson,
            ErrorCode::MalformedBody,
            ErrorCode::RateLimited,
            ErrorCode::StoreUnavailable,
            ErrorCode::SecretUnavailable,
            ErrorCode::KeychainUnavailable,
            ErrorCode::EventNotFound,
            ErrorCode::LsUnauthorized,
            ErrorCode::LsLegacyTokensDisabled,
            ErrorCode::LsUnavailable,
            ErrorCode::NotConnected,
            ErrorCode::StartCountUnknown,
            ErrorCode::InvalidArgument,
            ErrorCode::NotFound,
            ErrorCode::NameTaken,
            ErrorCode::Cancelled,
            ErrorCode::AlreadyRunning,
            ErrorCode::TimedOut,
            ErrorCode::NoQuota,
            ErrorCode::LsAddressRefused,
            ErrorCode::LsStorageFailed,
            ErrorCode::TunnelNotConfigured,
            ErrorCode::TunnelStartFailed,
            ErrorCode::TunnelUnreachable,
            ErrorCode::TunnelRateLimited,
            ErrorCode::TunnelUnauthorized,
            ErrorCode::TargetRejected,
            ErrorCode::TargetUnavailable,
            ErrorCode::AutostartFailed,
            ErrorCode::SharedProject,
            ErrorCode::Internal,
        ] {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, serde_json::Value::String(code.as_str().to_string()));
        }
    }
}
