//! Judging events against the automations: the cursor past the events, each automation's
//! progress, and every firing with its outbox item commit together, so a firing is never
//! lost and never made twice.
//!
//! The pass reads and decides without the write lock, and takes it only for one short
//! transaction at the end. It used to hold the lock from its first read: with 10
//! automations, a pass over a burst of events made thousands of statements under it (each a
//! round trip to the connection's thread), and the receiver's commits, which need the same
//! lock, waited behind them. That was most of the acknowledgement's p99 at a fixed rate with
//! automations (`scripts/bench b9`). Deciding outside the lock is safe because the commit
//! first checks that nothing it decided from has moved: the cursor (another process judged
//! these events) and the automations read (one was edited, paused or removed). If anything
//! did, it writes nothing and the caller judges again.

use std::collections::{BTreeMap, HashMap};

use loopline_core::{ApiError, Automation, DeliveryStatus};
use serde_json::json;
use sqlx::{Row, SqlitePool};

use crate::automations::{
    automation_event_from_row, automation_from_row, outbox_kind, status_str, AutomationEvent,
    Firing, AUTOMATION_EVENT_COLUMNS, CURSOR,
};
use crate::errors::db_error;
use crate::outbox::ENQUEUE_CONFLICT;
use crate::Store;

/// One judging pass over the events past the cursor. Nothing is written until `commit`;
/// dropping it changes nothing.
pub struct AutomationPass {
    pool: SqlitePool,
    path: std::path::PathBuf,
    /// The cursor the events were read after; the commit moves it only from here.
    cursor: i64,
    pub events: Vec<AutomationEvent>,
    /// Per source, the automations as read (compared at commit) and as the pass has moved
    /// them (the progress of an "every N" automation carries from one event to the next).
    read: HashMap<String, Vec<Automation>>,
    current: HashMap<String, Vec<Automation>>,
    firings: Vec<Planned>,
    /// Per automation, its counter's last value and the multiple it last fired for.
    progress: BTreeMap<String, (i64, i64)>,
}

struct Planned {
    automation_id: String,
    kind: &'static str,
    dry_run: bool,
    event_id: i64,
    now_ms: i64,
    deadline_at_ms: i64,
}

impl Store {
    /// Reads the next events past the automations cursor (none: nothing to judge, or no
    /// automation was ever added, so the cursor is not placed).
    pub async fn begin_automation_pass(
        &self,
        limit: i64,
    ) -> Result<Option<AutomationPass>, ApiError> {
        let map = |e| db_error(e, self.path());
        let mut conn = self.pool().acquire().await.map_err(map)?;
        let Some(cursor) = read_cursor(&mut conn).await.map_err(map)? else {
            return Ok(None);
        };
        let rows = sqlx::query(&format!(
            "SELECT {AUTOMATION_EVENT_COLUMNS} FROM events WHERE id > ? ORDER BY id LIMIT ?"
        ))
        .bind(cursor)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await
        .map_err(map)?;
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(AutomationPass {
            pool: self.pool().clone(),
            path: self.path().to_path_buf(),
            cursor,
            events: rows.iter().map(automation_event_from_row).collect(),
            read: HashMap::new(),
            current: HashMap::new(),
            firings: Vec::new(),
            progress: BTreeMap::new(),
        }))
    }
}

async fn read_cursor(conn: &mut sqlx::SqliteConnection) -> Result<Option<i64>, sqlx::Error> {
    Ok(
        sqlx::query_scalar::<_, String>("SELECT value FROM settings WHERE key = ?")
            .bind(CURSOR)
            .fetch_optional(&mut *conn)
            .await?
            .and_then(|v| v.parse().ok()),
    )
}

async fn automations_of(
    conn: &mut sqlx::SqliteConnection,
    source_id: &str,
    path: &std::path::Path,
) -> Result<Vec<Automation>, ApiError> {
    sqlx::query("SELECT * FROM automations WHERE source_id = ? AND paused = 0 ORDER BY id")
        .bind(source_id)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| db_error(e, path))?
        .iter()
        .map(automation_from_row)
        .collect()
}

