use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// One copy of the database in the data directory's `backups/` folder (`loopline db backup`,
/// taken daily by the app or `serve`, and before a restore replaces the file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DbBackup {
    pub path: String,
    /// When it was taken, RFC 3339 in UTC: everything received after it is not in it.
    pub taken_at: String,
    pub taken_at_ms: i64,
    pub size_bytes: u64,
    /// It passed SQLite's `quick_check` when last checked.
    pub good: bool,
}

/// What `loopline db check` found: the database's own check and the backups beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DbCheck {
    pub db_path: String,
    /// The file exists (a new data directory has none yet).
    pub exists: bool,
    /// No problem found.
    pub ok: bool,
    /// SQLite's own words for each problem (the first few).
    pub problems: Vec<String>,
    /// Newest first; `good` says which could be restored.
    pub backups: Vec<DbBackup>,
}

/// What `loopline db restore` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DbRestore {
    pub db_path: String,
    /// The backup now in place. What arrived after its `taken_at` is not in the database.
    pub restored_from: DbBackup,
    /// Where the replaced files went (never deleted): the database and its write-ahead log.
    pub moved_aside: Vec<String>,
    /// A copy of the replaced database, when it could still be read whole.
    pub safety_backup: Option<DbBackup>,
}
