use loopline_core::{
    rfc3339_ms, ApiError, ErrorCode, EventKind, EventQuery, EventStatus, EventSummary,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use crate::body::decode;
use crate::errors::db_error;
use crate::Store;

/// Everything stored about one event, for the detail pane and for replays.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub summary: EventSummary,
    pub remote_addr: Option<String>,
    pub headers_json: String,
    pub body: Vec<u8>,
    pub body_truncated: bool,
    pub parsed_json: Option<String>,
    pub replay_count: i64,
}

const SUMMARY_COLUMNS: &str = "e.id, e.source_id, s.name AS source_name, e.kind, e.action, e.project_id, e.project_name, \
     e.summary, e.status, e.received_at_ms, e.duplicate_of, e.replay_of, COALESCE(e.body_len, LENGTH(e.body)) AS body_bytes";

pub const DEFAULT_PAGE: u32 = 100;
pub const MAX_PAGE: u32 = 1000;

fn summary_from_row(r: &SqliteRow) -> EventSummary {
    let received_at_ms: i64 = r.get("received_at_ms");
    EventSummary {
        id: r.get("id"),
        source_id: r.get("source_id"),
        source_name: r.get("source_name"),
        kind: EventKind::parse(r.get::<String, _>("kind").as_str()),
        action: r.get("action"),
        project_id: r.get("project_id"),
        project_name: r.get("project_name"),
        summary: r.get("summary"),
        status: EventStatus::parse(r.get::<String, _>("status").as_str())
            .unwrap_or(EventStatus::Processed),
        received_at: rfc3339_ms(received_at_ms),
        received_at_ms,
        duplicate_of: r.get("duplicate_of"),
        replay_of: r.get("replay_of"),
        body_bytes: r.get("body_bytes"),
    }
}

/// Turns what a person types into an FTS5 query: every word must appear, the last one as a
/// prefix, and nothing they type can be read as FTS syntax.
pub fn fts_query(input: &str) -> Option<String> {
    let words: Vec<String> = input
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{}\"", w.replace('"', "")))
        .collect();
    if words.is_empty() {
        return None;
    }
    let mut q = words.join(" ");
    q.push('*');
    Some(q)
}

