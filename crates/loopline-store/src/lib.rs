//! Loopline's SQLite store.
//!
//! One database file per data directory, in WAL mode with `synchronous=FULL` so that a
//! committed event survives a power cut. Migrations are embedded in the binary and run on
//! open; a database from a newer Loopline is refused before anything writes to it.

mod automation_pass;
mod automation_preview;
mod automations;
mod backups;
mod body;
mod catch_up;
mod change_marks;
mod dataset_versions;
mod errors;
mod event_cursor;
mod events;
mod exports;
mod in_use;
mod integrity;
mod maintenance;
mod open;
mod outbox;
mod outbox_repeat;
mod registries;
mod rules;
mod runs;
mod settings;
mod sources;
mod sync_file;
mod writer;

pub use automation_pass::AutomationPass;
pub use automations::{
    outbox_kind, AutomationEvent, DeliveryOutcome, Firing, AUTOMATION_DATASET, AUTOMATION_FORWARD,
    AUTOMATION_NOTIFY, MAX_RESPONSE_CHARS,
};
pub use backups::{backup_dir, list_backups, restore_newest_backup, BACKUP_DIR, KEEP_BACKUPS};
pub use body::{BodyCodec, StoredBody};
pub use change_marks::ChangeMarks;
pub use dataset_versions::{VersionAtEvent, VersionRow};
pub use events::{fts_query, ParsedUpdate, StoredEvent, DEFAULT_PAGE, MAX_PAGE};
pub use exports::{ElementUpdate, ExportElementRow, ExportRow, NewExportElement, AQUARIUM_EXPORT};
pub use integrity::{quick_check, IntegrityReport};
pub use maintenance::IndexInput;
pub use open::{latest_schema_version, Store, StoreOptions, MIGRATOR};
pub use outbox::{NewItem, OutboxItem, Settle, RETRAIN_START};
pub use registries::HookRow;
pub use rules::{NewRule, NewRun, RuleEvent, RulePass};
pub use runs::{OutboxRun, WatchedRun, UNREADABLE_PARAMS};
pub use sources::SourceAuth;
pub use writer::{EventWriter, Flush, Incoming, NewEvent, Stored, WalFile};

/// The file name of the database inside a data directory.
pub const DB_FILE_NAME: &str = "loopline.db";
