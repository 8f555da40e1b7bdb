use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Who sends a source's webhooks; decides how requests are authenticated and parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// Label Studio: a token Loopline generates, sent as the `X-Loopline-Token` header
    /// (or `Authorization: Bearer`).
    LabelStudio,
    /// Aquarium: the shared secret Aquarium generates, sent as `X-Aquarium-Secret`.
    Aquarium,
    /// Anything that signs with Standard Webhooks (`webhook-id`, `webhook-timestamp`,
    /// `webhook-signature`).
    Generic,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::LabelStudio => "label-studio",
            SourceKind::Aquarium => "aquarium",
            SourceKind::Generic => "generic",
        }
    }

    pub fn parse(s: &str) -> Option<SourceKind> {
        match s {
            "label-studio" | "label_studio" | "labelstudio" => Some(SourceKind::LabelStudio),
            "aquarium" => Some(SourceKind::Aquarium),
            "generic" => Some(SourceKind::Generic),
            _ => None,
        }
    }

    /// The header the sender must be configured with.
    pub fn header_name(self) -> &'static str {
        match self {
            SourceKind::LabelStudio => "X-Loopline-Token",
            SourceKind::Aquarium => "X-Aquarium-Secret",
            SourceKind::Generic => "webhook-signature",
        }
    }
}

/// A source as listed: never carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Source {
    pub id: String,
    pub kind: SourceKind,
    pub name: String,
    /// `/hooks/{id}`: append it to the receiver's (or the tunnel's) base URL.
    pub hook_path: String,
    pub header_name: String,
    pub created_at: String,
    /// While a rotation's grace period runs, the previous secret is accepted until then.
    pub previous_secret_valid_until: Option<String>,
    pub event_count: i64,
    pub last_event_at: Option<String>,
}

/// What `source add` and `source rotate` return. The token is shown this once; Loopline
/// keeps only its digest (and, for signing keys, the keychain keeps the key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CreatedSource {
    pub id: String,
    pub kind: SourceKind,
    pub name: String,
    pub hook_path: String,
    /// The full local URL, e.g. `http://127.0.0.1:8787/hooks/src_…`.
    pub hook_url: String,
    pub header_name: String,
    /// The new token or signing secret; `null` for Aquarium, whose secret the user supplied.
    pub token: Option<String>,
}
