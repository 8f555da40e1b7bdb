//! The engine's side of a damaged database: the daily backup a running engine takes, the
//! check and the restore that work without an engine, and a restore refused while one runs.

mod common;

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::manual_clock::ManualClock;
use loopline_core::ErrorCode;
use loopline_engine::secrets::MemorySecrets;
use loopline_engine::{check_database, restore_database, Engine, EngineOptions, BACKUP_EVERY_MS};
use loopline_store::list_backups;

/// 2026-12-06T21:00:00.000Z
const T0: i64 = 1_796_590_800_000;

async fn open_engine(dir: &Path, clock: Arc<ManualClock>) -> Arc<Engine> {
    Arc::new(
        Engine::open(EngineOptions {
            data_dir: Some(dir.to_path_buf()),
            secrets: Some(Arc::new(MemorySecrets::default())),
            clock: Some(clock),
            ..Default::default()
        })
        .await
        .unwrap(),
    )
}

async fn add_events(engine: &Engine, n: i64) {
    sqlx::query(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?) \
         INSERT INTO events (source_id, received_at_ms, headers_json, body, kind, action) \
         SELECT 'src_1', x, '{}', randomblob(1500), 'label_studio', 'ANNOTATION_CREATED' FROM n",
    )
    .bind(n)
    .execute(engine.store().pool())
    .await
    .unwrap();
}

fn corrupt_middle(path: &Path) {
    let pages = std::fs::metadata(path).unwrap().len() / 4096;
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(pages / 2 * 4096)).unwrap();
    f.write_all(&[0xa5; 4 * 4096]).unwrap();
    f.sync_all().unwrap();
}

#[tokio::test]
async fn a_running_engine_backs_up_at_start_then_daily() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let engine = open_engine(dir.path(), clock.clone()).await;
    let db = engine.store().path().to_path_buf();
    engine.start_background("serve");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while list_backups(&db).unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no backup at start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(list_backups(&db).unwrap()[0].taken_at_ms, T0);

    clock.advance_ms(BACKUP_EVERY_MS - 1);
    assert!(
        engine.backup_if_due().await.unwrap().is_none(),
        "not a day yet"
    );
    for day in 1..=4 {
        clock.0.store(
            T0 + day * BACKUP_EVERY_MS,
            std::sync::atomic::Ordering::SeqCst,
        );
        let b = engine.backup_if_due().await.unwrap().expect("a day later");
        assert_eq!(b.taken_at_ms, T0 + day * BACKUP_EVERY_MS);
    }
    assert_eq!(
        list_backups(&db).unwrap().len(),
        3,
        "the last three are kept"
    );
    engine.shutdown().await;
}

#[tokio::test]
async fn a_damaged_database_is_found_restored_and_opens_again() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let engine = open_engine(dir.path(), clock.clone()).await;
    add_events(&engine, 1500).await;
    let backup = engine.backup_database().await.unwrap();
    add_events(&engine, 10).await;

    let refused = restore_database(Some(dir.path()), clock.as_ref())
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::DbInUse, "{refused:?}");
    engine.shutdown().await;
    drop(engine);

    let db = dir.path().join("loopline.db");
    corrupt_middle(&db);
    let check = check_database(Some(dir.path())).await.unwrap();
    assert!(!check.ok && check.exists, "{check:?}");
    assert!(!check.problems.is_empty());
    assert_eq!(check.backups.len(), 1);
    assert!(check.backups[0].good);

    let err = Engine::open(EngineOptions {
        data_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    })
    .await
    .err()
    .expect("a damaged database does not open");
    assert_eq!(err.code, ErrorCode::DbCorrupt);

    clock.advance_ms(3_600_000);
    let restored = restore_database(Some(dir.path()), clock.as_ref())
        .await
        .unwrap();
    assert_eq!(restored.restored_from.path, backup.path);
    let engine = open_engine(dir.path(), clock.clone()).await;
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(engine.store().pool())
        .await
        .unwrap();
    assert_eq!(
        events, 1500,
        "the 10 after the backup are lost, the rest is back"
    );
    assert!(check_database(Some(dir.path())).await.unwrap().ok);
    engine.shutdown().await;
}
