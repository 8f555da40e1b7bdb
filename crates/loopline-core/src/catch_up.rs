//! What a catch-up found: Label Studio keeps its own record, so after a sleep, a closed app
//! or a tunnel outage Loopline asks each connected project what it missed.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Why a catch-up ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CatchUpTrigger {
    /// The engine's background work started.
    Start,
    /// The wall clock jumped ahead of the monotonic one: the machine slept.
    Wake,
    /// The tunnel is reachable again after an outage.
    TunnelBack,
    /// `loopline catch-up`, or the app asked.
    Asked,
}

/// One project's (or, for Aquarium, one source's) catch-up: what the desktop notification
/// "a catch-up found missed annotations" is made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CatchUp {
    pub source_id: String,
    /// `None` for an Aquarium source (it has no projects to ask).
    pub project_id: Option<i64>,
    pub project_title: Option<String>,
    /// Annotations made in Label Studio whose webhooks never reached Loopline.
    pub missed: i64,
    /// The gap, RFC 3339: from when Loopline last heard (or was last alive) to now.
    pub from: String,
    pub to: String,
    /// The timeline entry written for it; `None` when nothing was missed.
    pub event_id: Option<i64>,
    /// Why this project could not be asked (Label Studio unreachable…); retried at the next
    /// trigger.
    pub error: Option<String>,
}

/// Everything one catch-up looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CatchUpReport {
    pub trigger: CatchUpTrigger,
    pub projects: Vec<CatchUp>,
}
