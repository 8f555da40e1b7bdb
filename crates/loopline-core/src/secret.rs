use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A stored secret as listed: its name and, for long values, the last 4 characters so a
/// person can tell two keys apart. Never the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SecretInfo {
    pub name: String,
    /// `…abcd`, only for values of 12 characters or more.
    pub hint: Option<String>,
    /// "keychain" or "environment".
    pub store: String,
}
