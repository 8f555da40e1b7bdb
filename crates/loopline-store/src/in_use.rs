//! Who has the database open. Every open `Store` holds a shared lock on a file beside the
//! database for as long as it lives; a restore replaces the file only when it can take that
//! lock exclusively, so it never pulls the database from under the app, `serve` or a running
//! command. The lock belongs to the open file, so the OS drops it when a process dies.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use loopline_core::{ApiError, ErrorCode};

fn lock_path(db: &Path) -> PathBuf {
    PathBuf::from(format!("{}.in-use", db.display()))
}

fn open(db: &Path) -> Result<File, ApiError> {
    let path = lock_path(db);
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| {
            ApiError::new(
                ErrorCode::DbOpenFailed,
                format!(
                    "Loopline cannot create {}: {e}. Check that the data directory is writable.",
                    path.display()
                ),
            )
        })
}

/// Held by an open store (shared with every other open store).
#[derive(Debug)]
pub(crate) struct InUse(#[allow(dead_code)] File);

impl InUse {
    /// Blocking; taken while the opening lock is held, so it never waits on a restore.
    pub(crate) fn share(db: &Path) -> Result<InUse, ApiError> {
        let file = open(db)?;
        file.lock_shared().map_err(|e| {
            ApiError::new(
                ErrorCode::DbLocked,
                format!("Loopline could not lock {}: {e}.", lock_path(db).display()),
            )
        })?;
        Ok(InUse(file))
    }
}

/// Held while a restore replaces the database: no store is open anywhere.
pub(crate) struct Alone(File);

impl Alone {
    pub(crate) fn take(db: &Path) -> Result<Alone, ApiError> {
        let file = open(db)?;
        match file.try_lock() {
            Ok(()) => Ok(Alone(file)),
            Err(TryLockError::WouldBlock) => Err(ApiError::new(
                ErrorCode::DbInUse,
                format!(
                    "Another Loopline has the database at {} open (the app, `loopline serve`, \
                     or a command still running). Quit it, then restore again.",
                    db.display()
                ),
            )),
            Err(TryLockError::Error(e)) => Err(ApiError::new(
                ErrorCode::DbLocked,
                format!("Loopline could not lock {}: {e}.", lock_path(db).display()),
            )),
        }
    }
}

impl Drop for Alone {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}
