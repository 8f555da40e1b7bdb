//! Acknowledging only what is on disk, without making the writer wait for the disk.
//!
//! The writer commits with `synchronous=NORMAL`: SQLite writes a transaction's frames to the
//! write-ahead log but does not fsync inside COMMIT. This thread then calls `fdatasync` on
//! the log and only when it has returned answers the requests whose transactions committed
//! before the call began. That is the guarantee `synchronous=FULL` gives (FULL fsyncs the
//! same file at the end of each COMMIT), with two differences that make it faster: the
//! writer prepares the next batch while the disk works, and one `fdatasync` covers every
//! transaction committed before it started.
//!
//! Checkpoints are unaffected: with NORMAL, SQLite still syncs the log before copying it
//! into the database file and syncs the database file afterwards.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;

use loopline_core::ApiError;
use tokio::sync::{oneshot, watch};

use super::{unavailable, Stored, Wake};
use crate::sync_file::open_for_sync;

pub(crate) type Reply = oneshot::Sender<Result<Stored, ApiError>>;

/// Makes everything committed so far durable. The real one syncs the write-ahead log;
/// tests substitute one they can hold or fail.
pub trait Flush: Send + 'static {
    fn flush(&mut self) -> io::Result<()>;
}

/// The database's write-ahead log (`<db>-wal`), opened by path. SQLite keeps the log while
/// any connection is open (the writer's always is), so the file stays the same; it is
/// still checked by inode before every sync, and reopened if it was ever replaced.
pub struct WalFile {
    db: PathBuf,
    wal: PathBuf,
    open: Option<(File, u64, u64)>,
}

impl WalFile {
    pub fn new(db: &Path) -> WalFile {
        WalFile {
            db: db.to_path_buf(),
            wal: PathBuf::from(format!("{}-wal", db.display())),
            open: None,
        }
    }
}

/// Which file a path names: the device and inode on Unix. Windows has no stable way to ask
/// (`file_index` is unstable), and it also refuses to delete a file SQLite holds open, so
/// there the log is simply the same file while it exists.
#[cfg(unix)]
fn identity(m: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

#[cfg(not(unix))]
fn identity(_m: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

impl Flush for WalFile {
    fn flush(&mut self) -> io::Result<()> {
        let current = match std::fs::metadata(&self.wal) {
            Ok(m) => identity(&m),
            // No log at all means every commit is already in the database file itself.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.open = None;
                return open_for_sync(&self.db)?.sync_data();
            }
            Err(e) => return Err(e),
        };
        if !matches!(&self.open, Some((_, dev, ino)) if (*dev, *ino) == current) {
            let file = open_for_sync(&self.wal)?;
            let (dev, ino) = identity(&file.metadata()?);
            self.open = Some((file, dev, ino));
        }
        match &self.open {
            Some((file, _, _)) => file.sync_data(),
            None => Ok(()),
        }
    }
}

/// One committed batch, waiting for the sync that makes it durable.
pub(crate) struct Committed {
    pub replies: Vec<(Reply, Stored)>,
}

pub(crate) enum SyncMsg {
    Committed(Committed),
    /// Sync and answer everything queued ahead, then say so.
    Close(mpsc::Sender<()>),
}

/// The writer's handle on the sync thread.
pub(crate) struct Syncer {
    tx: mpsc::Sender<SyncMsg>,
    /// Batches handed over and not yet answered; the writer reads it to decide whether
    /// committing a small batch now would gain anything.
    pending: Arc<AtomicUsize>,
}

impl Syncer {
    pub(crate) fn start(
        flush: Box<dyn Flush>,
        newest: watch::Sender<Option<i64>>,
        wake: Arc<Wake>,
    ) -> io::Result<Syncer> {
        let (tx, rx) = mpsc::channel();
        let pending = Arc::new(AtomicUsize::new(0));
        let counter = pending.clone();
        std::thread::Builder::new()
            .name("loopline-sync".into())
            .spawn(move || run(flush, rx, newest, counter, wake))?;
        Ok(Syncer { tx, pending })
    }

    /// Hands a committed batch over. If the sync thread is gone, its requests are refused
    /// (their replies are dropped, which their waiters read as "not stored").
    pub(crate) fn hand_over(&self, batch: Committed) {
        self.pending.fetch_add(1, Ordering::AcqRel);
        if self.tx.send(SyncMsg::Committed(batch)).is_err() {
            self.pending.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// True while a sync is running or queued.
    pub(crate) fn busy(&self) -> bool {
        self.pending.load(Ordering::Acquire) > 0
    }

    /// Waits until everything handed over has been synced and answered.
    pub(crate) fn close(&self) {
        let (done, wait) = mpsc::channel();
        if self.tx.send(SyncMsg::Close(done)).is_ok() {
            let _ = wait.recv();
        }
    }
}

fn run(
    mut flush: Box<dyn Flush>,
    rx: mpsc::Receiver<SyncMsg>,
    newest: watch::Sender<Option<i64>>,
    pending: Arc<AtomicUsize>,
    wake: Arc<Wake>,
) {
    let mut batches: Vec<Committed> = Vec::new();
    while let Ok(first) = rx.recv() {
        let mut closing = None;
        let mut next = Some(first);
        // Everything committed before this sync starts rides on it.
        while let Some(msg) = next.take().or_else(|| rx.try_recv().ok()) {
            match msg {
                SyncMsg::Committed(c) => batches.push(c),
                SyncMsg::Close(done) => {
                    closing = Some(done);
                    break;
                }
            }
        }
        if !batches.is_empty() {
            let started = std::time::Instant::now();
            let synced = flush.flush();
            tracing::trace!(
                batches = batches.len(),
                micros = started.elapsed().as_micros() as u64,
                "log synced"
            );
            if let Err(e) = &synced {
                tracing::error!(error = %e, "the write-ahead log could not be synced; nothing in these batches was acknowledged");
            }
            let mut last = None;
            let n = batches.len();
            for batch in batches.drain(..) {
                for (reply, stored) in batch.replies {
                    last = Some(stored.id);
                    let answer = match &synced {
                        Ok(()) => Ok(stored),
                        Err(e) => Err(unavailable(&format!(
                            "the disk did not confirm the write: {e}"
                        ))),
                    };
                    let _ = reply.send(answer);
                }
            }
            if synced.is_ok() && last.is_some() {
                newest.send_replace(last);
            }
            // A writer holding a small batch back for this sync can go now.
            if pending.fetch_sub(n, Ordering::AcqRel) == n {
                wake.writer();
            }
        }
        if let Some(done) = closing {
            let _ = done.send(());
            return;
        }
    }
}
