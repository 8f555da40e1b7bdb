use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{ProcessStatus, Quiescence};

use crate::ApiError;

/// Where the webhook receiver is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ReceiverState {
    Stopped,
    Starting,
    Running,
    Failed,
}

/// What the status bar shows about the receiver, pushed live from the engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReceiverStatus {
    pub state: ReceiverState,
    /// The address asked for, or bound once running (e.g. `127.0.0.1:8787`).
    pub listen: String,
    /// Why the receiver is not running, when `state` is `failed`.
    pub error: Option<ApiError>,
    /// A free address to offer the user when the asked-for port was taken.
    pub suggested_listen: Option<String>,
}

impl ReceiverStatus {
    pub fn stopped(listen: impl Into<String>) -> Self {
        ReceiverStatus {
            state: ReceiverState::Stopped,
            listen: listen.into(),
            error: None,
            suggested_listen: None,
        }
    }
}

/// The body of `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Health {
    pub version: String,
    /// `ok` when the store answers a query, else `unavailable`.
    pub db: String,
}

/// Where Loopline keeps its things, shown in Settings and by `loopline info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AppInfo {
    pub version: String,
    /// The git commit the binary was built from (`git rev-parse --short HEAD`), or `unknown`.
    pub commit: String,
    pub data_dir: String,
    pub db_path: String,
    pub schema_version: i64,
    pub db_size_bytes: u64,
    pub activity: Quiescence,
    /// Processes whose background work runs on this data directory now (heartbeat fresh).
    pub processes: Vec<ProcessStatus>,
    /// The folder the app and `loopline serve` write their rotating logs to.
    pub log_dir: String,
    /// The log file this process writes, when it writes one (the app and `serve` do; the
    /// CLI's one-shot commands log to stderr only).
    pub log_file: Option<String>,
}

/// What "Copy diagnostics" copies (`loopline diagnostics`): `info --json`, the setup status
/// and the newest log lines, as one JSON text with every secret masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Diagnostics {
    /// The redacted report, ready to paste into a bug report.
    pub report: String,
    /// How many secret values were masked in it.
    pub masked: u32,
}
