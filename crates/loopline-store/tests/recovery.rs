//! A database damaged in the middle of the file: found at open, checked on demand, backed up
//! (only verified copies count), restored from the newest good backup, never deleted.

use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use loopline_core::ErrorCode;
use loopline_store::{
    list_backups, quick_check, restore_newest_backup, Store, StoreOptions, BACKUP_DIR,
};

const PAGE: u64 = 4096;
/// 2026-12-06T21:00:00.000Z
const T0: i64 = 1_796_590_800_000;
const HOUR: i64 = 3_600_000;

fn db_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("loopline.db")
}

/// A migrated database of a few hundred pages: `events` events of 1.5 KB each.
async fn filled(path: &Path, events: i64) -> Store {
    let store = Store::open(path, &StoreOptions::default()).await.unwrap();
    sqlx::query(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?) \
         INSERT INTO events (source_id, received_at_ms, headers_json, body, kind, action) \
         SELECT 'src_1', x, '{}', randomblob(1500), 'label_studio', 'ANNOTATION_CREATED' FROM n",
    )
    .bind(events)
    .execute(store.pool())
    .await
    .unwrap();
    store
}

async fn event_count(store: &Store) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// Overwrites `pages` pages in the middle of the file with garbage, the way a bad sector or
/// a half-written copy would: the header and the schema pages at the start stay intact.
fn corrupt_middle(path: &Path, pages: u64) {
    let len = std::fs::metadata(path).unwrap().len();
    let total = len / PAGE;
    assert!(
        total > 100,
        "the database should span many pages, it has {total}"
    );
    let first = total / 2;
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    for p in first..first + pages {
        f.seek(SeekFrom::Start(p * PAGE)).unwrap();
        let garbage: Vec<u8> = (0..PAGE).map(|i| (i * 31 + p * 7) as u8 ^ 0x5a).collect();
        f.write_all(&garbage).unwrap();
    }
    f.sync_all().unwrap();
}

#[tokio::test]
async fn a_file_damaged_in_the_middle_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    filled(&path, 1500).await.close().await;
    corrupt_middle(&path, 4);
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path, &StoreOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::DbCorrupt, "{err:?}");
    assert!(
        err.message.contains(&path.display().to_string()),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("loopline db restore"),
        "{}",
        err.message
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "a refused database is not modified"
    );
}

#[tokio::test]
async fn the_check_at_open_is_bounded_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    filled(&path, 1500).await.close().await;
    // A budget too small for any check to finish: the open goes ahead on a healthy file
    // rather than stalling (a huge database must not hold up the start).
    let report = quick_check(&path, Some(Duration::ZERO)).unwrap();
    assert!(!report.finished);
    assert!(report.problems.is_empty());
    let opts = StoreOptions {
        check_budget: Duration::ZERO,
        ..StoreOptions::default()
    };
    let store = Store::open(&path, &opts).await.unwrap();
    assert_eq!(event_count(&store).await, 1500);
}

#[tokio::test]
async fn quick_check_names_the_damage() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    filled(&path, 1500).await.close().await;
    let healthy = quick_check(&path, None).unwrap();
    assert!(
        healthy.finished && healthy.problems.is_empty(),
        "{healthy:?}"
    );
    corrupt_middle(&path, 4);
    let damaged = quick_check(&path, None).unwrap();
    assert!(!damaged.problems.is_empty(), "{damaged:?}");
}

