//! Group commit: one thread owns the write connection, takes every event waiting in its
//! queue and writes them in one transaction; a second thread makes each transaction durable
//! (`durability`) and only then acknowledges its events. Throughput comes from batching and
//! from overlapping the disk's work with the next batch, not from weakening durability.
//!
//! The writer uses a blocking connection on its own OS thread rather than sqlx: a batch is
//! dozens of statements, and an async round trip per statement cost more than SQLite's own
//! work (measured with `scripts/bench b1`). Everything else in the store stays on sqlx.

mod checkpoints;
mod durability;
mod insert;
mod recent;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use loopline_core::{ApiError, ErrorCode, EventStatus};
use rusqlite::Connection;
use tokio::sync::{oneshot, watch};

use crate::{Store, StoredBody};
use checkpoints::Checkpoints;
use durability::{Committed, Syncer};
pub use durability::{Flush, WalFile};
use insert::{insert_all, recent_digests};
use recent::RecentDigests;

/// An event ready to be stored: the raw body plus what the parser found.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub source_id: String,
    pub received_at_ms: i64,
    pub remote_addr: Option<String>,
    /// Headers as JSON `[[name, value], …]`, secrets already masked.
    pub headers_json: String,
    /// Encoded by the caller (`StoredBody::encode`), off the writer's thread.
    pub body: StoredBody,
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
    // std's channel rather than tokio's: sending never blocks (memory is bounded by the
    // requests in flight, each of which holds its body anyway), and while the writer
    // lingers it is not waiting on the channel, so a send then costs no wake-up at all.
    tx: mpsc::Sender<Msg>,
    newest: watch::Receiver<Option<i64>>,
    wake: Arc<Wake>,
}

/// What wakes the writer while it lingers. Waking a thread is a system call and a context
/// switch; per event, on two cores, those were a measurable share of ingest. So a lingering
/// writer is woken only when the last announced request has queued its event, or when a
/// sync has finished (see `run`), not by every send.
pub(crate) struct Wake {
    /// Requests on their way to the queue (see `EventWriter::incoming`).
    incoming: AtomicUsize,
    writer: std::sync::OnceLock<std::thread::Thread>,
}

impl Wake {
    pub(crate) fn writer(&self) {
        if let Some(t) = self.writer.get() {
            t.unpark();
        }
    }
}

/// Held by a request from the moment it is known to carry an event until that event is
/// queued, so the writer knows more is on its way.
pub struct Incoming(Arc<Wake>);

impl Drop for Incoming {
    fn drop(&mut self) {
        if self.0.incoming.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.writer();
        }
    }
}

/// Largest batch per transaction; more waiting events simply go in the next one.
const MAX_BATCH: usize = 512;
/// How long a batch may wait for events announced but not yet queued.
const LINGER: Duration = Duration::from_millis(2);
/// While the previous batch is still being synced, a smaller batch waits for that sync to
/// end (its events could not be acknowledged sooner anyway) and so shares one commit with
/// what arrives meanwhile; a batch this big is worth a commit of its own at once, which
/// then overlaps the sync.
const WORTH_A_COMMIT: usize = 32;
/// However slow the disk, a waiting batch is committed after this.
const SYNC_WAIT_MAX: Duration = Duration::from_millis(10);
/// How much log the writer lets accumulate before it helps the log start over (see
/// `keep_log_short`). Roughly SQLite's own default of 1000 pages, in bytes, a few times over.
const LOG_RESTART_BYTES: u64 = 16 * 1024 * 1024;
/// Pages a commit rewrites besides the rows themselves (index leaves, the table's interior
/// page, the AUTOINCREMENT counter, the header page), for the estimate of the log's size.
const COMMIT_OVERHEAD_BYTES: u64 = 8 * 4096;

impl EventWriter {
    /// Opens the dedicated write connection and starts the writer thread and the thread
    /// that syncs its commits to disk.
    pub async fn start(
        store: &Store,
        duplicate_window: Duration,
        now_ms: i64,
    ) -> Result<EventWriter, ApiError> {
        let wal = WalFile::new(store.path());
        Self::start_with(store, duplicate_window, now_ms, Box::new(wal)).await
    }

