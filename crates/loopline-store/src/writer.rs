//! Group commit: one thread owns the write connection, takes every event waiting in its
//! queue, writes them in one transaction and acknowledges each only after the COMMIT (and
//! with `synchronous=FULL`, the fsync) has returned. Throughput comes from batching, not
//! from weakening durability.
//!
//! The writer uses a blocking connection on its own OS thread rather than sqlx: a batch is
//! dozens of statements, and an async round trip per statement cost more than SQLite's own
//! work (measured with `scripts/bench b1`). Everything else in the store stays on sqlx.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use loopline_core::{ApiError, ErrorCode, EventStatus};
use rusqlite::{params, Connection, TransactionBehavior};
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
    incoming: Arc<AtomicUsize>,
}

/// Held by a request from the moment it is known to carry an event until that event is
/// queued, so the writer knows more is on its way.
pub struct Incoming(Arc<AtomicUsize>);

impl Drop for Incoming {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Largest batch per transaction; more waiting events simply go in the next one.
const MAX_BATCH: usize = 512;
/// How long a batch may wait for events announced but not yet queued.
const LINGER: Duration = Duration::from_millis(2);
/// Past this, the writer checkpoints the log itself (see `guard_wal_size`).
const WAL_LIMIT_BYTES: u64 = 512 * 1024 * 1024;
const INSERT: &str = "INSERT INTO events (source_id, received_at_ms, remote_addr, headers_json, body, body_sha256, \
     body_truncated, kind, action, project_id, project_name, summary, status, duplicate_of, replay_of, parsed_json) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";

impl EventWriter {
    /// Opens the dedicated write connection and starts the writer thread.
    pub async fn start(
        store: &Store,
        duplicate_window: Duration,
        now_ms: i64,
    ) -> Result<EventWriter, ApiError> {
        let path = store.path().to_path_buf();
        let busy = store.options().busy_timeout;
        let window_ms = duplicate_window.as_millis() as i64;
        let (conn, recent, newest) = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
            let conn = open_connection(&path, busy)?;
            let recent =
                recent_digests(&conn, now_ms - window_ms).map_err(|e| sqlite_error(e, &path))?;
            let newest: Option<i64> = conn
                .query_row("SELECT MAX(id) FROM events", [], |r| r.get(0))
                .map_err(|e| sqlite_error(e, &path))?;
            Ok((conn, recent, newest))
        })
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
        let (tx, rx) = mpsc::channel::<Msg>(8192);
        let (newest_tx, newest_rx) = watch::channel(newest);
        let incoming = Arc::new(AtomicUsize::new(0));
        let state = WriterState {
            conn: Some(conn),
            path: store.path().to_path_buf(),
            busy,
            recent,
            window_ms,
            newest: newest_tx,
            next_id: None,
            incoming: incoming.clone(),
            batches_since_wal_check: 0,
        };
        std::thread::Builder::new()
            .name("loopline-writer".into())
            .spawn(move || run(state, rx))
            .map_err(|e| ApiError::internal(format!("cannot start the event writer: {e}")))?;
        Ok(EventWriter {
            tx,
            newest: newest_rx,
            incoming,
        })
    }

    /// Announces an event that will be written shortly (see `Incoming`).
    pub fn incoming(&self) -> Incoming {
        self.incoming.fetch_add(1, Ordering::AcqRel);
        Incoming(self.incoming.clone())
    }

    /// Stores one event; returns once it is committed durably.
    pub async fn write(&self, event: NewEvent) -> Result<Stored, ApiError> {
        self.write_announced(event, None).await
    }

    /// Like `write`, for an event announced with `incoming()`.
    pub async fn write_announced(
        &self,
        event: NewEvent,
        announced: Option<Incoming>,
    ) -> Result<Stored, ApiError> {
        let (reply, wait) = oneshot::channel();
        // Stop announcing just before queueing: the writer then either finds the event in
        // the queue or commits without waiting for it, never waits for nothing.
        drop(announced);
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

fn sqlite_error(e: rusqlite::Error, path: &std::path::Path) -> ApiError {
    let code = match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
        {
            ErrorCode::DbLocked
        }
        _ => ErrorCode::DbError,
    };
    ApiError::new(
        code,
        format!("the database at {} answered: {e}", path.display()),
    )
}