#[tokio::test]
async fn backups_are_verified_named_by_time_and_only_the_last_three_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let store = filled(&path, 200).await;
    // One left by a process that stopped days ago, and one another process is writing now.
    std::fs::create_dir_all(dir.path().join(BACKUP_DIR)).unwrap();
    let stale = dir
        .path()
        .join(BACKUP_DIR)
        .join("loopline-2026-12-01T21-00-00.000Z.db.partial");
    let in_progress = dir
        .path()
        .join(BACKUP_DIR)
        .join("loopline-2026-12-10T21-00-00.001Z.db.partial");
    std::fs::write(&stale, b"half").unwrap();
    std::fs::write(&in_progress, b"half").unwrap();
    for day in 0..5 {
        let b = store.backup(T0 + day * 24 * HOUR).await.unwrap();
        assert!(b.good);
        assert_eq!(b.taken_at_ms, T0 + day * 24 * HOUR);
    }
    let kept = list_backups(&path).unwrap();
    let times: Vec<i64> = kept.iter().map(|b| b.taken_at_ms).collect();
    assert_eq!(
        times,
        vec![T0 + 4 * 24 * HOUR, T0 + 3 * 24 * HOUR, T0 + 2 * 24 * HOUR]
    );
    assert_eq!(
        Path::new(&kept[0].path)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap(),
        "loopline-2026-12-10T21-00-00.000Z.db"
    );
    assert!(Path::new(&kept[0].path).starts_with(dir.path().join(BACKUP_DIR)));
    // Nothing half-made by this process is left, nor an old one; another's is not touched.
    assert!(!stale.exists());
    assert!(in_progress.exists());
    std::fs::remove_file(&in_progress).unwrap();
    let names: Vec<String> = std::fs::read_dir(dir.path().join(BACKUP_DIR))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    store.close().await;
}

#[tokio::test]
async fn a_damaged_file_is_restored_from_the_newest_good_backup_and_kept_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let store = filled(&path, 1000).await;
    store.backup(T0).await.unwrap();
    add_events(&store, 500).await;
    let newest = store.backup(T0 + HOUR).await.unwrap();
    // Events after the newest good backup are what a restore loses.
    add_events(&store, 500).await;
    store.close().await;
    drop(store);
    // The newest backup itself went bad on disk: the restore must skip it.
    corrupt_middle(Path::new(&newest.path), 4);
    corrupt_middle(&path, 4);

    let restored = restore_newest_backup(&path, T0 + 2 * HOUR).unwrap();
    assert_eq!(
        restored.restored_from.taken_at_ms, T0,
        "the damaged newest one is skipped"
    );
    assert_eq!(restored.restored_from.taken_at, "2026-12-06T21:00:00.000Z");
    assert!(
        restored.safety_backup.is_none(),
        "a damaged file cannot be copied whole"
    );
    assert!(!restored.moved_aside.is_empty());
    for aside in &restored.moved_aside {
        assert!(Path::new(aside).exists(), "{aside} kept");
        assert!(Path::new(aside).starts_with(dir.path()));
    }
    let store = Store::open(&path, &StoreOptions::default()).await.unwrap();
    assert_eq!(event_count(&store).await, 1000);
    assert!(quick_check(&path, None).unwrap().ok());
    store.close().await;
}

async fn add_events(store: &Store, n: i64) {
    sqlx::query(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?) \
         INSERT INTO events (source_id, received_at_ms, headers_json, body, kind, action) \
         SELECT 'src_1', x, '{}', randomblob(1500), 'label_studio', 'ANNOTATION_CREATED' FROM n",
    )
    .bind(n)
    .execute(store.pool())
    .await
    .unwrap();
}

#[tokio::test]
async fn a_restore_refuses_while_the_database_is_open_and_keeps_a_copy_of_a_healthy_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let store = filled(&path, 200).await;
    store.backup(T0).await.unwrap();
    let err = restore_newest_backup(&path, T0 + HOUR).unwrap_err();
    assert_eq!(err.code, ErrorCode::DbInUse, "{err:?}");
    assert!(err.message.contains("Quit"), "{}", err.message);
    store.close().await;
    drop(store);

    let restored = restore_newest_backup(&path, T0 + HOUR).unwrap();
    assert_eq!(restored.restored_from.taken_at_ms, T0);
    let safety = restored
        .safety_backup
        .expect("a readable file is copied first");
    assert_eq!(safety.taken_at_ms, T0 + HOUR);
    assert!(safety.good);
}

#[tokio::test]
async fn no_good_backup_is_explained_and_nothing_is_moved() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    filled(&path, 1500).await.close().await;
    corrupt_middle(&path, 4);
    let err = restore_newest_backup(&path, T0).unwrap_err();
    assert_eq!(err.code, ErrorCode::NoBackup, "{err:?}");
    assert!(
        err.message.contains(&path.display().to_string()),
        "{}",
        err.message
    );
    assert!(path.exists());
}
