//! What a catch-up compares Label Studio's record with: the annotation ids the events of a
//! project carry (webhooks received, and earlier catch-ups), and when the newest arrived.

use loopline_core::ApiError;

use crate::errors::db_error;
use crate::Store;

impl Store {
    /// The annotation ids in the parser's findings of a project's events received at or
    /// after `since_ms`: what Loopline already knows about, so a catch-up never counts an
    /// annotation twice.
    pub async fn known_annotation_ids(
        &self,
        source_id: &str,
        project_id: i64,
        since_ms: i64,
    ) -> Result<Vec<i64>, ApiError> {
        sqlx::query_scalar::<_, i64>(
            "SELECT DISTINCT CAST(j.value AS INTEGER) FROM events e, json_each(e.parsed_json, '$.annotation_ids') j \
             WHERE e.source_id = ? AND e.project_id = ? AND e.received_at_ms >= ? AND json_valid(e.parsed_json)",
        )
        .bind(source_id)
        .bind(project_id)
        .bind(since_ms)
        .fetch_all(self.pool())
        .await
        .map_err(|e| db_error(e, self.path()))
    }

    /// When the newest event of a project was received, if any was.
    pub async fn newest_project_event_ms(
        &self,
        source_id: &str,
        project_id: i64,
    ) -> Result<Option<i64>, ApiError> {
        sqlx::query_scalar::<_, Option<i64>>(
            "SELECT MAX(received_at_ms) FROM events WHERE source_id = ? AND project_id = ?",
        )
        .bind(source_id)
        .bind(project_id)
        .fetch_one(self.pool())
        .await
        .map_err(|e| db_error(e, self.path()))
    }
}
