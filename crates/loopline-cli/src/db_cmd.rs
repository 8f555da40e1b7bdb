//! `loopline db check|backup|restore`: the database's health and its backups.

use clap::Subcommand;
use loopline_core::{ApiError, DbBackup, ErrorCode};
use loopline_engine::{check_database, restore_database, Engine, SystemClock};

use crate::global_args::{GlobalArgs, JsonFlag};
use crate::output::print_json;

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Run SQLite's whole check on the database and its backups. Fails when it is damaged.
    Check(JsonFlag),
    /// Take a verified backup now into `backups/` beside the database (the last 3 are kept;
    /// the app and `serve` take one daily).
    Backup(JsonFlag),
    /// Replace the database with its newest good backup. The replaced file is moved aside,
    /// never deleted. Quit the app and `serve` first.
    Restore(JsonFlag),
}

impl DbCommand {
    pub fn json(&self) -> bool {
        match self {
            DbCommand::Check(f) | DbCommand::Backup(f) | DbCommand::Restore(f) => f.json,
        }
    }
}

fn line(b: &DbBackup) -> String {
    format!("{}  {}  {} bytes", b.taken_at, b.path, b.size_bytes)
}

pub async fn run(global: &GlobalArgs, cmd: DbCommand) -> Result<(), ApiError> {
    let data_dir = global.data_dir.as_deref();
    match cmd {
        DbCommand::Check(f) => {
            let check = check_database(data_dir).await?;
            if f.json {
                print_json(&check)?;
            } else {
                if !check.exists {
                    println!(
                        "No database yet at {} (Loopline creates it on first use).",
                        check.db_path
                    );
                } else if check.ok {
                    println!("{}: ok", check.db_path);
                } else {
                    println!("{}: damaged", check.db_path);
                    for p in &check.problems {
                        println!("  {p}");
                    }
                }
                if check.backups.is_empty() {
                    println!("No backups yet. Take one: loopline db backup");
                }
                for b in &check.backups {
                    println!(
                        "backup {}{}",
                        line(b),
                        if b.good { "" } else { "  (damaged)" }
                    );
                }
            }
            if check.ok {
                return Ok(());
            }
            let way_out = match check.backups.iter().find(|b| b.good) {
                Some(b) => format!(
                    "Run `loopline db restore` to go back to the backup taken at {} (what arrived after it is lost; the damaged file is kept).",
                    b.taken_at
                ),
                None => "No good backup exists; move the file aside and Loopline starts a new database.".to_string(),
            };
            Err(ApiError::new(
                ErrorCode::DbCorrupt,
                format!("The database at {} is damaged. {way_out}", check.db_path),
            ))
        }
        DbCommand::Backup(f) => {
            let engine = Engine::open(global.engine_options()).await?;
            let made = engine.backup_database().await;
            engine.shutdown().await;
            let made = made?;
            if f.json {
                return print_json(&made);
            }
            println!("Backed up to {}", line(&made));
            Ok(())
        }
        DbCommand::Restore(f) => {
            let restored = restore_database(data_dir, &SystemClock).await?;
            if f.json {
                return print_json(&restored);
            }
            println!(
                "Restored {} from the backup taken at {}. Anything received after that time is not in it.",
                restored.db_path, restored.restored_from.taken_at
            );
            for aside in &restored.moved_aside {
                println!("kept the replaced file as {aside}");
            }
            if let Some(s) = &restored.safety_backup {
                println!("and a copy of it as {}", s.path);
            }
            Ok(())
        }
    }
}
