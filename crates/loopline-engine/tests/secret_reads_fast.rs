//! Secrets a delivery reads come from memory while nothing changed: a forward's signing
//! secret is read from the keychain once for many deliveries, read again as soon as this or
//! another process on the data directory sets a secret, and again after a minute (for a
//! change made in the OS keychain's own app).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::manual_clock::ManualClock;
use common::recording_target::{forward, receiving_for, Target};
use common::{annotation_created, Running};
use loopline_core::{ApiError, CreatedSource, Sensitive};
use loopline_engine::secrets::{MemorySecrets, SecretStore};
use loopline_engine::{Engine, EngineOptions};

const T0: i64 = 1_790_000_000_000;
const FIRST: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SECOND: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

/// The keychain, counting how often the forward's secret is read.
#[derive(Default)]
struct Counting {
    inner: MemorySecrets,
    reads: AtomicUsize,
}

impl SecretStore for Counting {
    fn get(&self, name: &str) -> Result<Option<Sensitive<String>>, ApiError> {
        if name == "fwd" {
            self.reads.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.get(name)
    }
    fn set(&self, name: &str, value: &Sensitive<String>) -> Result<(), ApiError> {
        self.inner.set(name, value)
    }
    fn delete(&self, name: &str) -> Result<(), ApiError> {
        self.inner.delete(name)
    }
    fn describe(&self) -> &'static str {
        "counting memory"
    }
    fn writable(&self) -> bool {
        true
    }
}

async fn deliver(r: &Running, src: &CreatedSource, n: i64) {
    let (status, _) = r.post_ls(src, &annotation_created(7, n, n)).await;
    assert_eq!(status, 200);
    r.engine.evaluate_automations().await.unwrap();
    r.engine.drain_outbox().await.unwrap();
}

#[tokio::test]
async fn a_secret_is_read_once_until_a_process_changes_one_or_a_minute_passes() {
    let target = Arc::new(Target::default());
    let clock = Arc::new(ManualClock::new(T0));
    let keychain = Arc::new(Counting::default());
    let web: Arc<dyn loopline_cloud::web::Web> = target.clone();
    let (store, c) = (keychain.clone(), clock.clone());
    let r = common::receiving_with(move |o| {
        o.web = Some(web);
        o.clock = Some(c);
        o.secrets = Some(store);
    })
    .await;
    let src = r.add(loopline_core::SourceKind::LabelStudio, None).await;
    r.engine
        .set_secret("fwd", Sensitive::new(FIRST.into()))
        .await
        .unwrap();
    r.engine
        .add_automation(forward(&src, vec![]))
        .await
        .unwrap();
    let reads = || keychain.reads.load(Ordering::SeqCst);
    let signature = |i: usize| Target::header(&target.seen.lock().unwrap()[i], "webhook-signature");

    for n in 1..=3 {
        deliver(&r, &src, n).await;
    }
    assert_eq!(target.seen.lock().unwrap().len(), 3);
    assert_eq!(reads(), 1, "three deliveries, one keychain read");

    // Another process on the data directory sets a secret (any one): read again at once.
    let other = Engine::open(EngineOptions {
        data_dir: Some(r.dir.path().to_path_buf()),
        secrets: Some(keychain.clone()),
        ..Default::default()
    })
    .await
    .unwrap();
    other
        .set_secret("fwd", Sensitive::new(SECOND.into()))
        .await
        .unwrap();
    other.shutdown().await;
    deliver(&r, &src, 4).await;
    assert_eq!(reads(), 2);
    assert_ne!(signature(3), signature(2), "signed with the new secret");

    // This process sets one: the same.
    r.engine
        .set_secret("fwd", Sensitive::new(FIRST.into()))
        .await
        .unwrap();
    deliver(&r, &src, 5).await;
    assert_eq!(reads(), 3);

    // A minute on, the keychain is asked again, in case it was changed outside Loopline.
    deliver(&r, &src, 6).await;
    assert_eq!(reads(), 3);
    clock.advance_ms(60_000);
    deliver(&r, &src, 7).await;
    assert_eq!(reads(), 4);
    assert_eq!(target.seen.lock().unwrap().len(), 7, "each delivered once");
}

#[tokio::test]
async fn a_secret_set_after_it_was_found_missing_is_used_at_once() {
    let target = Arc::new(Target::default());
    let clock = Arc::new(ManualClock::new(T0));
    let (r, src) = receiving_for(target.clone(), clock.clone(), "fwd", FIRST).await;
    r.engine
        .add_automation(forward(&src, vec![]))
        .await
        .unwrap();
    r.engine.delete_secret("fwd").await.unwrap();
    deliver(&r, &src, 1).await;
    assert!(target.seen.lock().unwrap().is_empty(), "refused: no secret");
    r.engine
        .set_secret("fwd", Sensitive::new(FIRST.into()))
        .await
        .unwrap();
    deliver(&r, &src, 2).await;
    assert_eq!(
        target.seen.lock().unwrap().len(),
        1,
        "the remembered absence was forgotten"
    );
}
