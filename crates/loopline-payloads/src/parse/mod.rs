//! Payload parsers. They read only what the timeline and the rules need, leniently: a
//! field of an unexpected shape is skipped, never an error, and an unrecognised payload is
//! kept as `unknown`. The raw body is always stored as it came.

mod aquarium;
mod fields;
mod generic;
mod label_studio;
mod scan;
mod search;
mod visit;

use loopline_core::EventKind;

use scan::{scan, Envelope};

pub use fields::humanize_action;

#[cfg(test)]
mod stored_tests {
    use super::{parse, StoredFindings};

    #[test]
    fn stored_findings_read_back_what_was_written() {
        let body = br#"{"action":"ANNOTATION_CREATED","annotation":{"id":5,"task":9},"task":{"id":9},"project":{"id":2,"useful_annotation_number":16,"total_annotations_number":17}}"#;
        let parsed = parse(body).unwrap();
        let stored = StoredFindings::from_json(Some(&parsed.to_json()));
        assert_eq!(stored.useful_annotation_number, Some(16));
        assert_eq!(stored.total_annotations_number, Some(17));
        assert_eq!(stored.annotation_ids, parsed.annotation_ids);
        assert_eq!(stored.task_ids, parsed.task_ids);
        assert_eq!(
            StoredFindings::from_json(Some("not json")),
            StoredFindings::default()
        );
        assert_eq!(StoredFindings::from_json(None), StoredFindings::default());
    }
}
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
        // Written field by field: this runs for every event received, and going through a
        // `serde_json::Value` cost a map and an allocation per field.
        #[derive(serde::Serialize)]
        struct Stored<'a> {
            annotation_ids: &'a [i64],
            task_ids: &'a [i64],
            useful_annotation_number: Option<i64>,
            total_annotations_number: Option<i64>,
            issue_id: Option<&'a str>,
        }
        serde_json::to_string(&Stored {
            annotation_ids: &self.annotation_ids,
            task_ids: &self.task_ids,
            useful_annotation_number: self.useful_annotation_number,
            total_annotations_number: self.total_annotations_number,
            issue_id: self.issue_id.as_deref(),
        })
        .unwrap_or_else(|_| "{}".to_string())
    }
}

/// The parser's findings as stored with an event (`parsed_json`), read back as typed
/// values: what the rules and the detail pane use, instead of looking keys up by string.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct StoredFindings {
    pub annotation_ids: Vec<i64>,
    pub task_ids: Vec<i64>,
    pub useful_annotation_number: Option<i64>,
    pub total_annotations_number: Option<i64>,
    pub issue_id: Option<String>,
}

impl StoredFindings {
    /// Lenient like the parser: a missing or unreadable column reads as no findings.
    pub fn from_json(json: Option<&str>) -> StoredFindings {
        json.and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default()
    }
}

/// The JSON text of a body: without the UTF-8 byte order mark some senders put first.
/// RFC 8259 lets a parser ignore it rather than fail, and a payload refused for three
/// invisible bytes would be kept as malformed, unparsed and unredacted.
pub fn json_text(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(body)
}

/// Why a body could not be parsed at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotJson {
    pub message: String,
}

/// Parses a body: `Err` only when it is not JSON. Recognised by shape, so a payload sent to
/// the "wrong" kind of source is still understood.
pub fn parse(body: &[u8]) -> Result<Parsed, NotJson> {
    match scan(body) {
        Ok(env) if env.is_object => Ok(classify(&env)),
        // Valid JSON, just not an object: keep it as unknown.
        Ok(_) => Ok(Parsed {
            kind: Some(EventKind::Unknown),
            summary: "JSON payload that is not an object".to_string(),
            ..Parsed::default()
        }),
        Err(e) => Err(e),
    }
}

fn classify(env: &Envelope) -> Parsed {
    if let Some(p) = label_studio::parse(env) {
        return p;
    }
    if let Some(p) = aquarium::parse(env) {
        return p;
    }
    if let Some(p) = generic::parse(env) {
        return p;
    }
    let action = env
        .action
        .string()
        .or_else(|| env.event.string())
        .or_else(|| env.type_.string());
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
