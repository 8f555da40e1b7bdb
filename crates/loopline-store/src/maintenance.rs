//! Work that happens after acknowledgement: full-text indexing and retention.

use loopline_core::{ApiError, RetentionPolicy};
use sqlx::{QueryBuilder, Row, Sqlite};

use crate::body::decode;
use crate::errors::db_error;
use crate::Store;

const FTS_UPTO: &str = "fts.indexed_upto";
const RETENTION_DAYS: &str = "retention.max_days";
const RETENTION_EVENTS: &str = "retention.max_events";
/// Rows per indexing or pruning transaction: small enough that the receiver's writer never
/// waits long for the lock.
const CHUNK: i64 = 500;
/// Rows per indexing transaction: about a millisecond of FTS work each.
const INDEX_CHUNK: i64 = 100;

/// One stored event as the indexer sees it.
pub struct IndexInput<'a> {
    pub action: Option<&'a str>,
    pub summary: &'a str,
    pub body: &'a [u8],
}

impl Store {
    /// Indexes up to one chunk of events not yet in the full-text index. Returns how many
    /// were indexed; 0 means the index has caught up.
    pub async fn index_pending(
        &self,
        text_of: impl Fn(IndexInput<'_>) -> String,
    ) -> Result<usize, ApiError> {
        let map = |e| db_error(e, self.path());
        let upto: i64 = self
            .setting(FTS_UPTO)
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let rows = sqlx::query(
            "SELECT id, action, summary, body, body_codec, body_len FROM events WHERE id > ? ORDER BY id LIMIT ?",
        )
        .bind(upto)
        .bind(INDEX_CHUNK)
        .fetch_all(self.pool())
        .await
        .map_err(map)?;
        if rows.is_empty() {
            return Ok(0);
        }
        // Texts are made before the transaction, so the write lock is held only for the
        // index inserts themselves.
        let texts: Vec<(i64, String)> = rows
            .iter()
            .map(|r| {
                let id: i64 = r.get("id");
                let action: Option<String> = r.get("action");
                let summary: String = r.get("summary");
                // An unreadable body still leaves the event findable by its summary.
                let body = decode(id, r.get("body_codec"), r.get("body"), r.get("body_len"))
                    .unwrap_or_default();
                let text = text_of(IndexInput {
                    action: action.as_deref(),
                    summary: &summary,
                    body: &body,
                });
                (id, text)
            })
            .collect();
        // One statement for the whole chunk, on the indexer's own connection (see
        // `Store::index_pool`): the write lock is held for as short a time as possible.
        let last = texts.last().map(|(id, _)| *id).unwrap_or(upto);
        let mut insert: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO events_fts (rowid, text) ");
        insert.push_values(texts, |mut row, (id, text)| {
            row.push_bind(id).push_bind(text);
        });
        // IMMEDIATE, and the mark read again under the lock: another process's indexer may
        // have indexed this chunk since it was read (then this one steps aside; a deferred
        // transaction would also have failed its upgrade with SQLITE_BUSY_SNAPSHOT, which
        // the busy timeout does not retry).
        let mut tx = self
            .index_pool()
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map)?;
        let now_upto: i64 =
            sqlx::query_scalar::<_, String>("SELECT value FROM settings WHERE key = ?")
                .bind(FTS_UPTO)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map)?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
        if now_upto != upto {
            return Ok(rows.len());
        }
        insert.build().execute(&mut *tx).await.map_err(map)?;
        sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(FTS_UPTO)
            .bind(last.to_string())
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        tx.commit().await.map_err(map)?;
        Ok(rows.len())
    }

    pub async fn retention(&self) -> Result<RetentionPolicy, ApiError> {
        Ok(RetentionPolicy {
            max_days: self
                .setting(RETENTION_DAYS)
                .await?
                .and_then(|v| v.parse().ok()),
            max_events: self
                .setting(RETENTION_EVENTS)
                .await?
                .and_then(|v| v.parse().ok()),
        })
    }

    pub async fn set_retention(&self, policy: &RetentionPolicy) -> Result<(), ApiError> {
        for (key, value) in [
            (RETENTION_DAYS, policy.max_days.map(|d| d.to_string())),
            (RETENTION_EVENTS, policy.max_events.map(|n| n.to_string())),
        ] {
            match value {
                Some(v) => self.set_setting(key, &v).await?,
                None => {
                    sqlx::query("DELETE FROM settings WHERE key = ?")
                        .bind(key)
                        .execute(self.pool())
                        .await
                        .map_err(|e| db_error(e, self.path()))?;
                }
            }
        }
        Ok(())
    }

    /// Deletes one chunk of events past the retention policy. Returns how many went;
    /// call again until it returns 0.
    pub async fn prune_chunk(&self, now_ms: i64) -> Result<u64, ApiError> {
        let policy = self.retention().await?;
        let map = |e| db_error(e, self.path());
        let mut cutoff_id: Option<i64> = None;
        if let Some(days) = policy.max_days {
            let before_ms = now_ms - i64::from(days) * 86_400_000;
            // The newest event older than the cutoff; everything up to it goes.
            let id: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM events WHERE id <= (SELECT MAX(id) FROM events WHERE received_at_ms < ?) \
                 ORDER BY id DESC LIMIT 1",
            )
            .bind(before_ms)
            .fetch_one(self.pool())
            .await
            .map_err(map)
            .ok()
            .flatten();
            cutoff_id = cutoff_id.max(id);
        }
        if let Some(keep) = policy.max_events.filter(|n| *n >= 0) {
            let id: Option<i64> =
                sqlx::query_scalar("SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?")
                    .bind(keep)
                    .fetch_optional(self.pool())
                    .await
                    .map_err(map)?;
            cutoff_id = cutoff_id.max(id);
        }
        let Some(cutoff) = cutoff_id else {
            return Ok(0);
        };
        // IMMEDIATE: the read decides the delete, so the write lock is taken first (a
        // deferred transaction fails its upgrade with SQLITE_BUSY_SNAPSHOT when the receiver
        // commits in between, and the busy timeout does not retry that).
        let mut tx = self
            .pool()
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map)?;
        let ids: Vec<i64> = sqlx::query("SELECT id FROM events WHERE id <= ? ORDER BY id LIMIT ?")
            .bind(cutoff)
            .bind(CHUNK)
            .fetch_all(&mut *tx)
            .await
            .map_err(map)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let (Some(first), Some(last)) = (ids.first(), ids.last()) else {
            return Ok(0);
        };
        let n = sqlx::query("DELETE FROM events WHERE id BETWEEN ? AND ?")
            .bind(first)
            .bind(last)
            .execute(&mut *tx)
            .await
            .map_err(map)?
            .rows_affected();
        sqlx::query("DELETE FROM events_fts WHERE rowid BETWEEN ? AND ?")
            .bind(first)
            .bind(last)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        tx.commit().await.map_err(map)?;
        Ok(n)
    }
}
