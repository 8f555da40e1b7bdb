//! What another process on the same data directory changed, in one cheap query.
//!
//! The background loops used to ask the database each on its own, several times a second,
//! so that the app saw what `serve` or a CLI command wrote. A companion idling in the tray
//! then woke about 30 times a second. One look at these marks replaces those polls: the
//! loops sleep until the marks move, their own process tells them, or work is due.

use loopline_core::{ApiError, RunStatus};

use crate::errors::db_error;
use crate::Store;

/// Counters that move when something a background loop acts on changes. Each is read
/// through an index or the rowid, so the look costs microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChangeMarks {
    /// The newest stored event: new events for the timeline, the search index and rules.
    pub newest_event: i64,
    /// The sources' revision: a source (or its secret) added, changed or removed.
    pub sources: i64,
    /// The newest outbox item, and how many are not settled yet (queued or in flight).
    pub newest_outbox: i64,
    pub unsettled_outbox: i64,
    /// Rules: how many, and the sum of their multiples (a rule added, removed or changed).
    pub rules: i64,
    pub rules_every: i64,
    /// The newest run, and the active ones (a run started, or ended in another process).
    pub newest_run: i64,
    pub active_runs: i64,
    pub active_run_ids: i64,
}

impl Store {
    pub async fn change_marks(&self) -> Result<ChangeMarks, ApiError> {
        let mut active = RunStatus::RUNNING.to_vec();
        active.push(RunStatus::Held);
        let sql = format!(
            "SELECT
               (SELECT COALESCE(MAX(id), 0) FROM events),
               (SELECT COALESCE(CAST(value AS INTEGER), 0) FROM settings WHERE key = 'sources.revision'),
               (SELECT COALESCE(MAX(id), 0) FROM outbox_items),
               (SELECT COUNT(*) FROM outbox_items WHERE state IN ('pending', 'in_flight')),
               (SELECT COUNT(*) FROM rules),
               (SELECT COALESCE(SUM(every), 0) FROM rules),
               (SELECT COALESCE(MAX(id), 0) FROM runs),
               (SELECT COUNT(*) FROM runs WHERE status IN {list}),
               (SELECT COALESCE(SUM(id), 0) FROM runs WHERE status IN {list})",
            list = RunStatus::sql_list(&active)
        );
        let row: (i64, Option<i64>, i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(&sql)
            .fetch_one(self.pool())
            .await
            .map_err(|e| db_error(e, self.path()))?;
        Ok(ChangeMarks {
            newest_event: row.0,
            sources: row.1.unwrap_or(0),
            newest_outbox: row.2,
            unsettled_outbox: row.3,
            rules: row.4,
            rules_every: row.5,
            newest_run: row.6,
            active_runs: row.7,
            active_run_ids: row.8,
        })
    }
}
