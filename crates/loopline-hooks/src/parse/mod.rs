//! Payload parsers. They read only what the timeline and the rules need, leniently: a
//! field of an unexpected shape is skipped, never an error, and an unrecognised payload is
//! kept as `unknown`. The raw body is always stored as it came.

mod aquarium;
mod fields;
mod generic;
mod label_studio;
mod search;

use loopline_core::EventKind;
use serde::Deserialize;
use serde_json::value::RawValue;

pub use fields::humanize_action;
pub use search::search_text;

/// What a parser found in a payload.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub kind: Option<EventKind>,
    pub action: Option<String>,
    pub project_id: Option<i64>,
    pub project_name: Option<String>,
    pub summary: String,
    pub annotation_ids: Vec<i64>,
    pub task_ids: Vec<i64>,
    /// Label Studio's project counters, for retrain rules.
    pub useful_annotation_number: Option<i64>,
    pub total_annotations_number: Option<i64>,
    /// Aquarium's issue id.
    pub issue_id: Option<String>,
}

impl Parsed {
    pub fn kind(&self) -> EventKind {
        self.kind.unwrap_or(EventKind::Unknown)
    }

    /// The parser's findings as stored alongside the event (`parsed_json`).
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "annotation_ids": self.annotation_ids,
            "task_ids": self.task_ids,
            "useful_annotation_number": self.useful_annotation_number,
            "total_annotations_number": self.total_annotations_number,
            "issue_id": self.issue_id,
        })
        .to_string()
    }
}

/// The top level of any JSON object we may recognise. Values stay raw (borrowed slices of
/// the body) and are parsed only when needed, so a 5 KB payload costs one pass.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct Envelope<'a> {
    #[serde(borrow)]
    pub action: Option<&'a RawValue>,
    #[serde(borrow)]
    pub event: Option<&'a RawValue>,
    #[serde(borrow, rename = "type")]
    pub type_: Option<&'a RawValue>,
    #[serde(borrow)]
    pub project: Option<&'a RawValue>,
    #[serde(borrow)]
    pub annotation: Option<&'a RawValue>,
    #[serde(borrow)]
    pub annotations: Option<&'a RawValue>,
    #[serde(borrow)]
    pub task: Option<&'a RawValue>,
    #[serde(borrow)]
    pub tasks: Option<&'a RawValue>,
    #[serde(borrow)]
    pub issue: Option<&'a RawValue>,
    #[serde(borrow)]
    pub data: Option<&'a RawValue>,
    #[serde(borrow)]
    pub timestamp: Option<&'a RawValue>,
}

/// Why a body could not be parsed at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotJson {
    pub message: String,
}

/// Parses a body: `Err` only when it is not JSON. Recognised by shape, so a payload sent to
/// the "wrong" kind of source is still understood.
pub fn parse(body: &[u8]) -> Result<Parsed, NotJson> {
    match serde_json::from_slice::<Envelope<'_>>(body) {
        Ok(env) => Ok(classify(&env)),
        Err(object_err) => match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            // Valid JSON, just not an object: keep it as unknown.
            Ok(_) => Ok(Parsed {
                kind: Some(EventKind::Unknown),
                summary: "JSON payload that is not an object".to_string(),
                ..Parsed::default()
            }),
            Err(_) => Err(NotJson {
                message: describe_json_error(&object_err),
            }),
        },
    }
}

fn classify(env: &Envelope<'_>) -> Parsed {
    if let Some(p) = label_studio::parse(env) {
        return p;
    }
    if let Some(p) = aquarium::parse(env) {
        return p;
    }
    if let Some(p) = generic::parse(env) {
        return p;
    }
    let action = fields::string(env.action)
        .or_else(|| fields::string(env.event))
        .or_else(|| fields::string(env.type_));
    Parsed {
        kind: Some(EventKind::Unknown),
        summary: match &action {
            Some(a) => format!("Unrecognised payload ({a})"),
            None => "Unrecognised JSON payload".to_string(),
        },
        action,
        ..Parsed::default()
    }
}

fn describe_json_error(e: &serde_json::Error) -> String {
    format!("The body is not valid JSON ({e}).")
}
