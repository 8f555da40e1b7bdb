//! Rolling backups beside the database, and putting one back.
//!
//! A backup is a `VACUUM INTO` copy (a consistent snapshot that does not block the receiver's
//! writes) in `backups/`, named by the time it was taken. It counts only once SQLite's own
//! check passes on the copy: until then it carries a `.partial` name that `list_backups`
//! ignores. The last `KEEP_BACKUPS` are kept.

use std::path::{Path, PathBuf};

use loopline_core::{parse_rfc3339_ms, rfc3339_ms, ApiError, DbBackup, DbRestore, ErrorCode};

use crate::errors::db_error;
use crate::in_use::Alone;
use crate::integrity::quick_check;
use crate::open::OpeningLock;
use crate::Store;

/// The folder beside the database that holds the backups.
pub const BACKUP_DIR: &str = "backups";
/// How many backups are kept: three days of daily copies.
pub const KEEP_BACKUPS: usize = 3;
const PREFIX: &str = "loopline-";
const SUFFIX: &str = ".db";
const PARTIAL: &str = ".partial";
const STALE_PARTIAL_MS: i64 = 24 * 3_600_000;

pub fn backup_dir(db: &Path) -> PathBuf {
    db.parent().unwrap_or(Path::new(".")).join(BACKUP_DIR)
}

/// `2026-12-06T21-05-18.123Z`: the RFC 3339 time with `-` for `:`, which no file system
/// refuses, and which sorts by time.
fn stamp(ms: i64) -> String {
    rfc3339_ms(ms).replace(':', "-")
}

fn time_of(file_name: &str) -> Option<i64> {
    let stamp = file_name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    if stamp.len() != 24 || !stamp.is_char_boundary(13) || !stamp.is_char_boundary(17) {
        return None;
    }
    let rfc = format!("{}:{}:{}", &stamp[..13], &stamp[14..16], &stamp[17..]);
    parse_rfc3339_ms(&rfc)
}

fn described(path: &Path, taken_at_ms: i64, good: bool) -> DbBackup {
    DbBackup {
        path: path.display().to_string(),
        taken_at: rfc3339_ms(taken_at_ms),
        taken_at_ms,
        size_bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        good,
    }
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> ApiError {
    ApiError::new(
        ErrorCode::DbOpenFailed,
        format!(
            "Loopline could not {what} {}: {e}. Check the disk and that the data directory is writable.",
            path.display()
        ),
    )
}

/// The backups of the database at `db`, newest first. Each was checked when it was made
/// (`good`); a restore checks again before it uses one.
pub fn list_backups(db: &Path) -> Result<Vec<DbBackup>, ApiError> {
    let dir = backup_dir(db);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error("read", &dir, e)),
    };
    let mut out: Vec<DbBackup> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let ms = time_of(e.file_name().to_str()?)?;
            Some(described(&e.path(), ms, true))
        })
        .collect();
    out.sort_by_key(|b| std::cmp::Reverse(b.taken_at_ms));
    Ok(out)
}

/// Checks the copy at `partial`, then gives it its final name. A copy that fails its check
/// is removed: it is not a backup.
fn finish(db: &Path, partial: &Path, now_ms: i64) -> Result<DbBackup, ApiError> {
    let report = quick_check(partial, None)?;
    if !report.ok() {
        let _ = std::fs::remove_file(partial);
        return Err(ApiError::new(
            ErrorCode::DbCorrupt,
            format!(
                "The backup of {} did not pass its check ({}), so it was not kept. Run `loopline db check`.",
                db.display(),
                report.problems.join("; ")
            ),
        ));
    }
    let file =
        crate::sync_file::open_for_sync(partial).map_err(|e| io_error("read", partial, e))?;
    file.sync_all().map_err(|e| io_error("write", partial, e))?;
    let done = backup_dir(db).join(format!("{PREFIX}{}{SUFFIX}", stamp(now_ms)));
    std::fs::rename(partial, &done).map_err(|e| io_error("write", &done, e))?;
    sync_dir(&backup_dir(db));
    Ok(described(&done, now_ms, true))
}

fn partial_path(db: &Path, now_ms: i64) -> Result<PathBuf, ApiError> {
    let dir = backup_dir(db);
    std::fs::create_dir_all(&dir).map_err(|e| io_error("create", &dir, e))?;
    let partial = dir.join(format!("{PREFIX}{}{SUFFIX}{PARTIAL}", stamp(now_ms)));
    // Left by a copy that was interrupted; VACUUM INTO refuses an existing file.
    let _ = std::fs::remove_file(&partial);
    Ok(partial)
}

