use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Which kind of Label Studio token the user pasted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// Sent as `Authorization: Token …`; works only while the organization allows it.
    Legacy,
    /// A JWT refresh token, exchanged for 5-minute access tokens sent as `Bearer …`.
    PersonalAccessToken,
}

/// Who a Label Studio token belongs to and what the server runs: what Verify shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LabelStudioIdentity {
    pub url: String,
    pub email: String,
    pub username: Option<String>,
    pub version: Option<String>,
    pub token_kind: TokenKind,
}
