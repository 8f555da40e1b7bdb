//! `loopline db check|backup|restore` on a database damaged in the middle of the file.

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::time::Duration;

mod support;

use support::{loopline, signal, wait_exit};

fn run(data: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["--data-dir", data.to_str().unwrap(), "--secrets", "env"];
    all.extend_from_slice(args);
    let out = loopline(&all, &[], None);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fill(db: &Path, events: i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?1) \
         INSERT INTO events (source_id, received_at_ms, headers_json, body, kind, action) \
         SELECT 'src_1', x, '{}', randomblob(1500), 'label_studio', 'ANNOTATION_CREATED' FROM n",
        [events],
    )
    .unwrap();
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .unwrap();
}

fn corrupt_middle(db: &Path) {
    let pages = std::fs::metadata(db).unwrap().len() / 4096;
    assert!(pages > 100, "{pages} pages");
    let mut f = std::fs::OpenOptions::new().write(true).open(db).unwrap();
    f.seek(SeekFrom::Start(pages / 2 * 4096)).unwrap();
    f.write_all(&[0xa5; 4 * 4096]).unwrap();
    f.sync_all().unwrap();
}

#[test]
fn a_damaged_database_is_checked_and_restored_from_its_backup() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = data.join("loopline.db");
    let (code, _, stderr) = run(&data, &["info"]);
    assert_eq!(code, 0, "{stderr}");
    fill(&db, 1500);

    let (code, stdout, stderr) = run(&data, &["db", "backup", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let backup: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(backup["good"], true);
    assert!(
        backup["path"]
            .as_str()
            .unwrap()
            .contains("/backups/loopline-"),
        "{backup}"
    );
    let (code, stdout, _) = run(&data, &["db", "check", "--json"]);
    assert_eq!(code, 0);
    let check: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(check["ok"], true);

    // A running `serve` has the database open: a restore is refused and says what to do.
    let served = support::serve(
        &["--data-dir", data.to_str().unwrap(), "--secrets", "env"],
        &[],
    );
    let (code, _, stderr) = run(&data, &["db", "restore", "--json"]);
    assert_eq!(code, 1);
    let err: serde_json::Value = serde_json::from_str(stderr.trim()).unwrap();
    assert_eq!(err["code"], "db_in_use", "{stderr}");
    assert!(
        err["message"].as_str().unwrap().contains("Quit"),
        "{stderr}"
    );
    signal(&served.child, libc::SIGTERM);
    let (status, _) = wait_exit(served.child, Duration::from_secs(20));
    assert!(status.success());

    corrupt_middle(&db);
    let (code, _, stderr) = run(&data, &["info", "--json"]);
    assert_eq!(code, 1);
    let err: serde_json::Value = serde_json::from_str(stderr.trim()).unwrap();
    assert_eq!(err["code"], "db_corrupt", "{stderr}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("loopline db restore"),
        "{stderr}"
    );

    let (code, stdout, stderr) = run(&data, &["db", "check", "--json"]);
    assert_eq!(code, 1, "a damaged database fails the check");
    let check: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(check["ok"], false);
    assert!(!check["problems"].as_array().unwrap().is_empty());
    assert_eq!(check["backups"][0]["good"], true);
    let err: serde_json::Value = serde_json::from_str(stderr.trim()).unwrap();
    assert_eq!(err["code"], "db_corrupt");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains(backup["taken_at"].as_str().unwrap()),
        "{stderr}"
    );

    let (code, stdout, stderr) = run(&data, &["db", "restore", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let restored: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(restored["restored_from"]["taken_at"], backup["taken_at"]);
    let aside = restored["moved_aside"][0].as_str().unwrap();
    assert!(
        Path::new(aside).exists(),
        "the damaged file is kept: {aside}"
    );
    assert!(restored["safety_backup"].is_null());

    let (code, _, stderr) = run(&data, &["db", "check"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = run(&data, &["info", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("schema_version"));
}

#[test]
fn restore_without_a_backup_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (code, _, _) = run(&data, &["info"]);
    assert_eq!(code, 0);
    let (code, _, stderr) = run(&data, &["db", "restore"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("error[no_backup]"), "{stderr}");
    assert!(data.join("loopline.db").exists(), "nothing was moved");
}
