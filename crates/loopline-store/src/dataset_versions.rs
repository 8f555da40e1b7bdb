//! The dataset versions an automation made: its deliveries, numbered in the order they were
//! decided. The number is the delivery's rank among the automation's deliveries, so it is
//! fixed when the firing is decided and the same on every retry (a retried delivery writes
//! the same `v<n>` and never a second one).

use loopline_core::ApiError;
use sqlx::Row;

use crate::errors::db_error;
use crate::Store;

/// One delivered firing of a dataset-version automation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRow {
    pub number: i64,
    pub event_id: i64,
    pub delivered_at_ms: i64,
}

impl Store {
    /// The delivery's automation and its number among that automation's deliveries.
    pub async fn delivery_number(
        &self,
        delivery_id: i64,
    ) -> Result<Option<(String, i64)>, ApiError> {
        let row = sqlx::query(
            "SELECT d.automation_id AS automation_id,
                    (SELECT COUNT(*) FROM automation_deliveries o
                      WHERE o.automation_id = d.automation_id AND o.id <= d.id) AS n
               FROM automation_deliveries d WHERE d.id = ?",
        )
        .bind(delivery_id)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| db_error(e, self.path()))?;
        Ok(row.map(|r| (r.get("automation_id"), r.get("n"))))
    }

    /// The automation's delivered versions, oldest first.
    pub async fn dataset_versions(&self, automation_id: &str) -> Result<Vec<VersionRow>, ApiError> {
        let rows = sqlx::query(
            "SELECT event_id, status, delivered_at_ms,
                    ROW_NUMBER() OVER (ORDER BY id) AS n
               FROM automation_deliveries WHERE automation_id = ? ORDER BY id",
        )
        .bind(automation_id)
        .fetch_all(self.pool())
        .await
        .map_err(|e| db_error(e, self.path()))?;
        Ok(rows
            .iter()
            .filter(|r| r.get::<String, _>("status") == "delivered")
            .map(|r| VersionRow {
                number: r.get("n"),
                event_id: r.get("event_id"),
                delivered_at_ms: r.get::<Option<i64>, _>("delivered_at_ms").unwrap_or(0),
            })
            .collect())
    }
}
