//! A delivery identical to one stored within the window (same source, same body digest) is
//! stored flagged as a duplicate of the original; everything else is an original. Also
//! after a restart, and with a flood of distinct bodies in between.

use std::time::Duration;

use loopline_core::EventStatus;
use loopline_store::{EventWriter, NewEvent, Store, StoreOptions, Stored, StoredBody};

const WINDOW: Duration = Duration::from_secs(600);
const WINDOW_MS: i64 = 600_000;

fn delivery(source: &str, digest: u8, at_ms: i64) -> NewEvent {
    NewEvent {
        source_id: source.into(),
        received_at_ms: at_ms,
        remote_addr: None,
        headers_json: "[]".into(),
        body_sha256: [digest; 32],
        body: StoredBody::encode(br#"{"action": "ANNOTATION_CREATED"}"#.to_vec()),
        body_truncated: false,
        kind: "label-studio",
        action: Some("ANNOTATION_CREATED".into()),
        project_id: Some(1),
        project_name: None,
        summary: "delivery".into(),
        status: EventStatus::Processed,
        parsed_json: None,
        replay_of: None,
        check_duplicate: true,
    }
}

async fn open(dir: &tempfile::TempDir) -> Store {
    Store::open(&dir.path().join("loopline.db"), &StoreOptions::default())
        .await
        .unwrap()
}

fn original(s: Stored) -> i64 {
    assert_eq!((s.status, s.duplicate_of), (EventStatus::Processed, None));
    s.id
}

fn duplicate_of(s: Stored) -> i64 {
    assert_eq!(s.status, EventStatus::Duplicate, "{s:?}");
    s.duplicate_of.expect("names its original")
}

#[tokio::test]
async fn repeats_within_the_window_are_flagged_and_the_window_moves_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let w = EventWriter::start(&store, WINDOW, 0).await.unwrap();

    let a = original(w.write(delivery("src_a", 1, 0)).await.unwrap());
    assert_eq!(
        duplicate_of(w.write(delivery("src_a", 1, 1_000)).await.unwrap()),
        a
    );
    original(w.write(delivery("src_b", 1, 2_000)).await.unwrap());
    original(w.write(delivery("src_a", 2, 3_000)).await.unwrap());

    // Past the window of the first delivery, the same body is an original again, and the
    // repeats after it point at the new one.
    let again = original(w.write(delivery("src_a", 1, WINDOW_MS + 1)).await.unwrap());
    assert_eq!(
        duplicate_of(w.write(delivery("src_a", 1, WINDOW_MS + 2)).await.unwrap()),
        again
    );

    // Repeats inside one batch: the first is the original, the rest point at it.
    let batch: Vec<_> = (0..20)
        .map(|k| {
            let w = w.clone();
            tokio::spawn(async move { w.write(delivery("src_c", 7, 10_000 + k)).await })
        })
        .collect();
    let mut stored = Vec::new();
    for t in batch {
        stored.push(t.await.unwrap().unwrap());
    }
    stored.sort_by_key(|s| s.id);
    let first = original(stored[0]);
    for s in &stored[1..] {
        assert_eq!(duplicate_of(*s), first);
    }
    w.close().await;
}

#[tokio::test]
async fn a_restarted_writer_still_knows_the_recent_originals() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let w = EventWriter::start(&store, WINDOW, 0).await.unwrap();
    let a = original(w.write(delivery("src_a", 1, 1_000)).await.unwrap());
    // A flood of distinct bodies in between does not push the original out of the window.
    let flood: Vec<_> = (0..2_000u32)
        .map(|k| {
            let w = w.clone();
            let mut e = delivery("src_a", 0, 2_000 + i64::from(k));
            e.body_sha256[..4].copy_from_slice(&k.to_le_bytes());
            e.body_sha256[31] = 0xff;
            tokio::spawn(async move { w.write(e).await })
        })
        .collect();
    for t in flood {
        original(t.await.unwrap().unwrap());
    }
    w.close().await;
    drop(w);

    let w = EventWriter::start(&store, WINDOW, 5_000).await.unwrap();
    assert_eq!(
        duplicate_of(w.write(delivery("src_a", 1, 5_000)).await.unwrap()),
        a
    );
    w.close().await;
}

/// Two writers on one database, as the app and `loopline serve` on one data directory: a
/// body stored by one is a duplicate when it reaches the other, both ways, and the ids
/// still follow arrival.
#[tokio::test]
async fn a_repeat_that_reaches_the_other_process_is_flagged_too() {
    let dir = tempfile::tempdir().unwrap();
    let (store_a, store_b) = (open(&dir).await, open(&dir).await);
    let a = EventWriter::start(&store_a, WINDOW, 0).await.unwrap();
    let b = EventWriter::start(&store_b, WINDOW, 0).await.unwrap();

    let first = original(a.write(delivery("src_a", 1, 0)).await.unwrap());
    assert_eq!(
        duplicate_of(b.write(delivery("src_a", 1, 1_000)).await.unwrap()),
        first
    );
    let second = original(b.write(delivery("src_a", 2, 2_000)).await.unwrap());
    assert_eq!(
        duplicate_of(a.write(delivery("src_a", 2, 3_000)).await.unwrap()),
        second
    );
    // Another source's identical body is its own original, on either side.
    original(a.write(delivery("src_b", 2, 4_000)).await.unwrap());
    let ids: Vec<i64> = alternating_originals(&a, &b).await;
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
}

/// Alternating writes, one at a time: each id is above the one before.
async fn alternating_originals(a: &EventWriter, b: &EventWriter) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..6u8 {
        let w = if i % 2 == 0 { a } else { b };
        ids.push(original(
            w.write(delivery("src_c", 10 + i, 5_000 + i as i64))
                .await
                .unwrap(),
        ));
    }
    ids
}