fn open_connection(path: &std::path::Path, busy: Duration) -> Result<Connection, ApiError> {
    let conn = Connection::open(path).map_err(|e| sqlite_error(e, path))?;
    conn.busy_timeout(busy).map_err(|e| sqlite_error(e, path))?;
    // The writer never checkpoints: an automatic checkpoint would run inside its commit and
    // hold up every acknowledgement in that batch. The engine checkpoints from elsewhere.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0;",
    )
    .map_err(|e| sqlite_error(e, path))?;
    Ok(conn)
}

/// (source, body digest) → (event id, received at ms), for the duplicate window.
type RecentDigests = HashMap<(String, [u8; 32]), (i64, i64)>;

struct WriterState {
    conn: Option<Connection>,
    path: PathBuf,
    busy: Duration,
    /// (source, body digest) → (event id, received at), for the duplicate window.
    recent: RecentDigests,
    window_ms: i64,
    newest: watch::Sender<Option<i64>>,
    /// The id the next event will get, when known; read again from the database whenever
    /// another writer (another process) may have inserted.
    next_id: Option<i64>,
    /// Requests on their way to the queue (see `EventWriter::incoming`).
    incoming: Arc<AtomicUsize>,
    batches_since_wal_check: u32,
}

fn run(mut state: WriterState, mut rx: mpsc::Receiver<Msg>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut closing: Option<oneshot::Sender<()>> = None;
    while let Some(first) = rx.blocking_recv() {
        match first {
            Msg::Write(job) => batch.push(*job),
            Msg::Close(done) => closing = Some(done),
        }
        drain(&mut rx, &mut batch, &mut closing);
        // Group commit's one delay: requests that passed authentication and are being read
        // or parsed right now reach the queue in a moment. A commit costs an fsync, so
        // waiting briefly for them beats committing twice. With nothing on its way (light
        // load) there is no wait at all.
        let until = Instant::now() + LINGER;
        while closing.is_none()
            && batch.len() < MAX_BATCH
            && state.incoming.load(Ordering::Acquire) > 0
            && Instant::now() < until
        {
            std::thread::sleep(Duration::from_micros(50));
            drain(&mut rx, &mut batch, &mut closing);
        }
        if !batch.is_empty() {
            commit_and_reply(&mut state, &mut batch);
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
            drop(state.conn.take());
            let _ = done.send(());
            return;
        }
        prune_recent(&mut state);
        guard_wal_size(&mut state);
    }
}

/// The engine checkpoints from another connection while it runs; a writer used without it
/// (a bulk import, a tool) must still not grow the log without bound.
fn guard_wal_size(state: &mut WriterState) {
    state.batches_since_wal_check += 1;
    if state.batches_since_wal_check < 256 {
        return;
    }
    state.batches_since_wal_check = 0;
    let wal = PathBuf::from(format!("{}-wal", state.path.display()));
    let big = std::fs::metadata(&wal)
        .map(|m| m.len() > WAL_LIMIT_BYTES)
        .unwrap_or(false);
    if let (true, Some(conn)) = (big, state.conn.as_ref()) {
        let _ = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE);");
    }
}

fn drain(
    rx: &mut mpsc::Receiver<Msg>,
    batch: &mut Vec<Job>,
    closing: &mut Option<oneshot::Sender<()>>,
) {
    while closing.is_none() && batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(Msg::Write(job)) => batch.push(*job),
            Ok(Msg::Close(done)) => *closing = Some(done),
            Err(_) => break,
        }
    }
}

fn commit_and_reply(state: &mut WriterState, batch: &mut Vec<Job>) {
    let started = Instant::now();
    let mut result = write_batch(state, batch);
    if result.is_err() && state.next_id.is_none() {
        // Ids moved (another process wrote) or the connection failed: one fresh attempt.
        result = write_batch(state, batch);
    }
    tracing::trace!(
        events = batch.len(),
        micros = started.elapsed().as_micros() as u64,
        "group commit"
    );
    match result {
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
        }
    }
}

