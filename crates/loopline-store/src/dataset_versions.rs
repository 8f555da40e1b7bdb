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

/// The dataset version a run triggered by an event trains on: the automation's newest
/// firing at or before that event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionAtEvent {
    /// The automations have not judged the event yet: its own firing may still come.
    NotJudgedYet,
    /// The automation never fired at or before the event.
    NoneYet,
    Version {
        number: i64,
        /// `pending`, `delivered` or `failed` (the delivery's status).
        status: String,
        error: Option<String>,
    },
}

impl Store {
    /// What `VersionAtEvent` says for `automation_id` at `event_id`. "Would fire" firings
    /// (a dry run) wrote no manifest and are passed over.
    pub async fn dataset_version_at(
        &self,
        automation_id: &str,
        event_id: i64,
    ) -> Result<VersionAtEvent, ApiError> {
        let map = |e| db_error(e, self.path());
        let cursor: Option<i64> =
            sqlx::query_scalar::<_, String>("SELECT value FROM settings WHERE key = ?")
                .bind(crate::automations::CURSOR)
                .fetch_optional(self.pool())
                .await
                .map_err(map)?
                .and_then(|v| v.parse().ok());
        if cursor.unwrap_or(0) < event_id {
            return Ok(VersionAtEvent::NotJudgedYet);
        }
        let row = sqlx::query(
            "SELECT d.status AS status, d.error AS error,
                    (SELECT COUNT(*) FROM automation_deliveries o
                      WHERE o.automation_id = d.automation_id AND o.id <= d.id) AS n
               FROM automation_deliveries d
              WHERE d.automation_id = ? AND d.event_id <= ? AND d.status != 'would_fire'
              ORDER BY d.id DESC LIMIT 1",
        )
        .bind(automation_id)
        .bind(event_id)
        .fetch_optional(self.pool())
        .await
        .map_err(map)?;
        Ok(match row {
            None => VersionAtEvent::NoneYet,
            Some(r) => VersionAtEvent::Version {
                number: r.get("n"),
                status: r.get("status"),
                error: r.get("error"),
            },
        })
    }

    /// Records the manifest a run starts with, and its parameters with `DatasetManifest`,
    /// once: a retry or a takeover keeps what the first attempt chose.
    pub async fn set_run_dataset(
        &self,
        run_id: i64,
        manifest: &str,
        params_json: &str,
    ) -> Result<(), ApiError> {
        sqlx::query(
            "UPDATE runs SET dataset_manifest = ?, params_json = ? WHERE id = ? AND dataset_manifest IS NULL",
        )
        .bind(manifest)
        .bind(params_json)
        .bind(run_id)
        .execute(self.pool())
        .await
        .map(|_| ())
        .map_err(|e| db_error(e, self.path()))
    }

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
