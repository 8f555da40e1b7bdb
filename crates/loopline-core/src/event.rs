use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What a payload was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    LabelStudio,
    Aquarium,
    Generic,
    /// Valid JSON that no parser recognised; kept and shown, never dropped.
    Unknown,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::LabelStudio => "label-studio",
            EventKind::Aquarium => "aquarium",
            EventKind::Generic => "generic",
            EventKind::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> EventKind {
        match s {
            "label-studio" => EventKind::LabelStudio,
            "aquarium" => EventKind::Aquarium,
            "generic" => EventKind::Generic,
            _ => EventKind::Unknown,
        }
    }
}

/// Where an event is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// Stored and processed.
    Processed,
    /// The same body from the same source arrived within the duplicate window; stored and
    /// flagged, not processed again.
    Duplicate,
    /// The body was not valid JSON; stored (up to a cap) so the user can see what was sent.
    Malformed,
    /// A request with a wrong or missing secret; recorded without its body.
    Rejected,
}

impl EventStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Processed => "processed",
            EventStatus::Duplicate => "duplicate",
            EventStatus::Malformed => "malformed",
            EventStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<EventStatus> {
        match s {
            "processed" => Some(EventStatus::Processed),
            "duplicate" => Some(EventStatus::Duplicate),
            "malformed" => Some(EventStatus::Malformed),
            "rejected" => Some(EventStatus::Rejected),
            _ => None,
        }
    }
}

/// One row of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct EventSummary {
    pub id: i64,
    pub source_id: String,
    /// The source's name, when the source still exists.
    pub source_name: Option<String>,
    pub kind: EventKind,
    pub action: Option<String>,
    pub project_id: Option<i64>,
    pub project_name: Option<String>,
    /// One line in words: "Annotation 12 created on task 7 in 'Bird parts'".
    pub summary: String,
    pub status: EventStatus,
    /// RFC 3339, UTC, milliseconds.
    pub received_at: String,
    pub received_at_ms: i64,
    pub duplicate_of: Option<i64>,
    /// The event this one replays with an edited body, if any.
    pub replay_of: Option<i64>,
    pub body_bytes: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// Everything the detail pane shows. Secret values are already masked: headers that carry
/// credentials, and secret fields inside payloads (e.g. Label Studio's `project.token`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct EventDetail {
    pub event: EventSummary,
    pub remote_addr: Option<String>,
    pub headers: Vec<Header>,
    /// The body as JSON with secret fields masked; `null` when it is not JSON.
    pub body_json: Option<serde_json::Value>,
    /// The raw body as text (masked the same way when it is JSON); lossy for non-UTF-8.
    pub body_text: String,
    /// True when a malformed body was stored only up to the cap.
    pub body_truncated: bool,
    /// JSON paths that were masked, e.g. `project.token`.
    pub redacted_paths: Vec<String>,
    /// Ids the parser found, for linking and search.
    pub annotation_ids: Vec<i64>,
    pub task_ids: Vec<i64>,
    /// A `curl` command that re-sends this event to the receiver (secrets as placeholders).
    pub curl: String,
    /// How many times this event was replayed.
    pub replay_count: i64,
}

/// Filters for the timeline and `events list`. All optional; newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct EventQuery {
    pub source_id: Option<String>,
    pub action: Option<String>,
    pub status: Option<EventStatus>,
    pub project_id: Option<i64>,
    /// Full-text search over payloads.
    pub search: Option<String>,
    /// Keyset paging: only events older than this id.
    pub before_id: Option<i64>,
    /// Only events newer than this id (for live updates).
    pub after_id: Option<i64>,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct EventPage {
    pub events: Vec<EventSummary>,
    /// Pass as `before_id` for the next (older) page; `null` at the end.
    pub next_before_id: Option<i64>,
}

/// What a replay did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReplayOutcome {
    /// The event that was processed: the original, or the new one for an edited replay.
    pub event_id: i64,
    pub message: String,
}

/// How long the timeline keeps events. Both limits apply when both are set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RetentionPolicy {
    pub max_days: Option<u32>,
    pub max_events: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TimelineStats {
    pub total_events: i64,
    pub newest_id: Option<i64>,
    pub db_size_bytes: u64,
    pub retention: RetentionPolicy,
}

/// Pushed to the UI when events were added, changed or removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TimelineChanged {
    pub newest_id: Option<i64>,
    /// Bumps on deletes, replays and retention, so an open list knows to refetch.
    pub revision: i64,
}
