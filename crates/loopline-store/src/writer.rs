//! Group commit: one task owns the write connection, takes every event waiting in its queue,
//! writes them in one transaction and acknowledges each only after the COMMIT (and with
//! `synchronous=FULL`, the fsync) has returned. Throughput comes from batching, not from
//! weakening durability.

use std::collections::HashMap;
use std::time::Duration;

use loopline_core::{ApiError, ErrorCode, EventStatus};
use sqlx::sqlite::SqliteConnection;
use sqlx::{Connection, QueryBuilder, Sqlite};
use tokio::sync::{mpsc, oneshot, watch};

use crate::Store;

/// An event ready to be stored: the raw body plus what the parser found.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub source_id: String,
    pub received_at_ms: i64,
    pub remote_addr: Option<String>,
    /// Headers as JSON `[[name, value], …]`, secrets already masked.
    pub headers_json: String,
    pub body: Vec<u8>,
    pub body_sha256: [u8; 32],
    pub body_truncated: bool,
    pub kind: &'static str,
    pub action: Option<String>,
    pub project_id: Option<i64>,
    pub project_name: Option<String>,
    pub summary: String,
    pub status: EventStatus,
    pub parsed_json: Option<String>,
    pub replay_of: Option<i64>,
    /// Whether an identical recent body from the same source marks this one a duplicate.
    pub check_duplicate: bool,
}

/// What the writer did with an event, once it is on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub id: i64,
    pub status: EventStatus,
    pub duplicate_of: Option<i64>,
}

struct Job {
    event: NewEvent,
    reply: oneshot::Sender<Result<Stored, ApiError>>,
}

enum Msg {
    Write(Box<Job>),
    /// Finish what is queued ahead, close the connection, then say so.
    Close(oneshot::Sender<()>),
}

/// The handle request handlers use. Cloning is cheap; the writer stops when the last
/// handle is dropped, after finishing what is queued.
#[derive(Clone)]
pub struct EventWriter {
    tx: mpsc::Sender<Msg>,
    newest: watch::Receiver<Option<i64>>,
}

/// Largest batch per transaction; more waiting events simply go in the next one.
const MAX_BATCH: usize = 512;
/// Rows per INSERT statement. A few fixed sizes keep the prepared-statement cache small.
const CHUNKS: [usize; 4] = [64, 16, 4, 1];
const COLUMNS: &str = "source_id, received_at_ms, remote_addr, headers_json, body, body_sha256, body_truncated, \
                       kind, action, project_id, project_name, summary, status, duplicate_of, replay_of, parsed_json";

impl EventWriter {
    /// Opens the dedicated write connection and starts the writer task.
    pub async fn start(
        store: &Store,
        duplicate_window: Duration,
        now_ms: i64,
    ) -> Result<EventWriter, ApiError> {
        let mut conn = store.connect_writer().await?;
        let window_ms = duplicate_window.as_millis() as i64;
        let recent = recent_digests(&mut conn, store, now_ms - window_ms).await?;
        let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM events")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| crate::errors::db_error(e, store.path()))?;
        let (tx, rx) = mpsc::channel::<Msg>(8192);
        let (newest_tx, newest_rx) = watch::channel(newest);
        let state = WriterState {
            conn,
            store: store.clone(),
            recent,
            window_ms,
            newest: newest_tx,
        };
        tokio::spawn(run(state, rx));
        Ok(EventWriter {
            tx,
            newest: newest_rx,
        })
    }

    /// Stores one event; returns once it is committed durably.
    pub async fn write(&self, event: NewEvent) -> Result<Stored, ApiError> {
        let (reply, wait) = oneshot::channel();
        self.tx
            .send(Msg::Write(Box::new(Job { event, reply })))
            .await
            .map_err(|_| unavailable("the writer has stopped"))?;
        wait.await
            .map_err(|_| unavailable("the writer stopped before committing"))?
    }

