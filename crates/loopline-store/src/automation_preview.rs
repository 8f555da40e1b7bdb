//! The events an automation's preview is judged on: the newest stored events its trigger
//! names by source, action and project, as they were really delivered (no duplicates, no
//! malformed bodies, no edited replays), which is what the evaluator would have judged.

use loopline_core::ApiError;
use sqlx::{QueryBuilder, Sqlite};

use crate::automations::{automation_event_from_row, AutomationEvent, AUTOMATION_EVENT_COLUMNS};
use crate::errors::db_error;
use crate::Store;

impl Store {
    /// At most `limit` events of `source_id` whose action is one of `actions` (compared
    /// without case, as the evaluator does) and, when given, of `project_id`; newest first.
    pub async fn preview_events(
        &self,
        source_id: &str,
        actions: &[String],
        project_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AutomationEvent>, ApiError> {
        if actions.is_empty() {
            return Ok(vec![]);
        }
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {AUTOMATION_EVENT_COLUMNS} FROM events WHERE source_id = "
        ));
        qb.push_bind(source_id)
            .push(" AND status = 'processed' AND replay_of IS NULL AND UPPER(action) IN (");
        let mut list = qb.separated(", ");
        for a in actions {
            list.push("UPPER(")
                .push_bind_unseparated(a.clone())
                .push_unseparated(")");
        }
        qb.push(")");
        if let Some(p) = project_id {
            qb.push(" AND project_id = ").push_bind(p);
        }
        qb.push(" ORDER BY id DESC LIMIT ").push_bind(limit);
        let rows = qb
            .build()
            .fetch_all(self.pool())
            .await
            .map_err(|e| db_error(e, self.path()))?;
        Ok(rows.iter().map(automation_event_from_row).collect())
    }
}
