//! SQLite's own consistency check, run at open (within a time budget) and on demand.

use std::path::Path;
use std::time::{Duration, Instant};

use loopline_core::{ApiError, ErrorCode};
use rusqlite::{Connection, OpenFlags};

/// At most this many problems are listed: the first few say enough, and a badly damaged
/// file could otherwise report thousands.
const MAX_PROBLEMS: i64 = 10;
/// Virtual-machine steps between looks at the clock: well under a millisecond of work.
const PROGRESS_STEPS: i32 = 10_000;

/// What `PRAGMA quick_check` said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrityReport {
    /// SQLite's words for each problem; empty when none was found.
    pub problems: Vec<String>,
    /// False when the time budget ran out first: the pages read so far were fine.
    pub finished: bool,
}

impl IntegrityReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Runs `PRAGMA quick_check` on the file, read-only. With a budget, the check is interrupted
/// when it runs out (see `StoreOptions::check_budget`); without one it reads every page.
///
/// `quick_check` rather than `integrity_check`: it reads every page and checks each b-tree's
/// structure, which is what finds a damaged region of the file, but skips matching indexes
/// against their tables, the part whose cost grows fastest with the size of the database.
///
/// Blocking: call it from `spawn_blocking` in async code.
pub fn quick_check(path: &Path, budget: Option<Duration>) -> Result<IntegrityReport, ApiError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| check_error(e, path))?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(|e| check_error(e, path))?;
    // SQLite calls the progress handler every few thousand steps of the check; past the
    // deadline it answers "stop", which interrupts the statement.
    if let Some(budget) = budget {
        let deadline = Instant::now() + budget;
        conn.progress_handler(PROGRESS_STEPS, Some(move || Instant::now() >= deadline));
    }
    let result = run(&conn);
    match result {
        Ok(problems) => Ok(IntegrityReport {
            problems,
            finished: true,
        }),
        Err(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::OperationInterrupted =>
        {
            Ok(IntegrityReport {
                problems: Vec::new(),
                finished: false,
            })
        }
        Err(rusqlite::Error::SqliteFailure(f, msg))
            if matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
            ) =>
        {
            // Damage bad enough that SQLite stops reading: that is the answer too.
            Ok(IntegrityReport {
                problems: vec![msg.unwrap_or_else(|| f.to_string())],
                finished: true,
            })
        }
        Err(e) => Err(check_error(e, path)),
    }
}

fn run(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!("PRAGMA quick_check({MAX_PROBLEMS})"))?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut problems = Vec::new();
    for row in rows {
        let line = row?;
        if line != "ok" {
            problems.push(line);
        }
    }
    Ok(problems)
}

fn check_error(e: rusqlite::Error, path: &Path) -> ApiError {
    let shown = path.display();
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
        {
            ApiError::new(
                ErrorCode::DbLocked,
                format!("The database at {shown} is locked by another program, so it could not be checked. Try again in a moment."),
            )
        }
        _ => ApiError::new(
            ErrorCode::DbOpenFailed,
            format!("Loopline could not read the database at {shown} to check it: {e}. Check the disk and the file's permissions."),
        ),
    }
}

/// The error every command gives for a damaged database: what happened and the way out.
pub(crate) fn damaged(path: &Path, problems: &[String]) -> ApiError {
    let first = problems
        .first()
        .map(|p| format!(" SQLite reports: {p}."))
        .unwrap_or_default();
    ApiError::new(
        ErrorCode::DbCorrupt,
        format!(
            "The database at {} is damaged.{first} Run `loopline db restore` (or open the app, \
             which offers it) to go back to the newest good backup; the damaged file is kept \
             beside it.",
            path.display()
        ),
    )
}
