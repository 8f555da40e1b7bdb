//! The writer acknowledges an event only after the sync that covers its commit has
//! returned, and never when that sync fails. The sync is swapped for one the test holds.

use std::io;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use loopline_core::{ErrorCode, EventStatus};
use loopline_store::{EventWriter, Flush, NewEvent, Store, StoreOptions, StoredBody};

/// A sync that waits for the test to let it through, and can be told to fail.
#[derive(Clone, Default)]
struct Gate(Arc<(Mutex<GateState>, Condvar)>);

#[derive(Default)]
struct GateState {
    open: bool,
    fail: bool,
    calls: usize,
}

impl Gate {
    fn set(&self, open: bool, fail: bool) {
        let (m, c) = &*self.0;
        let mut s = m.lock().unwrap();
        s.open = open;
        s.fail = fail;
        c.notify_all();
    }
    fn calls(&self) -> usize {
        self.0 .0.lock().unwrap().calls
    }
}

impl Flush for Gate {
    fn flush(&mut self) -> io::Result<()> {
        let (m, c) = &*self.0;
        let mut s = m.lock().unwrap();
        s.calls += 1;
        while !s.open {
            s = c.wait(s).unwrap();
        }
        if s.fail {
            Err(io::Error::other("injected: the disk refused"))
        } else {
            Ok(())
        }
    }
}

fn event(n: i64) -> NewEvent {
    let body = format!(r#"{{"action": "ANNOTATION_CREATED", "n": {n}}}"#);
    NewEvent {
        source_id: "src_test".into(),
        received_at_ms: 1_000 + n,
        remote_addr: None,
        headers_json: "[]".into(),
        body_sha256: [n as u8; 32],
        body: StoredBody::encode(body.into_bytes()),
        body_truncated: false,
        kind: "label-studio",
        action: Some("ANNOTATION_CREATED".into()),
        project_id: Some(1),
        project_name: None,
        summary: format!("event {n}"),
        status: EventStatus::Processed,
        parsed_json: None,
        replay_of: None,
        check_duplicate: false,
    }
}

async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("loopline.db"), &StoreOptions::default())
        .await
        .unwrap();
    (dir, store)
}

#[tokio::test]
async fn nothing_is_acknowledged_before_its_sync_returns() {
    let (_dir, store) = store().await;
    let gate = Gate::default();
    let writer =
        EventWriter::start_with(&store, Duration::from_secs(60), 0, Box::new(gate.clone()))
            .await
            .unwrap();
    let writes: Vec<_> = (0..20)
        .map(|n| {
            let w = writer.clone();
            tokio::spawn(async move { w.write(event(n)).await })
        })
        .collect();
    // The batch is committed (a reader sees it) but the sync is held: no answer yet.
    for _ in 0..200 {
        if store.event_count().await.unwrap() == 20 && gate.calls() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(store.event_count().await.unwrap(), 20, "committed");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        writes.iter().all(|w| !w.is_finished()),
        "an event was acknowledged before the log was synced"
    );
    gate.set(true, false);
    let mut ids = Vec::new();
    for w in writes {
        ids.push(w.await.unwrap().expect("stored once synced").id);
    }
    ids.sort();
    assert_eq!(ids, (1..=20).collect::<Vec<_>>());
    writer.close().await;
}

#[tokio::test]
async fn a_failed_sync_acknowledges_nothing_and_says_so() {
    let (_dir, store) = store().await;
    let gate = Gate::default();
    gate.set(true, true);
    let writer =
        EventWriter::start_with(&store, Duration::from_secs(60), 0, Box::new(gate.clone()))
            .await
            .unwrap();
    let err = writer.write(event(1)).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::StoreUnavailable);
    assert!(err.message.contains("did not confirm"), "{}", err.message);
    assert!(
        err.message.contains("Nothing was acknowledged"),
        "{}",
        err.message
    );
    // The disk recovers: the next event is acknowledged as usual.
    gate.set(true, false);
    let stored = writer.write(event(2)).await.unwrap();
    assert!(stored.id > 0);
    writer.close().await;
}

#[tokio::test]
async fn close_waits_for_the_last_sync() {
    let (_dir, store) = store().await;
    let gate = Gate::default();
    let writer =
        EventWriter::start_with(&store, Duration::from_secs(60), 0, Box::new(gate.clone()))
            .await
            .unwrap();
    let w = writer.clone();
    let pending = tokio::spawn(async move { w.write(event(1)).await });
    while gate.calls() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let closing = {
        let w = writer.clone();
        tokio::spawn(async move { w.close().await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !closing.is_finished(),
        "close returned with a sync outstanding"
    );
    gate.set(true, false);
    closing.await.unwrap();
    assert!(pending.await.unwrap().is_ok());
}

#[tokio::test]
async fn the_real_log_sync_round_trips_bodies() {
    let (_dir, store) = store().await;
    let writer = EventWriter::start(&store, Duration::from_secs(60), 0)
        .await
        .unwrap();
    let big = format!(
        r#"{{"action": "ANNOTATION_CREATED", "pad": "{}"}}"#,
        "ab".repeat(30_000)
    );
    let mut e = event(1);
    e.body = StoredBody::encode(big.clone().into_bytes());
    let stored = writer.write(e).await.unwrap();
    let back = store.event(stored.id).await.unwrap();
    assert_eq!(
        back.body,
        big.as_bytes(),
        "the body comes back byte for byte"
    );
    assert_eq!(back.summary.body_bytes, big.len() as i64);
    writer.close().await;
}
