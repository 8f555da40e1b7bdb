//! A running engine's heartbeat: its background tasks' states, written to the database
//! every few seconds, so `loopline info --json` from any process shows what the app or
//! `loopline serve` is doing on this data directory.

use std::time::Duration;

use loopline_core::{rfc3339_ms, ApiError, ProcessStatus};

use crate::engine::WeakEngine;
use crate::Engine;

const PREFIX: &str = "process.";
const EVERY: Duration = Duration::from_secs(2);
/// A heartbeat older than this is a process that stopped without saying so.
const STALE_MS: i64 = 10_000;

pub(crate) async fn beat(engine: WeakEngine) {
    loop {
        {
            let Some(e) = engine.upgrade() else { return };
            if let Err(err) = e.write_heartbeat().await {
                tracing::debug!(code = %err.code, "heartbeat not written: {}", err.message);
            }
        }
        tokio::time::sleep(EVERY).await;
    }
}

impl Engine {
    fn process_status(&self) -> ProcessStatus {
        ProcessStatus {
            worker_id: self.worker_id.clone(),
            kind: self
                .process_kind
                .lock()
                .map(|k| k.to_string())
                .unwrap_or_default(),
            pid: std::process::id(),
            started_at: rfc3339_ms(self.started_at_ms),
            heartbeat_at: rfc3339_ms(self.clock.now_ms()),
            tasks: self.supervisor.statuses(),
            catch_ups: self.catch_ups.finished(),
        }
    }

    async fn write_heartbeat(&self) -> Result<(), ApiError> {
        // The time in ms beside the status, so readers need not parse it back from text.
        let json = serde_json::to_string(&(self.clock.now_ms(), self.process_status()))
            .map_err(|e| ApiError::internal(e.to_string()))?;
        self.store
            .set_setting(&format!("{PREFIX}{}", self.worker_id), &json)
            .await
    }

    /// Removes this process's heartbeat, so others see at once that it stopped.
    pub(crate) async fn clear_heartbeat(&self) {
        let _ = self
            .store
            .delete_setting(&format!("{PREFIX}{}", self.worker_id))
            .await;
    }

    /// The processes running background work on this data directory: this one (when it
    /// does) and every other whose heartbeat is fresh.
    pub async fn processes(&self) -> Result<Vec<ProcessStatus>, ApiError> {
        let now = self.clock.now_ms();
        let mut out = Vec::new();
        if self.supervisor.started() {
            out.push(self.process_status());
        }
        for (key, value) in self.store.settings_with_prefix(PREFIX).await? {
            if key == format!("{PREFIX}{}", self.worker_id) {
                continue;
            }
            let Ok((beat_ms, p)) = serde_json::from_str::<(i64, ProcessStatus)>(&value) else {
                continue;
            };
            if now - beat_ms < STALE_MS {
                out.push(p);
            }
        }
        Ok(out)
    }
}
