use std::path::Path;

use loopline_core::{ApiError, ErrorCode};

// SQLite primary result codes (the low byte of an extended code).
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_READONLY: i64 = 8;
const SQLITE_CORRUPT: i64 = 11;
const SQLITE_CANTOPEN: i64 = 14;
const SQLITE_AUTH: i64 = 23;
const SQLITE_NOTADB: i64 = 26;

fn primary_code(err: &sqlx::Error) -> Option<i64> {
    match err {
        sqlx::Error::Database(db) => db.code()?.parse::<i64>().ok().map(|c| c & 0xff),
        _ => None,
    }
}

/// Turns a failure to open or read the database into a sentence that names the file and
/// the fix. Used wherever the store touches the file, so the user never sees a raw SQLite code.
pub(crate) fn db_error(err: sqlx::Error, path: &Path) -> ApiError {
    let shown = path.display();
    match primary_code(&err) {
        Some(SQLITE_NOTADB) | Some(SQLITE_CORRUPT) => ApiError::new(
            ErrorCode::DbCorrupt,
            format!(
                "The database at {shown} is damaged or is not a Loopline database. Run \
                 `loopline db restore` (or open the app, which offers it) to go back to the \
                 newest good backup, or move the file aside and Loopline starts a new one."
            ),
        ),
        Some(SQLITE_BUSY) | Some(SQLITE_LOCKED) => ApiError::new(
            ErrorCode::DbLocked,
            format!(
                "The database at {shown} is locked by another program. Close it (another \
                 Loopline on the same data directory, or a SQLite tool), or choose another \
                 data directory with --data-dir."
            ),
        ),
        Some(SQLITE_CANTOPEN) | Some(SQLITE_READONLY) | Some(SQLITE_AUTH) => ApiError::new(
            ErrorCode::DbOpenFailed,
            format!(
                "Loopline cannot open the database at {shown} for writing. Check that the \
                 folder exists and that you may write to it, or choose another with --data-dir."
            ),
        ),
        _ => match err {
            sqlx::Error::Io(io) => ApiError::new(
                ErrorCode::DbOpenFailed,
                format!("Loopline cannot read the database at {shown}: {io}. Check the disk and the file's permissions."),
            ),
            other => ApiError::new(
                ErrorCode::DbError,
                format!("The database at {shown} returned an error: {other}."),
            ),
        },
    }
}

pub(crate) fn migrate_error(err: sqlx::migrate::MigrateError, path: &Path) -> ApiError {
    use sqlx::migrate::MigrateError;
    let shown = path.display();
    match err {
        MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => {
            let mapped = db_error(e, path);
            if mapped.code == ErrorCode::DbError {
                ApiError::new(
                    ErrorCode::DbMigrationFailed,
                    format!(
                        "Loopline could not upgrade the database at {shown}: {}. Nothing was \
                         changed; restore a backup or move the file aside.",
                        mapped.message
                    ),
                )
            } else {
                mapped
            }
        }
        MigrateError::VersionMissing(v) => ApiError::new(
            ErrorCode::DbNewerSchema,
            format!(
                "The database at {shown} was written by a newer Loopline (schema {v}). \
                 Update Loopline, or choose another data directory with --data-dir."
            ),
        ),
        other => ApiError::new(
            ErrorCode::DbMigrationFailed,
            format!(
                "Loopline could not upgrade the database at {shown}: {other}. Restore a \
                 backup or move the file aside."
            ),
        ),
    }
}
