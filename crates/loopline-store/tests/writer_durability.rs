//! The writer acknowledges an event only after the sync that covers its commit has
//! returned, and never when that sync fails. The sync is swapped for one the test holds.

use std::future::Future;
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

type Write = std::pin::Pin<
    Box<
        dyn std::future::Future<Output = Result<loopline_store::Stored, loopline_core::ApiError>>
            + Send,
    >,
>;

/// Polls each write once: none may be answered yet.
fn still_waiting(writes: &mut [Write]) {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    for w in writes.iter_mut() {
        assert!(
            w.as_mut().poll(&mut cx).is_pending(),
            "an event was acknowledged before the log was synced"
        );
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
    // The writes are polled by the test itself, so "not answered yet" is a fact read off
    // each future, not a guess after a pause: the sync is held closed the whole time, so
    // any write that is ready before it opens was acknowledged before its sync returned.
    let mut writes: Vec<Write> = (0..20)
        .map(|n| {
            let w = writer.clone();
            Box::pin(async move { w.write(event(n)).await }) as Write
        })
        .collect();
    let mut polls = 0;
    while store.event_count().await.unwrap() < 20 || gate.calls() == 0 {
        still_waiting(&mut writes);
        polls += 1;
        assert!(polls < 2000, "the batch was never committed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Committed (a reader sees it) and the sync entered: every answer is still held.
    still_waiting(&mut writes);
    gate.set(true, false);
    let mut ids = Vec::new();
    for w in writes {
        ids.push(w.await.expect("stored once synced").id);
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
    // Polled by the test: while the sync is held, close must not be done, however often it
    // is asked and however much the writer task gets to run in between.
    let w = writer.clone();
    let mut closing = Box::pin(async move { w.close().await });
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    for _ in 0..200 {
        assert!(
            closing.as_mut().poll(&mut cx).is_pending(),
            "close returned with a sync outstanding"
        );
        tokio::task::yield_now().await;
    }
    gate.set(true, false);
    closing.await;
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
