//! What the engine's background work is doing: each task's state, each running process
//! (the app, `loopline serve`) and whether everything has settled. Tests wait on
//! `Quiescence::quiescent` instead of sleeping.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    Running,
    /// It panicked and is waiting to be started again.
    Restarting,
    Stopped,
}

/// One named background task of a running engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TaskStatus {
    pub name: String,
    pub state: TaskState,
    pub restarts: u32,
    /// What the last panic said, if it ever panicked.
    pub last_panic: Option<String>,
}

/// A process that runs background work on this data directory, from its heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProcessStatus {
    pub worker_id: String,
    /// `app` or `serve`.
    pub kind: String,
    pub pid: u32,
    pub started_at: String,
    pub heartbeat_at: String,
    pub tasks: Vec<TaskStatus>,
    /// Catch-ups this process finished (each start, wake or tunnel return runs one), so a
    /// test or script can wait for the one after a start instead of sleeping.
    #[serde(default)]
    pub catch_ups: u32,
}

/// Whether the background work has caught up, read from the database (so any process can
/// ask): the rules have looked at the newest event, and no run is waiting to be started or
/// being started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Quiescence {
    pub rules_caught_up: bool,
    pub outbox_idle: bool,
    /// Both of the above.
    pub quiescent: bool,
    pub newest_event_id: Option<i64>,
    pub rules_cursor: Option<i64>,
    /// Outbox items due now or in flight.
    pub outbox_due: i64,
}