impl Store {
    /// A page of the timeline, newest first, filtered. Keyset paging on the id keeps every
    /// page as fast as the first, however deep the user scrolls.
    pub async fn list_events(&self, query: &EventQuery) -> Result<Vec<EventSummary>, ApiError> {
        let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE) as i64;
        let search = query.search.as_deref().and_then(fts_query);
        let mut qb: QueryBuilder<Sqlite> =
            QueryBuilder::new(format!("SELECT {SUMMARY_COLUMNS} FROM "));
        if search.is_some() {
            qb.push("events_fts f JOIN events e ON e.id = f.rowid ");
        } else {
            qb.push("events e ");
        }
        qb.push("LEFT JOIN sources s ON s.id = e.source_id WHERE 1 = 1");
        if let Some(q) = &search {
            qb.push(" AND events_fts MATCH ").push_bind(q.clone());
        }
        let id_col = if search.is_some() { "f.rowid" } else { "e.id" };
        if let Some(before) = query.before_id {
            qb.push(format!(" AND {id_col} < ")).push_bind(before);
        }
        if let Some(after) = query.after_id {
            qb.push(format!(" AND {id_col} > ")).push_bind(after);
        }
        if let Some(source) = &query.source_id {
            qb.push(" AND e.source_id = ").push_bind(source.clone());
        }
        if let Some(action) = &query.action {
            qb.push(" AND e.action = ").push_bind(action.clone());
        }
        if let Some(status) = query.status {
            qb.push(" AND e.status = ").push_bind(status.as_str());
            if status != EventStatus::Processed {
                // Lets SQLite use the partial index on the other statuses (0006).
                qb.push(" AND e.status <> 'processed'");
            }
        }
        if let Some(project) = query.project_id {
            qb.push(" AND e.project_id = ").push_bind(project);
        }
        qb.push(format!(" ORDER BY {id_col} DESC LIMIT "))
            .push_bind(limit);
        let rows = qb
            .build()
            .fetch_all(self.pool())
            .await
            .map_err(|e| db_error(e, self.path()))?;
        Ok(rows.iter().map(summary_from_row).collect())
    }

    /// The parser's findings of an event (`parsed_json`), without reading its body.
    pub async fn parsed_json(&self, id: i64) -> Result<Option<String>, ApiError> {
        sqlx::query_scalar::<_, Option<String>>("SELECT parsed_json FROM events WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map(Option::flatten)
            .map_err(|e| db_error(e, self.path()))
    }

    pub async fn event(&self, id: i64) -> Result<StoredEvent, ApiError> {
        let row = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS}, e.remote_addr, e.headers_json, e.body, e.body_codec, e.body_len, e.body_truncated, e.parsed_json, e.replay_count \
             FROM events e LEFT JOIN sources s ON s.id = e.source_id WHERE e.id = ?"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| db_error(e, self.path()))?
        .ok_or_else(|| event_not_found(id))?;
        Ok(StoredEvent {
            summary: summary_from_row(&row),
            remote_addr: row.get("remote_addr"),
            headers_json: row.get("headers_json"),
            body: decode(
                id,
                row.get("body_codec"),
                row.get("body"),
                row.get("body_len"),
            )?,
            body_truncated: row.get::<i64, _>("body_truncated") != 0,
            parsed_json: row.get("parsed_json"),
            replay_count: row.get("replay_count"),
        })
    }

    pub async fn delete_event(&self, id: i64) -> Result<(), ApiError> {
        let mut tx = self
            .pool()
            .begin()
            .await
            .map_err(|e| db_error(e, self.path()))?;
        let n = sqlx::query("DELETE FROM events WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, self.path()))?
            .rows_affected();
        if n == 0 {
            return Err(event_not_found(id));
        }
        sqlx::query("DELETE FROM events_fts WHERE rowid = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, self.path()))?;
        tx.commit().await.map_err(|e| db_error(e, self.path()))?;
        Ok(())
    }

    /// Records that an event was replayed, and refreshes what its parser found.
    pub async fn mark_replayed(&self, id: i64, parsed: &ParsedUpdate<'_>) -> Result<(), ApiError> {
        let n = sqlx::query(
            "UPDATE events SET replay_count = replay_count + 1, kind = ?, action = ?, project_id = ?, \
             project_name = ?, summary = ?, parsed_json = ? WHERE id = ?",
        )
        .bind(parsed.kind)
        .bind(parsed.action)
        .bind(parsed.project_id)
        .bind(parsed.project_name)
        .bind(parsed.summary)
        .bind(parsed.parsed_json)
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(|e| db_error(e, self.path()))?
        .rows_affected();
        if n == 0 {
            return Err(event_not_found(id));
        }
        Ok(())
    }

    pub async fn event_count(&self) -> Result<i64, ApiError> {
        sqlx::query_scalar("SELECT COUNT(*) FROM events")
            .fetch_one(self.pool())
            .await
            .map_err(|e| db_error(e, self.path()))
    }

    pub async fn newest_event_id(&self) -> Result<Option<i64>, ApiError> {
        sqlx::query_scalar("SELECT MAX(id) FROM events")
            .fetch_one(self.pool())
            .await
            .map_err(|e| db_error(e, self.path()))
    }
}

/// Parser output written back by a replay.
pub struct ParsedUpdate<'a> {
    pub kind: &'a str,
    pub action: Option<&'a str>,
    pub project_id: Option<i64>,
    pub project_name: Option<&'a str>,
    pub summary: &'a str,
    pub parsed_json: Option<&'a str>,
}

pub(crate) fn event_not_found(id: i64) -> ApiError {
    ApiError::new(
        ErrorCode::EventNotFound,
        format!("No event has the id {id} (it may have been deleted or pruned by retention). `loopline events list` shows what is stored."),
    )
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn fts_query_neutralises_syntax() {
        assert_eq!(
            fts_query("bird wing").as_deref(),
            Some("\"bird\" \"wing\"*")
        );
        assert_eq!(
            fts_query("NEAR(\"a\" OR b)").as_deref(),
            Some("\"NEAR\" \"a\" \"OR\" \"b\"*")
        );
        assert_eq!(fts_query("  -- ").as_deref(), None);
    }
}