fn write_batch(state: &mut WriterState, batch: &[Job]) -> Result<Vec<Stored>, ApiError> {
    if state.conn.is_none() {
        // A previous failure dropped the connection (disk gone, file replaced): start afresh.
        state.conn = Some(open_connection(&state.path, state.busy)?);
    }
    let path = state.path.clone();
    let result = insert_all(state, batch);
    if let Err(e) = &result {
        // Read the next id again rather than trust what we remembered, and reconnect if
        // the failure was more than a busy lock.
        state.next_id = None;
        if e.code != ErrorCode::DbLocked {
            state.conn = None;
        }
        tracing::debug!(path = %path.display(), "batch failed: {}", e.message);
    }
    result
}

fn insert_all(state: &mut WriterState, batch: &[Job]) -> Result<Vec<Stored>, ApiError> {
    let path = state.path.clone();
    let map = |e| sqlite_error(e, &path);
    let conn = state.conn.as_mut().expect("connection present");
    // IMMEDIATE takes the write lock up front; a deferred transaction that reads first
    // could fail to upgrade without waiting when another connection writes meanwhile.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(map)?;
    // AUTOINCREMENT hands out max(seq, max id) + 1, + 2, … while this connection holds the
    // write lock. The next id is remembered between batches and each insert's id is
    // checked against it; if another process inserted meanwhile, the batch rolls back.
    let base = match state.next_id {
        Some(n) => n,
        None => next_id_from_db(&tx).map_err(map)?,
    };
    let ids: Vec<i64> = (0..batch.len() as i64).map(|k| base + k).collect();

    // Duplicates: an identical body from the same source within the window, stored earlier
    // or earlier in this very batch.
    let mut decided: Vec<(EventStatus, Option<i64>)> = Vec::with_capacity(batch.len());
    let mut fresh: RecentDigests = HashMap::new();
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

    {
        let mut stmt = tx.prepare_cached(INSERT).map_err(map)?;
        for (i, job) in batch.iter().enumerate() {
            let ev = &job.event;
            let (status, dup) = decided[i];
            let id = stmt
                .insert(params![
                    ev.source_id,
                    ev.received_at_ms,
                    ev.remote_addr,
                    ev.headers_json,
                    ev.body,
                    &ev.body_sha256[..],
                    ev.body_truncated,
                    ev.kind,
                    ev.action,
                    ev.project_id,
                    ev.project_name,
                    ev.summary,
                    status.as_str(),
                    dup,
                    ev.replay_of,
                    ev.parsed_json,
                ])
                .map_err(map)?;
            if id != ids[i] {
                // Never acknowledge ids we are not sure of: roll back (dropping the
                // transaction does) and let the caller try once more with fresh ids.
                return Err(ApiError::internal(
                    "event ids moved under the writer; retrying",
                ));
            }
        }
    }
    tx.commit().map_err(map)?;
    state.next_id = ids.last().map(|l| l + 1);
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

fn next_id_from_db(conn: &Connection) -> Result<i64, rusqlite::Error> {
    let seq: i64 = conn.query_row(
        "SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'events'",
        [],
        |r| r.get(0),
    )?;
    let max_id: i64 =
        conn.query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |r| r.get(0))?;
    Ok(seq.max(max_id) + 1)
}

fn prune_recent(state: &mut WriterState) {
    // Cheap enough to do after each batch while the map is small; bounded otherwise.
    if state.recent.len() > 50_000 {
        let newest = state.recent.values().map(|(_, at)| *at).max().unwrap_or(0);
        let horizon = newest - state.window_ms;
        state.recent.retain(|_, (_, at)| *at >= horizon);
    }
}

fn recent_digests(conn: &Connection, since_ms: i64) -> Result<RecentDigests, rusqlite::Error> {
    // Ids follow arrival, so the recent events are the last ids: a bounded scan from the
    // end of the table, never a walk of a large store.
    let mut stmt = conn.prepare(
        "SELECT id, source_id, body_sha256, received_at_ms FROM events \
         WHERE id > (SELECT COALESCE(MAX(id), 0) FROM events) - 200000 \
           AND received_at_ms >= ? AND status = 'processed' ORDER BY id",
    )?;
    let rows = stmt.query_map([since_ms], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<Vec<u8>>>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    let mut out = HashMap::new();
    for row in rows {
        let (id, source, digest, at) = row?;
        if let Some(d) = digest.and_then(|d| <[u8; 32]>::try_from(d).ok()) {
            out.insert((source, d), (id, at));
        }
    }
    Ok(out)
}
