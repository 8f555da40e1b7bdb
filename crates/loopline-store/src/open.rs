use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use loopline_core::{ApiError, ErrorCode};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::ConnectOptions;

use crate::errors::{db_error, migrate_error};
use crate::in_use::InUse;
use crate::integrity::{damaged, quick_check};

/// The schema, embedded in the binary so a fresh machine needs nothing but the executable.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The newest schema version this build knows.
pub fn latest_schema_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// How long a statement waits for another process's lock before giving up.
    pub busy_timeout: Duration,
    pub max_connections: u32,
    /// How long the check at open (`PRAGMA quick_check`) may take. The check reads every
    /// page, so on a large database it could hold up every start; past the budget it stops,
    /// the open goes ahead, and damage further in is still reported as `db_corrupt` when a
    /// query reaches it. `loopline db check` runs the whole check.
    pub check_budget: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            busy_timeout: Duration::from_secs(5),
            max_connections: 8,
            check_budget: Duration::from_secs(1),
        }
    }
}

/// An open, migrated database. Cheap to clone: it shares one connection pool.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    /// One connection for the search indexer, whose commits do not wait for the disk: the
    /// index is derived from the events, and its progress is committed with it, so a
    /// commit lost to a power cut is simply indexed again. Holding the write lock through
    /// an fsync held up the receiver's batches behind it.
    index_pool: SqlitePool,
    path: PathBuf,
    options: StoreOptions,
    /// Tells a restore (in any process) that this database is open here.
    _in_use: std::sync::Arc<InUse>,
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`.
    ///
    /// A database from a newer Loopline is refused before any write, so running an old
    /// build by mistake can never damage a newer user's data.
    pub async fn open(path: &Path, options: &StoreOptions) -> Result<Store, ApiError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                ApiError::new(
                    ErrorCode::DataDirUnavailable,
                    format!(
                        "Loopline cannot create its data directory {}: {e}. Choose another with --data-dir.",
                        dir.display()
                    ),
                )
            })?;
        }
        // Two processes opening the same new data directory at once (the app and a CLI
        // command, say) would both try to create the schema. An exclusive lock on a file
        // beside the database serialises opening; it is released as soon as this returns.
        let _opening = OpeningLock::take(path).await?;
        let in_use = std::sync::Arc::new(InUse::share(path)?);
        if path.exists() {
            preflight(path, options).await?;
        }
        let connect = write_options(path, options).create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections)
            .connect_with(connect)
            .await
            .map_err(|e| db_error(e, path))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| migrate_error(e, path))?;
        let index_pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_lazy_with(write_options(path, options).synchronous(SqliteSynchronous::Normal));
        Ok(Store {
            pool,
            index_pool,
            path: path.to_path_buf(),
            options: options.clone(),
            _in_use: in_use,
        })
    }

    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub(crate) fn index_pool(&self) -> &SqlitePool {
        &self.index_pool
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when the database answers a trivial query: what `/healthz` reports.
    pub async fn ping(&self) -> bool {
        sqlx::query_scalar::<_, i64>("SELECT 1")
            .fetch_one(&self.pool)
            .await
            .is_ok()
    }

    /// The newest migration applied to this database.
    pub async fn schema_version(&self) -> Result<i64, ApiError> {
        sqlx::query_scalar::<_, Option<i64>>(
            "SELECT MAX(version) FROM _sqlx_migrations WHERE success = 1",
        )
        .fetch_one(&self.pool)
        .await
        .map(|v| v.unwrap_or(0))
        .map_err(|e| db_error(e, &self.path))
    }

    /// Bytes on disk: the main file plus its write-ahead log.
    pub fn size_bytes(&self) -> u64 {
        let wal = PathBuf::from(format!("{}-wal", self.path.display()));
        [self.path.as_path(), wal.as_path()]
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }

    /// Waits for every connection to finish and checkpoints the log, so the file is whole
    /// on its own when the process exits.
    pub async fn close(&self) {
        if !self.pool.is_closed() {
            // Fold the log into the main file now rather than leaving it to whichever
            // connection happens to close last, so the file on disk is final on return.
            let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await;
        }
        self.index_pool.close().await;
        self.pool.close().await;
    }
}

/// Held while a process checks and migrates the database, and while a restore replaces it.
pub(crate) struct OpeningLock(std::fs::File);

impl OpeningLock {
    /// Waits for the lock on a blocking thread, so waiting never stalls the async runtime
    /// (another opener in this same process may need it to finish).
    async fn take(db: &Path) -> Result<OpeningLock, ApiError> {
        let db = db.to_path_buf();
        tokio::task::spawn_blocking(move || Self::take_blocking(&db))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?
    }

    pub(crate) fn take_blocking(db: &Path) -> Result<OpeningLock, ApiError> {
        let lock_path = PathBuf::from(format!("{}.lock", db.display()));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| {
                ApiError::new(
                    ErrorCode::DbOpenFailed,
                    format!("Loopline cannot create {}: {e}. Check that the data directory is writable.", lock_path.display()),
                )
            })?;
        file.lock().map_err(|e| {
            ApiError::new(
                ErrorCode::DbLocked,
                format!("Loopline could not lock {}: {e}.", lock_path.display()),
            )
        })?;
        Ok(OpeningLock(file))
    }
}

impl Drop for OpeningLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

fn write_options(path: &Path, options: &StoreOptions) -> SqliteConnectOptions {
    base_options(path, options)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
}

fn base_options(path: &Path, options: &StoreOptions) -> SqliteConnectOptions {
    // from_str keeps sqlite's URI handling out of the way of unusual file names.
    SqliteConnectOptions::from_str("sqlite://")
        .expect("static sqlite url")
        .filename(path)
        .busy_timeout(options.busy_timeout)
        // Statements are never logged: a query's text could one day carry something private.
        .disable_statement_logging()
}

/// Reads an existing file without writing to it: proves it is a SQLite database that
/// we can read, and that its schema is not newer than ours.
async fn preflight(path: &Path, options: &StoreOptions) -> Result<(), ApiError> {
    let mut conn = base_options(path, options)
        .read_only(true)
        .connect()
        .await
        .map_err(|e| db_error(e, path))?;
    let result = check_schema(&mut conn, path).await;
    let _ = sqlx::Connection::close(conn).await;
    result?;
    let (file, budget) = (path.to_path_buf(), options.check_budget);
    let report = tokio::task::spawn_blocking(move || quick_check(&file, Some(budget)))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    if !report.ok() {
        return Err(damaged(path, &report.problems));
    }
    if !report.finished {
        tracing::info!(
            "the database check at open stopped after {budget:?}; run `loopline db check` for a full one"
        );
    }
    Ok(())
}

async fn check_schema(conn: &mut sqlx::SqliteConnection, path: &Path) -> Result<(), ApiError> {
    // Reading sqlite_master forces SQLite to read the header, which is what detects a
    // file that is not a database at all.
    let has_migrations: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| db_error(e, path))?;
    if has_migrations == 0 {
        return Ok(());
    }
    let applied: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| db_error(e, path))?;
    let latest = latest_schema_version();
    match applied {
        Some(v) if v > latest => Err(ApiError::new(
            ErrorCode::DbNewerSchema,
            format!(
                "The database at {} was written by a newer Loopline (schema {v}; this build knows up to {latest}). \
                 It was left untouched. Update Loopline, or choose another data directory with --data-dir.",
                path.display()
            ),
        )),
        _ => Ok(()),
    }
}