impl AutomationPass {
    /// The source's automations that are not paused, with the progress this pass made.
    pub async fn automations_for(&mut self, source_id: &str) -> Result<Vec<Automation>, ApiError> {
        if let Some(current) = self.current.get(source_id) {
            return Ok(current.clone());
        }
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| db_error(e, &self.path))?;
        let read = automations_of(&mut conn, source_id, &self.path).await?;
        self.read.insert(source_id.to_string(), read.clone());
        self.current.insert(source_id.to_string(), read.clone());
        Ok(read)
    }

    /// Records a firing and its outbox item (none for a dry run), written at `commit`. A
    /// firing already recorded by an earlier pass is not written again.
    pub fn fire(&mut self, firing: &Firing<'_>) {
        let a = firing.automation;
        self.firings.push(Planned {
            automation_id: a.id.clone(),
            kind: outbox_kind(&a.action),
            dry_run: a.dry_run,
            event_id: firing.event_id,
            now_ms: firing.now_ms,
            deadline_at_ms: firing.deadline_at_ms,
        });
    }

    /// Keeps an "every N" automation's counter and the multiple it last fired for; the
    /// pass's next events see them.
    pub fn set_progress(&mut self, automation_id: &str, count: i64, fired_bucket: i64) {
        for a in self.current.values_mut().flatten() {
            if a.id == automation_id {
                a.count = Some(count);
                a.fired_bucket = fired_bucket;
            }
        }
        self.progress
            .insert(automation_id.to_string(), (count, fired_bucket));
    }

    /// Writes what the pass decided and moves the cursor past its events, in one short
    /// transaction. `Some(n)`: committed, `n` firings were new. `None`: another process
    /// judged these events first, or an automation the pass read has changed since;
    /// nothing was written, and the caller judges again from what is there now.
    pub async fn commit(self) -> Result<Option<usize>, ApiError> {
        let map = |e| db_error(e, &self.path);
        // IMMEDIATE: the write lock from the first statement, so the checks below hold
        // until the commit.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(map)?;
        if read_cursor(&mut tx).await.map_err(map)? != Some(self.cursor) {
            return Ok(None);
        }
        for (source, read) in &self.read {
            if automations_of(&mut tx, source, &self.path).await? != *read {
                return Ok(None);
            }
        }
        let new = self.write_firings(&mut tx).await.map_err(map)?;
        crate::event_cursor::write_progress(&mut tx, "automations", &self.progress)
            .await
            .map_err(map)?;
        if let Some(last) = self.events.last() {
            sqlx::query("UPDATE settings SET value = ? WHERE key = ?")
                .bind(last.id.to_string())
                .bind(CURSOR)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
        }
        tx.commit().await.map_err(map)?;
        Ok(Some(new))
    }

    /// The firings, their counts and their outbox items, a statement each for all of them.
    /// Returns how many were new (not already recorded for their event).
    async fn write_firings(&self, tx: &mut sqlx::SqliteConnection) -> Result<usize, sqlx::Error> {
        if self.firings.is_empty() {
            return Ok(0);
        }
        let planned: HashMap<(&str, i64), &Planned> = self
            .firings
            .iter()
            .map(|f| ((f.automation_id.as_str(), f.event_id), f))
            .collect();
        let rows: Vec<_> = self
            .firings
            .iter()
            .map(|f| {
                let status = if f.dry_run {
                    DeliveryStatus::WouldFire
                } else {
                    DeliveryStatus::Pending
                };
                json!({"a": f.automation_id, "e": f.event_id, "s": status_str(status), "t": f.now_ms})
            })
            .collect();
        // `WHERE true`: without it SQLite would read ON CONFLICT as part of the SELECT's join.
        let inserted = sqlx::query(
            "INSERT INTO automation_deliveries (automation_id, event_id, status, decided_at_ms) \
             SELECT j.value ->> '$.a', j.value ->> '$.e', j.value ->> '$.s', j.value ->> '$.t' \
             FROM json_each(?) AS j WHERE true \
             ON CONFLICT (automation_id, event_id) DO NOTHING RETURNING id, automation_id, event_id",
        )
        .bind(serde_json::Value::from(rows).to_string())
        .fetch_all(&mut *tx)
        .await?;
        let mut fired: BTreeMap<String, i64> = BTreeMap::new();
        let mut items = Vec::new();
        for row in &inserted {
            let automation_id: String = row.get("automation_id");
            let event_id: i64 = row.get("event_id");
            *fired.entry(automation_id.clone()).or_default() += 1;
            let Some(f) = planned.get(&(automation_id.as_str(), event_id)) else {
                continue;
            };
            if !f.dry_run {
                items.push(json!({
                    "k": f.kind,
                    "key": format!("automation:{automation_id}:event:{event_id}"),
                    "sub": row.get::<i64, _>("id"),
                    "now": f.now_ms,
                    "dl": f.deadline_at_ms,
                }));
            }
        }
        if !fired.is_empty() {
            let counts: Vec<_> = fired
                .iter()
                .map(|(id, n)| json!({"id": id, "n": n}))
                .collect();
            sqlx::query(
                "UPDATE automations SET fired = fired + (j.value ->> '$.n') \
                 FROM json_each(?) AS j WHERE automations.id = j.value ->> '$.id'",
            )
            .bind(serde_json::Value::from(counts).to_string())
            .execute(&mut *tx)
            .await?;
        }
        if !items.is_empty() {
            // As `outbox::enqueue`, for many at once.
            sqlx::query(&format!(
                "INSERT INTO outbox_items (kind, idempotency_key, subject_id, payload_json, state, next_attempt_at_ms, deadline_at_ms, created_at_ms) \
                 SELECT j.value ->> '$.k', j.value ->> '$.key', j.value ->> '$.sub', '{{}}', 'pending', \
                 j.value ->> '$.now', j.value ->> '$.dl', j.value ->> '$.now' FROM json_each(?) AS j WHERE true \
                 {ENQUEUE_CONFLICT}"
            ))
            .bind(serde_json::Value::from(items).to_string())
            .execute(&mut *tx)
            .await?;
        }
        Ok(inserted.len())
    }
}