    /// Like `start`, with the step that makes commits durable supplied by the caller.
    pub async fn start_with(
        store: &Store,
        duplicate_window: Duration,
        now_ms: i64,
        flush: Box<dyn Flush>,
    ) -> Result<EventWriter, ApiError> {
        let path = store.path().to_path_buf();
        let busy = store.options().busy_timeout;
        let window_ms = duplicate_window.as_millis() as i64;
        let (conn, recent, newest) = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
            let conn = open_connection(&path)?;
            // The newest id first: an event stored by another process meanwhile is past it,
            // and read at our first batch.
            let newest: Option<i64> = conn
                .query_row("SELECT MAX(id) FROM events", [], |r| r.get(0))
                .map_err(|e| sqlite_error(e, &path))?;
            let recent =
                recent_digests(&conn, now_ms - window_ms).map_err(|e| sqlite_error(e, &path))?;
            Ok((conn, recent, newest))
        })
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
        let (tx, rx) = mpsc::channel::<Msg>();
        let (newest_tx, newest_rx) = watch::channel(newest);
        let cannot_start =
            |e: std::io::Error| ApiError::internal(format!("cannot start the event writer: {e}"));
        let wake = Arc::new(Wake {
            incoming: AtomicUsize::new(0),
            writer: std::sync::OnceLock::new(),
        });
        let syncer = Syncer::start(flush, newest_tx, wake.clone()).map_err(cannot_start)?;
        let checkpoints = Checkpoints::start(store.path(), busy).map_err(cannot_start)?;
        let state = WriterState {
            conn: Some(conn),
            path: store.path().to_path_buf(),
            busy,
            recent,
            window_ms,
            syncer,
            checkpoints,
            next_id: None,
            accounted_up_to: newest.unwrap_or(0),
            wake: wake.clone(),
            log_bytes: 0,
            since_pass: 0,
        };
        std::thread::Builder::new()
            .name("loopline-writer".into())
            .spawn(move || run(state, rx))
            .map_err(cannot_start)?;
        Ok(EventWriter {
            tx,
            newest: newest_rx,
            wake,
        })
    }

    /// Announces an event that will be written shortly (see `Incoming`).
    pub fn incoming(&self) -> Incoming {
        self.wake.incoming.fetch_add(1, Ordering::AcqRel);
        Incoming(self.wake.clone())
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
        let sent = self
            .tx
            .send(Msg::Write(Box::new(Job { event, reply })))
            .map_err(|_| unavailable("the writer has stopped"));
        // Stop announcing only once queued: a writer that sees no request on its way knows
        // every announced event is already in its queue.
        drop(announced);
        sent?;
        wait.await
            .map_err(|_| unavailable("the writer stopped before committing"))?
    }

    /// Writes and syncs everything already queued, then closes the write connection.
    /// Later writes fail with `store_unavailable`.
    pub async fn close(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Close(done)).is_ok() {
            let _ = wait.await;
        }
    }

    /// The id of the newest event written by this process (or found at start), announced
    /// once it is durable.
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

fn open_connection(path: &std::path::Path) -> Result<Connection, ApiError> {
    let conn = Connection::open(path).map_err(|e| sqlite_error(e, path))?;
    conn.busy_handler(Some(wait_for_lock))
        .map_err(|e| sqlite_error(e, path))?;
    // NORMAL: COMMIT writes the log without syncing it; the sync thread syncs it before
    // anything is acknowledged (see `durability`), which is what FULL would do inline.
    // No automatic checkpoints: one would run inside a commit and hold up that batch; the
    // checkpoint thread does them, and the writer finishes one between batches now and then
    // (`keep_log_short`). A log that grew during a burst is cut back to 64 MiB when it
    // starts over.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864;",
    )
    .map_err(|e| sqlite_error(e, path))?;
    Ok(conn)
}

thread_local! {
    /// How long the writer waits for another connection's write lock before giving up
    /// (`StoreOptions::busy_timeout`). Per thread, as SQLite's busy handler is a plain fn
    /// and runs on the thread of the statement: the writer thread sets it.
    static BUSY_BUDGET: std::cell::Cell<Duration> = const { std::cell::Cell::new(Duration::from_secs(5)) };
}

/// The writer's busy handler. SQLite's own (`busy_timeout`) sleeps 1, 2, 5, 10, 20… ms
/// between tries, so a batch that found the lock held by a short transaction elsewhere
/// (the search indexer, a rule pass, the CLI) waited up to tens of milliseconds after it
/// was free: that was most of the receiver's p99 at 500 req/s. Try every 100 µs for the
/// first 20 ms, then every 2 ms, up to the budget.
fn wait_for_lock(tries: i32) -> bool {
    let tries = tries.max(0) as u64;
    let (waited, step) = if tries < 200 {
        (
            Duration::from_micros(100 * tries),
            Duration::from_micros(100),
        )
    } else {
        (
            Duration::from_millis(20 + 2 * (tries - 200)),
            Duration::from_millis(2),
        )
    };
    if waited >= BUSY_BUDGET.with(|b| b.get()) {
        return false;
    }
    std::thread::sleep(step);
    true
}

struct WriterState {
    conn: Option<Connection>,
    path: PathBuf,
    busy: Duration,
    /// (source, body digest) → (event id, received at), for the duplicate window.
    recent: RecentDigests,
    window_ms: i64,
    syncer: Syncer,
    checkpoints: Checkpoints,
    /// The id the next event will get, when known; read again from the database whenever
    /// another writer (another process) may have inserted.
    next_id: Option<i64>,
    /// Every event up to this id is accounted for in `recent` (stored by us, or read from
    /// the database): events past it were stored by another process.
    accounted_up_to: i64,
    wake: Arc<Wake>,
    /// Estimated bytes written to the log since it last started over.
    log_bytes: u64,
    /// ... and since the checkpoint thread was last woken.
    since_pass: u64,
}