    /// Writes everything already queued, then closes the write connection. Later writes
    /// fail with `store_unavailable`.
    pub async fn close(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Close(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// The id of the newest event written by this process (or found at start).
    pub fn subscribe_newest(&self) -> watch::Receiver<Option<i64>> {
        self.newest.clone()
    }
}

fn unavailable(why: &str) -> ApiError {
    ApiError::new(
        ErrorCode::StoreUnavailable,
        format!("Loopline cannot store events right now ({why}). Nothing was acknowledged; the sender may retry."),
    )
}

struct WriterState {
    conn: SqliteConnection,
    store: Store,
    /// (source, body digest) → (event id, received at), for the duplicate window.
    recent: HashMap<(String, [u8; 32]), (i64, i64)>,
    window_ms: i64,
    newest: watch::Sender<Option<i64>>,
}

async fn run(mut state: WriterState, mut rx: mpsc::Receiver<Msg>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut closing: Option<oneshot::Sender<()>> = None;
    while let Some(first) = rx.recv().await {
        match first {
            Msg::Write(job) => batch.push(*job),
            Msg::Close(done) => closing = Some(done),
        }
        while closing.is_none() && batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(Msg::Write(job)) => batch.push(*job),
                Ok(Msg::Close(done)) => closing = Some(done),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            commit_and_reply(&mut state, &mut batch).await;
        }
        if let Some(done) = closing.take() {
            rx.close();
            // Anything that raced in behind the close is refused, not dropped silently.
            while let Ok(msg) = rx.try_recv() {
                if let Msg::Write(job) = msg {
                    let _ = job
                        .reply
                        .send(Err(unavailable("Loopline is shutting down")));
                }
            }
            let _ = state.conn.close().await;
            let _ = done.send(());
            return;
        }
        prune_recent(&mut state);
    }
    let _ = state.conn.close().await;
}

async fn commit_and_reply(state: &mut WriterState, batch: &mut Vec<Job>) {
    match write_batch(state, batch).await {
        Ok(stored) => {
            if let Some(last) = stored.last() {
                state.newest.send_replace(Some(last.id));
            }
            for (job, s) in batch.drain(..).zip(stored) {
                let _ = job.reply.send(Ok(s));
            }
        }
        Err(err) => {
            tracing::error!(code = %err.code, "event batch not stored: {}", err.message);
            for job in batch.drain(..) {
                let _ = job.reply.send(Err(unavailable(&err.message)));
            }
            // The connection may be broken (disk gone, file replaced): start afresh.
            if let Ok(conn) = state.store.connect_writer().await {
                state.conn = conn;
            }
        }
    }
}

async fn write_batch(state: &mut WriterState, batch: &[Job]) -> Result<Vec<Stored>, ApiError> {
    let path = state.store.path().to_path_buf();
    let map = |e| crate::errors::db_error(e, &path);

    // IMMEDIATE takes the write lock up front; a deferred transaction that reads first
    // could fail to upgrade without waiting when another connection writes meanwhile.
    let mut tx = state
        .conn
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(map)?;
    let seq: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'events'",
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(map)?;
    let max_id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM events")
        .fetch_one(&mut *tx)
        .await
        .map_err(map)?;
    // AUTOINCREMENT hands out max(seq, max id) + 1, + 2, … while this connection holds the
    // write lock, so the ids are known up front (RETURNING does not promise an order).
    let base = seq.max(max_id) + 1;
    let ids: Vec<i64> = (0..batch.len() as i64).map(|k| base + k).collect();

    // Duplicates: an identical body from the same source within the window, stored earlier
    // or earlier in this very batch.
    let mut decided: Vec<(EventStatus, Option<i64>)> = Vec::with_capacity(batch.len());
    let mut fresh: HashMap<(String, [u8; 32]), (i64, i64)> = HashMap::new();
    for (i, job) in batch.iter().enumerate() {
        let ev = &job.event;
        if !(ev.check_duplicate && ev.status == EventStatus::Processed) {
            decided.push((ev.status, None));
            continue;
        }
        let key = (ev.source_id.clone(), ev.body_sha256);
        let earlier = fresh
            .get(&key)
            .or_else(|| state.recent.get(&key))
            .filter(|(_, at)| ev.received_at_ms - at <= state.window_ms)
            .map(|(id, _)| *id);
        match earlier {
            Some(original) => decided.push((EventStatus::Duplicate, Some(original))),
            None => {
                fresh.insert(key, (ids[i], ev.received_at_ms));
                decided.push((ev.status, None));
            }
        }
    }

    let mut start = 0;
    while start < batch.len() {
        let remaining = batch.len() - start;
        let size = CHUNKS
            .iter()
            .copied()
            .find(|c| *c <= remaining)
            .unwrap_or(1);
        let mut qb: QueryBuilder<Sqlite> =
            QueryBuilder::new(format!("INSERT INTO events ({COLUMNS}) "));
        qb.push_values(start..start + size, |mut row, idx| {
            let ev = &batch[idx].event;
            let (status, dup) = decided[idx];
            row.push_bind(ev.source_id.as_str())
                .push_bind(ev.received_at_ms)
                .push_bind(ev.remote_addr.as_deref())
                .push_bind(ev.headers_json.as_str())
                .push_bind(ev.body.as_slice())
                .push_bind(&ev.body_sha256[..])
                .push_bind(ev.body_truncated)
                .push_bind(ev.kind)
                .push_bind(ev.action.as_deref())
                .push_bind(ev.project_id)
                .push_bind(ev.project_name.as_deref())
                .push_bind(ev.summary.as_str())
                .push_bind(status.as_str())
                .push_bind(dup)
                .push_bind(ev.replay_of)
                .push_bind(ev.parsed_json.as_deref());
        });
        qb.build()
            .persistent(true)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        start += size;
    }
    let last: i64 = sqlx::query_scalar("SELECT last_insert_rowid()")
        .fetch_one(&mut *tx)
        .await
        .map_err(map)?;
    if Some(&last) != ids.last() {
        // Never acknowledge ids we are not sure of.
        return Err(ApiError::internal(format!(
            "event ids out of step (expected {:?}, got {last})",
            ids.last()
        )));
    }
    tx.commit().await.map_err(map)?;

    state.recent.extend(fresh);
    Ok(ids
        .iter()
        .zip(decided)
        .map(|(id, (status, duplicate_of))| Stored {
            id: *id,
            status,
            duplicate_of,
        })
        .collect())
}

fn prune_recent(state: &mut WriterState) {
    // Cheap enough to do after each batch while the map is small; bounded otherwise.
    if state.recent.len() > 50_000 {
        let newest = state.recent.values().map(|(_, at)| *at).max().unwrap_or(0);
        let horizon = newest - state.window_ms;
        state.recent.retain(|_, (_, at)| *at >= horizon);
    }
}

async fn recent_digests(
    conn: &mut SqliteConnection,
    store: &Store,
    since_ms: i64,
) -> Result<HashMap<(String, [u8; 32]), (i64, i64)>, ApiError> {
    let rows: Vec<(i64, String, Option<Vec<u8>>, i64)> = sqlx::query_as(
        "SELECT id, source_id, body_sha256, received_at_ms FROM events \
         WHERE received_at_ms >= ? AND status = 'processed' ORDER BY id",
    )
    .bind(since_ms)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| crate::errors::db_error(e, store.path()))?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, source, digest, at)| {
            let d: [u8; 32] = digest?.try_into().ok()?;
            Some(((source, d), (id, at)))
        })
        .collect())
}
