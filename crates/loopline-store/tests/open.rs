//! Opening the database: fresh, upgraded, refused (newer, corrupt, locked), never modified
//! when refused.

use std::borrow::Cow;
use std::path::Path;
use std::time::Duration;

use loopline_core::ErrorCode;
use loopline_store::{latest_schema_version, Store, StoreOptions, MIGRATOR};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{ConnectOptions, Connection, SqliteConnection};

fn db_path(dir: &tempfile::TempDir) -> std::path::PathBuf {
    dir.path().join("loopline.db")
}

/// A database as an earlier version left it: every migration before `version` applied.
async fn migrated_below(path: &Path, version: i64) -> SqliteConnection {
    let old = Migrator {
        migrations: Cow::Owned(
            MIGRATOR
                .iter()
                .filter(|m| m.version < version)
                .cloned()
                .collect(),
        ),
        ignore_missing: false,
        locking: true,
        no_tx: false,
    };
    let mut conn = raw(path, true).await;
    old.run_direct(&mut conn).await.unwrap();
    conn
}

async fn raw(path: &Path, wal: bool) -> SqliteConnection {
    let mut opts = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    if !wal {
        opts = opts.journal_mode(SqliteJournalMode::Delete);
    }
    opts.connect().await.unwrap()
}

#[tokio::test]
async fn fresh_database_is_migrated_and_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let store = Store::open(&path, &StoreOptions::default()).await.unwrap();
    assert_eq!(
        store.schema_version().await.unwrap(),
        latest_schema_version()
    );
    assert!(latest_schema_version() >= 2);
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(
        sync, 2,
        "synchronous must be FULL so an acknowledged event survives a power cut"
    );
    for table in ["sources", "events", "settings"] {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name=?")
                .bind(table)
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(n, 1, "table {table} missing");
    }
    assert!(store.ping().await);
    assert!(store.size_bytes() > 0);
    store.close().await;

    // Reopening an up-to-date database is a no-op that still succeeds.
    let again = Store::open(&path, &StoreOptions::default()).await.unwrap();
    assert_eq!(
        again.schema_version().await.unwrap(),
        latest_schema_version()
    );
}

#[tokio::test]
async fn database_from_previous_schema_is_upgraded_and_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let previous: Vec<_> = MIGRATOR
        .iter()
        .filter(|m| m.version < latest_schema_version())
        .cloned()
        .collect();
    assert!(!previous.is_empty());
    let old = Migrator {
        migrations: Cow::Owned(previous),
        ignore_missing: false,
        locking: true,
        no_tx: false,
    };
    {
        let mut conn = raw(&path, true).await;
        old.run_direct(&mut conn).await.unwrap();
        sqlx::query("INSERT INTO sources (id, kind, name, created_at_ms) VALUES ('src_1', 'label-studio', 'LS', 1)")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO events (source_id, received_at_ms, headers_json, body, kind, action) \
             VALUES ('src_1', 2, '{}', x'7b7d', 'label_studio', 'ANNOTATION_CREATED')",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
    }

    let store = Store::open(&path, &StoreOptions::default()).await.unwrap();
    assert_eq!(
        store.schema_version().await.unwrap(),
        latest_schema_version()
    );
    let (action, body): (String, Vec<u8>) = sqlx::query_as("SELECT action, body FROM events")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(action, "ANNOTATION_CREATED");
    assert_eq!(body, b"{}");
    // The upgrade added the settings table.
    store.set_setting("k", "v").await.unwrap();
    assert_eq!(store.setting("k").await.unwrap().as_deref(), Some("v"));
}

#[tokio::test]
async fn database_from_newer_loopline_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    {
        let store = Store::open(&path, &StoreOptions::default()).await.unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (99999, 'from the future', 1, x'00', 0)",
        )
        .execute(store.pool())
        .await
        .unwrap();
        store.close().await;
    }
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path, &StoreOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::DbNewerSchema);
    assert!(
        err.message.contains(&path.display().to_string()),
        "{}",
        err.message
    );
    assert!(err.message.contains("99999"));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "a refused database must not be modified"
    );
}

#[tokio::test]
async fn corrupt_file_gives_a_clear_error_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();
    let err = Store::open(&path, &StoreOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::DbCorrupt, "{err:?}");
    assert!(err.message.contains(&path.display().to_string()));
    assert_eq!(std::fs::read(&path).unwrap(), garbage);
}

#[tokio::test]
async fn locked_file_gives_a_clear_error_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    // A rollback-journal database under an exclusive transaction blocks even readers,
    // the way another program holding the file would.
    let mut holder = raw(&path, false).await;
    sqlx::query("CREATE TABLE t (x)")
        .execute(&mut holder)
        .await
        .unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut holder)
        .await
        .unwrap();
    sqlx::query("INSERT INTO t VALUES (1)")
        .execute(&mut holder)
        .await
        .unwrap();

    let opts = StoreOptions {
        busy_timeout: Duration::from_millis(200),
        ..StoreOptions::default()
    };
    let err = Store::open(&path, &opts).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::DbLocked, "{err:?}");
    assert!(err.message.contains(&path.display().to_string()));
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
}