/// Removes the oldest backups beyond `KEEP_BACKUPS`, and copies left half-made by a process
/// that stopped a day or more ago. A younger `.partial` may be another process's backup in
/// progress (the CLI's beside the app's), so it stays.
fn prune(db: &Path, now_ms: i64) {
    if let Ok(list) = list_backups(db) {
        for old in list.iter().skip(KEEP_BACKUPS) {
            let _ = std::fs::remove_file(&old.path);
        }
    }
    if let Ok(entries) = std::fs::read_dir(backup_dir(db)) {
        for e in entries.filter_map(|e| e.ok()) {
            let name = e.file_name().to_string_lossy().into_owned();
            let stale = name
                .strip_suffix(PARTIAL)
                .and_then(time_of)
                .is_some_and(|t| now_ms - t >= STALE_PARTIAL_MS);
            if stale {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) {
    // The renames are durable only once the folder itself is on disk.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) {}

impl Store {
    /// Takes a verified backup now (`now_ms` names it) and keeps the last `KEEP_BACKUPS`.
    pub async fn backup(&self, now_ms: i64) -> Result<DbBackup, ApiError> {
        let db = self.path().to_path_buf();
        let partial = partial_path(&db, now_ms)?;
        sqlx::query("VACUUM INTO ?")
            .bind(partial.display().to_string())
            .execute(self.pool())
            .await
            .map_err(|e| {
                let _ = std::fs::remove_file(&partial);
                db_error(e, &db)
            })?;
        tokio::task::spawn_blocking(move || {
            let made = finish(&db, &partial, now_ms)?;
            prune(&db, now_ms);
            Ok(made)
        })
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
    }
}

/// A verified copy of the file a restore is about to replace, when it is whole; `None`
/// when it is damaged (it is still moved aside, never deleted).
fn safety_copy(db: &Path, now_ms: i64) -> Option<DbBackup> {
    if !quick_check(db, None).ok()?.ok() {
        return None;
    }
    let partial = partial_path(db, now_ms).ok()?;
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .ok()?;
    if conn
        .execute("VACUUM INTO ?1", [partial.display().to_string()])
        .is_err()
    {
        let _ = std::fs::remove_file(&partial);
        return None;
    }
    drop(conn);
    finish(db, &partial, now_ms).ok()
}

/// Replaces the database at `db` with its newest backup that passes its check.
///
/// Refused while any process has the database open. The replaced file (and its write-ahead
/// log, which belongs to it and must not be replayed into the backup) is moved aside beside
/// it, never deleted; when it can still be read whole it is also copied into `backups/`
/// first, so the restore itself can be undone. Blocking.
pub fn restore_newest_backup(db: &Path, now_ms: i64) -> Result<DbRestore, ApiError> {
    let _opening = OpeningLock::take_blocking(db)?;
    let _alone = Alone::take(db)?;
    let chosen = list_backups(db)?
        .into_iter()
        .find(|b| quick_check(Path::new(&b.path), None).is_ok_and(|r| r.ok()))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::NoBackup,
                format!(
                    "There is no good backup of {} in {} to restore. Nothing was changed. Move the \
                     damaged file aside to start with an empty database (Loopline makes a new one).",
                    db.display(),
                    backup_dir(db).display()
                ),
            )
        })?;
    let safety_backup = if db.exists() {
        safety_copy(db, now_ms)
    } else {
        None
    };
    let dir = db.parent().unwrap_or(Path::new("."));
    let aside_name = format!("loopline-replaced-{}.db", stamp(now_ms));
    let mut moved_aside = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", db.display()));
        if from.exists() {
            let to = dir.join(format!("{aside_name}{suffix}"));
            std::fs::rename(&from, &to).map_err(|e| io_error("move aside", &from, e))?;
            moved_aside.push(to.display().to_string());
        }
    }
    let incoming = PathBuf::from(format!("{}.restoring", db.display()));
    std::fs::copy(&chosen.path, &incoming)
        .map_err(|e| io_error("copy", Path::new(&chosen.path), e))?;
    crate::sync_file::open_for_sync(&incoming)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_error("write", &incoming, e))?;
    std::fs::rename(&incoming, db).map_err(|e| io_error("write", db, e))?;
    sync_dir(dir);
    tracing::warn!(
        from = %chosen.path,
        "restored the database from the backup taken at {}; the replaced file is kept beside it",
        chosen.taken_at
    );
    Ok(DbRestore {
        db_path: db.display().to_string(),
        restored_from: chosen,
        moved_aside,
        safety_backup,
    })
}

#[cfg(test)]
mod tests {
    use super::{stamp, time_of};

    #[test]
    fn names_carry_the_time_and_read_back() {
        let ms = 1_796_590_318_123;
        let name = format!("loopline-{}.db", stamp(ms));
        assert_eq!(name, "loopline-2026-12-06T20-51-58.123Z.db");
        assert_eq!(time_of(&name), Some(ms));
        assert_eq!(time_of(&format!("{name}.partial")), None);
        assert_eq!(
            time_of("loopline-replaced-2026-12-06T21-31-58.123Z.db"),
            None
        );
        assert_eq!(time_of("notes.txt"), None);
    }
}
