//! Aquarium exports and their per-element results (`migrations/0008_aquarium_exports.sql`),
//! and the cache of image sizes read from image headers.

use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use loopline_core::{ApiError, ElementState, ExportState};

use crate::errors::db_error;
use crate::outbox::{enqueue, NewItem};
use crate::Store;

/// Delivering an export; the subject is the export.
pub const AQUARIUM_EXPORT: &str = "aquarium.export";

/// An element as an export starts: to send (`pending`, with its request) or `skipped`.
pub struct NewExportElement {
    pub element_id: String,
    pub state: ElementState,
    pub request_json: Option<String>,
    pub task_id: Option<i64>,
    pub message: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ExportRow {
    pub id: i64,
    pub issue_id: String,
    pub target_key: String,
    pub target_json: String,
    pub state: ExportState,
    pub last_error: Option<String>,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone)]
pub struct ExportElementRow {
    pub element_id: String,
    pub state: ElementState,
    pub request_json: Option<String>,
    pub task_id: Option<i64>,
    pub code: Option<String>,
    pub message: Option<String>,
}

/// What an element became.
pub struct ElementUpdate<'a> {
    pub element_id: &'a str,
    pub state: ElementState,
    pub task_id: Option<i64>,
    pub code: Option<&'a str>,
    pub message: Option<&'a str>,
}

fn export_of(r: &SqliteRow) -> ExportRow {
    ExportRow {
        id: r.get("id"),
        issue_id: r.get("issue_id"),
        target_key: r.get("target_key"),
        target_json: r.get("target_json"),
        state: ExportState::parse(r.get::<&str, _>("state")),
        last_error: r.get("last_error"),
        created_at_ms: r.get("created_at_ms"),
    }
}