#[tokio::test]
async fn unusable_data_dir_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    let err = Store::open(&blocker.join("loopline.db"), &StoreOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::DataDirUnavailable, "{err:?}");
    assert!(err.message.contains("not-a-dir"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_openers_of_a_new_database_at_once_all_succeed() {
    // The app and a CLI command (or two commands) may open a brand-new data dir together;
    // the schema must be created once, and every opener must succeed.
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let path = db_path(&dir);
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let p = path.clone();
            tasks.push(tokio::spawn(async move {
                Store::open(&p, &StoreOptions::default()).await
            }));
        }
        for t in tasks {
            let store = t.await.unwrap().expect("every concurrent opener succeeds");
            assert_eq!(
                store.schema_version().await.unwrap(),
                latest_schema_version()
            );
            store.close().await;
        }
    }
}

/// The outbox migration (0007): runs waiting to start, or left `starting` by a process that
/// stopped mid-call, become retrain-start items; the second is taken over at once.
#[tokio::test]
async fn runs_waiting_to_start_move_into_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    {
        let mut conn = migrated_below(&path, 7).await;
        for (status, attempts) in [
            ("pending", 2),
            ("starting", 1),
            ("executing", 1),
            ("held", 0),
        ] {
            sqlx::query(
                "INSERT INTO runs (rule_id, pipeline, event_id, count, bucket_from, bucket_to, status, params_json, client_token, \
                 created_at_ms, deadline_at_ms, next_attempt_at_ms, attempts) VALUES ('r', 'p', 1, 16, 1, 1, ?, '[]', 't', 10, 9000, 500, ?)",
            )
            .bind(status)
            .bind(attempts)
            .execute(&mut conn)
            .await
            .unwrap();
        }
        conn.close().await.unwrap();
    }
    let store = Store::open(&path, &StoreOptions::default()).await.unwrap();
    let items: Vec<(String, String, i64, String, i64, i64)> = sqlx::query_as(
        "SELECT kind, idempotency_key, subject_id, state, attempts, deadline_at_ms FROM outbox_items ORDER BY id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(
        items,
        vec![
            (
                "retrain.start".into(),
                "run:1".into(),
                1,
                "pending".into(),
                2,
                9000
            ),
            (
                "retrain.start".into(),
                "run:2".into(),
                2,
                "in_flight".into(),
                1,
                9000
            ),
        ]
    );
    // Both are due: the pending one by time, the in-flight one because it has no lease.
    assert_eq!(store.due_outbox(1000, &[]).await.unwrap().len(), 2);
    let taken = store
        .claim_outbox(2, "w1", 1000, 61_000, &[])
        .await
        .unwrap()
        .unwrap();
    assert!(taken.taken_over);
    assert_eq!(taken.attempts, 2);
    assert!(
        store
            .claim_outbox(2, "w2", 1000, 61_000, &[])
            .await
            .unwrap()
            .is_none(),
        "held by w1"
    );
}

/// Migration 9: the lists earlier versions kept as JSON in `settings` (registered webhooks,
/// secret names, image hosts) are moved into their tables, and the old keys are gone.
#[tokio::test]
async fn the_json_lists_of_earlier_versions_move_into_their_tables() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    {
        let mut conn = migrated_below(&path, 9).await;
        for (k, v) in [
            (
                "label_studio.hooks",
                r#"[{"source_id":"src_1","project_id":7,"webhook_id":12,"url":"https://a.example/hooks/src_1"}]"#,
            ),
            (
                "secrets.names",
                r#"["aws-secret-access-key","label-studio-token"]"#,
            ),
            (
                "review.image_hosts",
                r#"["images.example.org","s3://birds"]"#,
            ),
        ] {
            sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?)")
                .bind(k)
                .bind(v)
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }
    let store = Store::open(&path, &StoreOptions::default()).await.unwrap();
    let hooks = store.registered_hooks().await.unwrap();
    assert_eq!(hooks.len(), 1);
    assert_eq!(
        (
            hooks[0].source_id.as_str(),
            hooks[0].project_id,
            hooks[0].webhook_id
        ),
        ("src_1", 7, 12)
    );
    assert_eq!(hooks[0].url, "https://a.example/hooks/src_1");
    assert_eq!(
        store.secret_names().await.unwrap(),
        vec!["aws-secret-access-key", "label-studio-token"]
    );
    assert_eq!(
        store.image_hosts().await.unwrap(),
        vec!["images.example.org", "s3://birds"]
    );
    for key in ["label_studio.hooks", "secrets.names", "review.image_hosts"] {
        assert_eq!(store.setting(key).await.unwrap(), None, "{key}");
    }
}

/// Migration 10: a search index written by earlier versions (which indexed unparsed bodies
/// as raw text, secrets included) is emptied and its mark reset, so it is built again from
/// masked text.
#[tokio::test]
async fn the_search_index_of_earlier_versions_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    {
        let mut conn = migrated_below(&path, 10).await;
        sqlx::query("INSERT INTO events_fts (rowid, text) VALUES (1, 'ANNOTATION_CREATED F48Hc5bF4xtepDljD4iOtuCUqJCYMJANQxKwM9Qz')")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO settings (key, value) VALUES ('fts.indexed_upto', '1')")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let store = Store::open(&path, &StoreOptions::default()).await.unwrap();
    let hits: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM events_fts WHERE events_fts MATCH 'F48Hc5bF4xtepDljD4iOtuCUqJCYMJANQxKwM9Qz'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(hits, 0, "the old index is gone");
    assert_eq!(store.setting("fts.indexed_upto").await.unwrap(), None);
}