fn run(mut state: WriterState, rx: mpsc::Receiver<Msg>) {
    let _ = state.wake.writer.set(std::thread::current());
    BUSY_BUDGET.with(|b| b.set(state.busy));
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut closing: Option<oneshot::Sender<()>> = None;
    while let Ok(first) = rx.recv() {
        take(first, &mut batch, &mut closing);
        linger(&state, &rx, &mut batch, &mut closing);
        if !batch.is_empty() {
            commit_and_hand_over(&mut state, &mut batch);
        }
        if let Some(done) = closing.take() {
            // Anything that raced in behind the close is refused, not dropped silently.
            while let Ok(msg) = rx.try_recv() {
                if let Msg::Write(job) = msg {
                    let _ = job
                        .reply
                        .send(Err(unavailable("Loopline is shutting down")));
                }
            }
            state.syncer.close();
            drop(state.conn.take());
            let _ = done.send(());
            return;
        }
        keep_log_short(&mut state);
    }
    state.syncer.close();
}

/// SQLite starts the log over from its first frame, overwriting it, only when a checkpoint
/// has copied every frame into the database before the writer begins a transaction.
/// Overwriting costs the kernel far less than appending (no block allocation, no zeroing of
/// the pages that frames straddle: measured with `scripts/bench b1`), and the log stays small.
/// The checkpoint thread copies most of the log while the writer goes on, but cannot
/// finish while it keeps writing; so past `LOG_RESTART_BYTES` the writer copies what
/// is left itself, between batches, which is usually only the last few commits. A busy
/// reader or a checkpoint in progress makes it try again after the next batch.
fn keep_log_short(state: &mut WriterState) {
    if state.log_bytes < LOG_RESTART_BYTES {
        return;
    }
    let Some(conn) = state.conn.as_ref() else {
        return;
    };
    let started = Instant::now();
    let result = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    });
    tracing::trace!(
        ?result,
        micros = started.elapsed().as_micros() as u64,
        "writer checkpoint"
    );
    match result {
        Ok((0, log, copied)) if log == copied => state.log_bytes = 0,
        Ok(_) => {}
        Err(e) => tracing::debug!("writer checkpoint failed: {e}"),
    }
}

/// What a batch adds to the log, roughly: its rows and the pages every commit rewrites.
fn log_bytes(batch: &[Job]) -> u64 {
    let rows: usize = batch
        .iter()
        .map(|j| {
            let e = &j.event;
            e.body.bytes.len()
                + e.headers_json.len()
                + e.summary.len()
                + e.parsed_json.as_ref().map_or(0, String::len)
                + 128
        })
        .sum();
    rows as u64 + COMMIT_OVERHEAD_BYTES
}

/// Group commit's one delay. Requests that passed authentication and are being read or
/// parsed right now reach the queue in a moment, and each commit costs log pages and a
/// sync, so waiting briefly for them beats committing twice; with nothing on its way
/// (light load) there is no wait at all. While the previous batch is being synced, a small
/// batch also waits for that sync (see `WORTH_A_COMMIT`).
fn linger(
    state: &WriterState,
    rx: &mpsc::Receiver<Msg>,
    batch: &mut Vec<Job>,
    closing: &mut Option<oneshot::Sender<()>>,
) {
    let started = Instant::now();
    loop {
        drain(rx, batch, closing);
        if closing.is_some() || batch.len() >= MAX_BATCH {
            break;
        }
        let waited = started.elapsed();
        let arriving = state.wake.incoming.load(Ordering::Acquire) > 0 && waited < LINGER;
        let behind_sync =
            state.syncer.busy() && batch.len() < WORTH_A_COMMIT && waited < SYNC_WAIT_MAX;
        if !arriving && !behind_sync {
            break;
        }
        let until = if arriving { LINGER } else { SYNC_WAIT_MAX };
        std::thread::park_timeout(until.saturating_sub(waited));
    }
    tracing::trace!(
        events = batch.len(),
        micros = started.elapsed().as_micros() as u64,
        "lingered"
    );
}

fn take(msg: Msg, batch: &mut Vec<Job>, closing: &mut Option<oneshot::Sender<()>>) {
    match msg {
        Msg::Write(job) => batch.push(*job),
        Msg::Close(done) => *closing = Some(done),
    }
}

fn drain(
    rx: &mpsc::Receiver<Msg>,
    batch: &mut Vec<Job>,
    closing: &mut Option<oneshot::Sender<()>>,
) {
    while closing.is_none() && batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(msg) => take(msg, batch, closing),
            Err(_) => break,
        }
    }
}

/// Commits the batch and passes it to the sync thread, which acknowledges it once durable.
fn commit_and_hand_over(state: &mut WriterState, batch: &mut Vec<Job>) {
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
            let written = log_bytes(batch);
            state.log_bytes += written;
            state.since_pass += written;
            if state.since_pass >= checkpoints::PASS_BYTES {
                state.since_pass = 0;
                state.checkpoints.wake();
            }
            let replies = batch.drain(..).map(|job| job.reply).zip(stored).collect();
            state.syncer.hand_over(Committed { replies });
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
        state.conn = Some(open_connection(&state.path)?);
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
