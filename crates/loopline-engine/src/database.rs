//! The database's health and its backups: `loopline db check|backup|restore`, the app's
//! recovery screen, and the daily backup the app and `serve` take.
//!
//! Check and restore work on a data directory without opening an engine, since the engine
//! cannot open on a damaged database.

use std::path::{Path, PathBuf};
use std::time::Duration;

use loopline_core::{ApiError, Clock, DbBackup, DbCheck, DbRestore};
use loopline_store::{list_backups, quick_check, restore_newest_backup, DB_FILE_NAME};

use crate::engine::WeakEngine;
use crate::paths::default_data_dir;
use crate::Engine;

/// A backup is taken when the newest is older than this.
pub const BACKUP_EVERY_MS: i64 = 24 * 3_600_000;
/// How often a running engine looks whether a backup is due: a laptop that slept through
/// the day takes its backup soon after it wakes.
const BACKUP_LOOK_EVERY: Duration = Duration::from_secs(10 * 60);

/// The database file of `data_dir` (the OS default when `None`).
pub fn database_path(data_dir: Option<&Path>) -> Result<PathBuf, ApiError> {
    Ok(match data_dir {
        Some(d) => d.to_path_buf(),
        None => default_data_dir()?,
    }
    .join(DB_FILE_NAME))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
}

/// The whole of SQLite's check on the database (no time budget: it was asked for), and
/// each backup's own check.
pub async fn check_database(data_dir: Option<&Path>) -> Result<DbCheck, ApiError> {
    let db = database_path(data_dir)?;
    blocking(move || {
        let exists = db.exists();
        let problems = if exists {
            quick_check(&db, None)?.problems
        } else {
            Vec::new()
        };
        let backups = list_backups(&db)?
            .into_iter()
            .map(|mut b| {
                b.good = quick_check(Path::new(&b.path), None).is_ok_and(|r| r.ok());
                b
            })
            .collect();
        Ok(DbCheck {
            db_path: db.display().to_string(),
            exists,
            ok: problems.is_empty(),
            problems,
            backups,
        })
    })
    .await
}

/// Puts the newest good backup in place of the database (see `restore_newest_backup`);
/// refused while the app, `serve` or a command has the database open.
pub async fn restore_database(
    data_dir: Option<&Path>,
    clock: &dyn Clock,
) -> Result<DbRestore, ApiError> {
    let db = database_path(data_dir)?;
    let now = clock.now_ms();
    blocking(move || restore_newest_backup(&db, now)).await
}

impl Engine {
    /// A verified backup now (`loopline db backup`); the last three are kept.
    pub async fn backup_database(&self) -> Result<DbBackup, ApiError> {
        self.store.backup(self.clock.now_ms()).await
    }

    /// Takes a backup when none was taken in the last day. Returns it, if one was taken.
    pub async fn backup_if_due(&self) -> Result<Option<DbBackup>, ApiError> {
        let now = self.clock.now_ms();
        let db = self.store.path().to_path_buf();
        let newest = blocking(move || list_backups(&db))
            .await?
            .into_iter()
            .next();
        match newest {
            // A backup "from the future" (the clock was set back) is not a reason to stop.
            Some(b) if (0..BACKUP_EVERY_MS).contains(&(now - b.taken_at_ms)) => Ok(None),
            _ => self.store.backup(now).await.map(Some),
        }
    }
}

pub(crate) async fn keep_backups(engine: WeakEngine) {
    loop {
        {
            let Some(e) = engine.upgrade() else { return };
            match e.backup_if_due().await {
                Ok(Some(b)) => tracing::info!("database backed up to {}", b.path),
                Ok(None) => {}
                Err(err) => {
                    tracing::warn!(code = %err.code, "database not backed up: {}", err.message)
                }
            }
        }
        tokio::time::sleep(BACKUP_LOOK_EVERY).await;
    }
}
