//! A running engine's heartbeat: its background tasks' states, written to the database
//! every few seconds, so `loopline info --json` from any process shows what the app or
//! `loopline serve` is doing on this data directory.

use std::time::Duration;

use loopline_core::{rfc3339_ms, ApiError, ProcessStatus};

use crate::background::WeakEngine;
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
        }
    }

    async fn write_heartbeat(&self) -> Result<(), ApiError> {
        let json = serde_json::to_string(&self.process_status())
            .map_err(|e| ApiError::internal(e.to_string()))?;
        self.store
            .set_setting(&format!("{PREFIX}{}", self.worker_id), &json)
            .await
    }

    pub(crate) async fn clear_heartbeat(&self) {
        if self.supervisor.started() {
            let _ = self
                .store
                .delete_setting(&format!("{PREFIX}{}", self.worker_id))
                .await;
        }
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
            let Ok(p) = serde_json::from_str::<ProcessStatus>(&value) else {
                continue;
            };
            let fresh = parse_rfc3339_ms(&p.heartbeat_at).is_some_and(|t| now - t < STALE_MS);
            if fresh {
                out.push(p);
            }
        }
        Ok(out)
    }
}

/// Milliseconds since the epoch from `rfc3339_ms`'s own format (`2026-11-22T17:58:59.926Z`).
fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    let (date, time) = s.strip_suffix('Z')?.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, ms) = time.split_once('.')?;
    let mut t = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (h, mi, sec) = (t.next()??, t.next()??, t.next()??);
    // Days from civil (Howard Hinnant), the inverse of rfc3339_ms's conversion.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + h * 3600 + mi * 60 + sec) * 1000) + ms.parse::<i64>().ok()?)
}

#[cfg(test)]
mod tests {
    use super::parse_rfc3339_ms;
    use loopline_core::rfc3339_ms;

    #[test]
    fn heartbeat_times_read_back() {
        for ms in [0, 951_782_400_000, 1_795_391_939_926] {
            assert_eq!(parse_rfc3339_ms(&rfc3339_ms(ms)), Some(ms));
        }
    }
}
