//! The timeline's filters find their rows through an index, never by walking the table:
//! with a million events stored, a scan is seconds, an index is milliseconds (bench b2).

use loopline_store::{Store, StoreOptions};

async fn plan(store: &Store, sql: &str) -> String {
    let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
        .fetch_all(store.pool())
        .await
        .unwrap();
    rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("; ")
}

#[tokio::test]
async fn a_rare_status_is_found_through_the_partial_index() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("loopline.db"), &StoreOptions::default())
        .await
        .unwrap();
    // As `list_events` writes a filter on any status but 'processed'.
    let p = plan(
        &store,
        "SELECT e.id FROM events e WHERE 1 = 1 AND e.status = 'malformed' AND e.status <> 'processed' \
         ORDER BY e.id DESC LIMIT 100",
    )
    .await;
    assert!(p.contains("events_by_status_other"), "{p}");
    // 'processed' is most events: the table in id order is the right walk.
    let p = plan(
        &store,
        "SELECT e.id FROM events e WHERE 1 = 1 AND e.status = 'processed' ORDER BY e.id DESC LIMIT 100",
    )
    .await;
    assert!(!p.contains("TEMP B-TREE"), "{p}");
}
