//! Copies the write-ahead log into the database file, off the writer's path, on a thread of
//! its own with its own connection.
//!
//! The writer wakes it for every `PASS_BYTES` of log it writes, so each pass copies about
//! that much whatever the rate: under load, passes follow each other and when the writer
//! helps the log start over (see `keep_log_short`) only the last commits are left to copy;
//! at a trickle, a pass (and its sync of the database file) does not run for every event.
//! Otherwise it looks every half second, for writes made by other connections (settings,
//! rules, the search index) or other processes.
//! (It was an async task on the engine's sqlx pool; each pass then cost several thread
//! hand-offs and a connection ping, hundreds of times a second under load.)

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::Thread;
use std::time::Duration;

use rusqlite::Connection;

/// Log written between two passes under load (about 250 pages).
pub(crate) const PASS_BYTES: u64 = 1024 * 1024;
const IDLE_PAUSE: Duration = Duration::from_millis(500);

/// The writer's handle: nudges the thread after a commit; stops it when dropped.
pub(crate) struct Checkpoints {
    shared: Arc<Shared>,
}

struct Shared {
    thread: OnceLock<Thread>,
    stop: AtomicBool,
}

impl Checkpoints {
    pub(crate) fn start(db: &Path, busy: Duration) -> std::io::Result<Checkpoints> {
        let shared = Arc::new(Shared {
            thread: OnceLock::new(),
            stop: AtomicBool::new(false),
        });
        let theirs = shared.clone();
        let db = db.to_path_buf();
        std::thread::Builder::new()
            .name("loopline-checkpoint".into())
            .spawn(move || {
                let _ = theirs.thread.set(std::thread::current());
                run(&db, busy, &theirs)
            })?;
        Ok(Checkpoints { shared })
    }

    /// The writer has written another `PASS_BYTES` of log: time for a pass.
    pub(crate) fn wake(&self) {
        if let Some(t) = self.shared.thread.get() {
            t.unpark();
        }
    }
}

impl Drop for Checkpoints {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        self.wake();
    }
}

fn run(db: &Path, busy: Duration, shared: &Shared) {
    let mut conn: Option<Connection> = None;
    while !shared.stop.load(Ordering::Acquire) {
        std::thread::park_timeout(IDLE_PAUSE);
        if shared.stop.load(Ordering::Acquire) {
            break;
        }
        if conn.is_none() {
            conn = open(db, busy);
        }
        if let Some(c) = conn.as_ref() {
            if let Err(e) = pass(c, db) {
                tracing::debug!("checkpoint skipped: {e}");
                conn = None;
            }
        }
    }
}

fn open(db: &Path, busy: Duration) -> Option<Connection> {
    let conn = Connection::open(db).ok()?;
    conn.busy_timeout(busy).ok()?;
    Some(conn)
}

/// One PASSIVE checkpoint.
fn pass(conn: &Connection, db: &Path) -> rusqlite::Result<()> {
    let (_busy, log, copied): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    if copied > 0 && copied < log {
        // SQLite syncs the database file only when a checkpoint reaches the end of the log;
        // one that stops short (the writer kept writing) leaves its pages dirty in the page
        // cache, and the complete checkpoint that lets the log start over would then flush
        // all of them at once, on the writer's path. Flushing here keeps that one small.
        // Durability does not depend on it: the log still holds these pages.
        let _ = crate::sync_file::open_for_sync(&PathBuf::from(db)).and_then(|f| f.sync_data());
    }
    Ok(())
}
