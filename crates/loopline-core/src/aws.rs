use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Where Loopline's AWS credentials come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AwsMode {
    /// An access key (and optional session token) kept in the OS keychain.
    Keys,
    /// A named profile from `~/.aws/config`, resolved by the SDK (SSO included); nothing
    /// secret is stored by Loopline.
    Profile,
    /// Nothing configured in Loopline: the SDK's default chain (the `AWS_*` variables,
    /// the default profile, instance roles).
    DefaultChain,
}

/// The AWS settings as the UI and `loopline verify aws` show them. Never a secret: the key
/// id appears only as its last 4 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AwsSettings {
    pub mode: AwsMode,
    pub region: Option<String>,
    pub profile: Option<String>,
    /// `…ABCD`, the last 4 characters of the access key id (keys mode only).
    pub access_key_hint: Option<String>,
    pub has_session_token: bool,
}

/// Who the AWS credentials belong to, from STS GetCallerIdentity: what Verify shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AwsIdentity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
    pub region: String,
    pub mode: AwsMode,
    pub profile: Option<String>,
}