impl Store {
    /// Files an export with its elements and queues its delivery, in one transaction: an
    /// export is either wholly asked for or not at all.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_export(
        &self,
        issue_id: &str,
        target_key: &str,
        target_json: &str,
        elements: &[NewExportElement],
        now_ms: i64,
        deadline_at_ms: i64,
    ) -> Result<i64, ApiError> {
        let map = |e| db_error(e, self.path());
        let mut tx = self.pool().begin().await.map_err(map)?;
        let pending = elements.iter().any(|e| e.state == ElementState::Pending);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO aquarium_exports (issue_id, target_key, target_json, state, created_at_ms, finished_at_ms) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(issue_id)
        .bind(target_key)
        .bind(target_json)
        .bind(if pending { ExportState::Pending } else { ExportState::Done }.as_str())
        .bind(now_ms)
        .bind((!pending).then_some(now_ms))
        .fetch_one(&mut *tx)
        .await
        .map_err(map)?;
        for (position, e) in elements.iter().enumerate() {
            sqlx::query(
                "INSERT INTO aquarium_export_elements (export_id, element_id, position, state, request_json, task_id, message) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(&e.element_id)
            .bind(position as i64)
            .bind(e.state.as_str())
            .bind(&e.request_json)
            .bind(e.task_id)
            .bind(&e.message)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        }
        if pending {
            enqueue(
                &mut tx,
                &NewItem {
                    kind: AQUARIUM_EXPORT,
                    idempotency_key: format!("export:{id}"),
                    subject_id: Some(id),
                    payload_json: "{}".into(),
                    now_ms,
                    deadline_at_ms,
                },
            )
            .await
            .map_err(map)?;
        }
        tx.commit().await.map_err(map)?;
        Ok(id)
    }

    pub async fn export(&self, id: i64) -> Result<Option<ExportRow>, ApiError> {
        sqlx::query("SELECT * FROM aquarium_exports WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map(|r| r.as_ref().map(export_of))
            .map_err(|e| db_error(e, self.path()))
    }

    /// Exports, newest first; of one issue when asked.
    pub async fn exports(&self, issue_id: Option<&str>) -> Result<Vec<ExportRow>, ApiError> {
        sqlx::query(
            "SELECT * FROM aquarium_exports WHERE (?1 IS NULL OR issue_id = ?1) ORDER BY id DESC",
        )
        .bind(issue_id)
        .fetch_all(self.pool())
        .await
        .map(|rows| rows.iter().map(export_of).collect())
        .map_err(|e| db_error(e, self.path()))
    }

    /// An export's elements in the order they were chosen.
    pub async fn export_elements(&self, id: i64) -> Result<Vec<ExportElementRow>, ApiError> {
        sqlx::query(
            "SELECT element_id, state, request_json, task_id, code, message FROM aquarium_export_elements \
             WHERE export_id = ? ORDER BY position",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await
        .map(|rows| {
            rows.iter()
                .map(|r| ExportElementRow {
                    element_id: r.get("element_id"),
                    state: ElementState::parse(r.get::<&str, _>("state")),
                    request_json: r.get("request_json"),
                    task_id: r.get("task_id"),
                    code: r.get("code"),
                    message: r.get("message"),
                })
                .collect()
        })
        .map_err(|e| db_error(e, self.path()))
    }

    /// (export id, element state, count) for every export of the issue (or all).
    pub async fn export_tallies(
        &self,
        issue_id: Option<&str>,
    ) -> Result<Vec<(i64, ElementState, i64)>, ApiError> {
        sqlx::query(
            "SELECT e.export_id, e.state, COUNT(*) AS n FROM aquarium_export_elements e \
             JOIN aquarium_exports x ON x.id = e.export_id WHERE (?1 IS NULL OR x.issue_id = ?1) \
             GROUP BY e.export_id, e.state",
        )
        .bind(issue_id)
        .fetch_all(self.pool())
        .await
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    (
                        r.get("export_id"),
                        ElementState::parse(r.get::<&str, _>("state")),
                        r.get("n"),
                    )
                })
                .collect()
        })
        .map_err(|e| db_error(e, self.path()))
    }

    /// Records what elements became, in one transaction.
    pub async fn update_export_elements(
        &self,
        id: i64,
        updates: &[ElementUpdate<'_>],
    ) -> Result<(), ApiError> {
        let map = |e| db_error(e, self.path());
        let mut tx = self.pool().begin().await.map_err(map)?;
        for u in updates {
            sqlx::query(
                "UPDATE aquarium_export_elements SET state = ?, task_id = COALESCE(?, task_id), code = ?, message = ? \
                 WHERE export_id = ? AND element_id = ?",
            )
            .bind(u.state.as_str())
            .bind(u.task_id)
            .bind(u.code)
            .bind(u.message)
            .bind(id)
            .bind(u.element_id)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        }
        tx.commit().await.map_err(map)
    }

    /// Rewrites an export's target (its recorded steps, such as the model version once
    /// set, live there beside what it is sent to).
    pub async fn set_export_target(&self, id: i64, target_json: &str) -> Result<(), ApiError> {
        sqlx::query("UPDATE aquarium_exports SET target_json = ? WHERE id = ?")
            .bind(target_json)
            .bind(id)
            .execute(self.pool())
            .await
            .map(|_| ())
            .map_err(|e| db_error(e, self.path()))
    }

    pub async fn finish_export(
        &self,
        id: i64,
        state: ExportState,
        error: Option<&str>,
        now_ms: Option<i64>,
    ) -> Result<(), ApiError> {
        sqlx::query(
            "UPDATE aquarium_exports SET state = ?, last_error = ?, finished_at_ms = ? WHERE id = ?",
        )
        .bind(state.as_str())
        .bind(error)
        .bind(now_ms)
        .bind(id)
        .execute(self.pool())
        .await
        .map(|_| ())
        .map_err(|e| db_error(e, self.path()))
    }

    /// Elements of the issue already at (or on their way to) the target through an earlier
    /// export: (element id, task id, export id).
    pub async fn exported_elements(
        &self,
        issue_id: &str,
        target_key: &str,
    ) -> Result<Vec<(String, Option<i64>, i64)>, ApiError> {
        sqlx::query(
            "SELECT e.element_id, e.task_id, e.export_id FROM aquarium_export_elements e \
             JOIN aquarium_exports x ON x.id = e.export_id \
             WHERE x.issue_id = ? AND x.target_key = ? AND e.state IN ('created', 'pending', 'sending') \
             ORDER BY e.export_id",
        )
        .bind(issue_id)
        .bind(target_key)
        .fetch_all(self.pool())
        .await
        .map(|rows| {
            rows.iter()
                .map(|r| (r.get("element_id"), r.get("task_id"), r.get("export_id")))
                .collect()
        })
        .map_err(|e| db_error(e, self.path()))
    }

    pub async fn image_size(&self, url: &str) -> Result<Option<(u32, u32)>, ApiError> {
        sqlx::query("SELECT width, height FROM image_sizes WHERE url = ?")
            .bind(url)
            .fetch_optional(self.pool())
            .await
            .map(|r| {
                r.map(|r| {
                    (
                        r.get::<i64, _>("width") as u32,
                        r.get::<i64, _>("height") as u32,
                    )
                })
            })
            .map_err(|e| db_error(e, self.path()))
    }

    pub async fn put_image_size(
        &self,
        url: &str,
        width: u32,
        height: u32,
        now_ms: i64,
    ) -> Result<(), ApiError> {
        sqlx::query(
            "INSERT INTO image_sizes (url, width, height, read_at_ms) VALUES (?, ?, ?, ?) \
             ON CONFLICT (url) DO UPDATE SET width = excluded.width, height = excluded.height, read_at_ms = excluded.read_at_ms",
        )
        .bind(url)
        .bind(width as i64)
        .bind(height as i64)
        .bind(now_ms)
        .execute(self.pool())
        .await
        .map(|_| ())
        .map_err(|e| db_error(e, self.path()))
    }
}
