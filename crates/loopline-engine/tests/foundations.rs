//! Defects found in review, each with the test that failed before its fix: the source table
//! survives a failed reload, the AWS configuration is cached, `events list` pages past 1000.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::{receiving_with, unique_body};
use loopline_core::{ApiError, ErrorCode, EventQuery, Sensitive, SourceKind};
use loopline_engine::secrets::{MemorySecrets, SecretStore};
use loopline_engine::AWS_SECRET_ACCESS_KEY;

/// A keychain that can be made to panic or fail, as a D-Bus keyring does when it hangs up.
#[derive(Default)]
struct BrokenKeychain {
    inner: MemorySecrets,
    panic: AtomicBool,
    fail: AtomicBool,
}

impl SecretStore for BrokenKeychain {
    fn get(&self, name: &str) -> Result<Option<Sensitive<String>>, ApiError> {
        if self.panic.load(Ordering::SeqCst) {
            panic!("the keyring went away");
        }
        if self.fail.load(Ordering::SeqCst) {
            return Err(ApiError::new(
                ErrorCode::KeychainUnavailable,
                "The OS keychain is not available.",
            ));
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
        "keychain"
    }
    fn writable(&self) -> bool {
        true
    }
}

/// Defect 4: a reload whose keychain thread panicked replaced the table with an empty one,
/// and every webhook got 404; a keychain error dropped the signing keys (401s).
#[tokio::test]
async fn a_failed_source_reload_keeps_the_previous_table() {
    let keychain = Arc::new(BrokenKeychain::default());
    let k = keychain.clone();
    let r = receiving_with(move |o| o.secrets = Some(k)).await;
    let ls = r.add(SourceKind::LabelStudio, None).await;
    // A Standard Webhooks source: its signing key is read from the keychain on reload.
    r.add(SourceKind::Generic, None).await;
    assert_eq!(r.post_ls(&ls, &unique_body(1)).await.0, 200);

    keychain.panic.store(true, Ordering::SeqCst);
    r.engine.reload_sources().await;
    let why = r
        .engine
        .sources_reload_error()
        .expect("the failure is kept, in words");
    assert!(why.message.contains("keyring went away"), "{}", why.message);
    assert_eq!(
        r.post_ls(&ls, &unique_body(2)).await.0,
        200,
        "the previous table still serves"
    );

    keychain.panic.store(false, Ordering::SeqCst);
    keychain.fail.store(true, Ordering::SeqCst);
    r.engine.reload_sources().await;
    assert_eq!(
        r.engine.sources_reload_error().unwrap().code,
        ErrorCode::KeychainUnavailable
    );
    assert_eq!(r.post_ls(&ls, &unique_body(3)).await.0, 200);

    keychain.fail.store(false, Ordering::SeqCst);
    r.engine.reload_sources().await;
    assert!(r.engine.sources_reload_error().is_none());
}

/// Defect 6: `Engine::aws()` read the keychain up to six times and reloaded the SDK config
/// on every monitor tick. Now it is built once, and connect, disconnect and rotating a
/// stored key (here or in another process) make it stale.
#[tokio::test]
async fn the_aws_configuration_is_cached_until_it_changes() {
    let r = receiving_with(|_| {}).await;
    r.engine
        .store()
        .set_setting("aws.region", "eu-west-1")
        .await
        .unwrap();
    for _ in 0..5 {
        r.engine.aws().await.unwrap();
    }
    assert_eq!(r.engine.aws_config_loads(), 1);

    r.engine
        .set_secret(
            AWS_SECRET_ACCESS_KEY,
            Sensitive::new("rotated-secret".into()),
        )
        .await
        .unwrap();
    r.engine.aws().await.unwrap();
    r.engine.aws().await.unwrap();
    assert_eq!(
        r.engine.aws_config_loads(),
        2,
        "a rotated key is read again, once"
    );

    // Another process (a CLI `connect aws`) bumps the revision in the shared database.
    let other = loopline_engine::Engine::open(loopline_engine::EngineOptions {
        data_dir: Some(r.dir.path().to_path_buf()),
        secrets: Some(Arc::new(MemorySecrets::default())),
        ..Default::default()
    })
    .await
    .unwrap();
    other.disconnect_aws().await.unwrap();
    other.shutdown().await;
    r.engine
        .store()
        .set_setting("aws.region", "eu-west-1")
        .await
        .unwrap();
    r.engine.aws().await.unwrap();
    assert_eq!(r.engine.aws_config_loads(), 3);
}

/// Defect 9: `events list --limit 5000` silently returned 1000 (the store's page).
#[tokio::test]
async fn listing_more_events_than_one_page_pages_through() {
    let r = receiving_with(|_| {}).await;
    r.engine.set_limits(loopline_engine::ReceiverLimits {
        rate_per_source: 0.0,
        ..Default::default()
    });
    let ls = r.add(SourceKind::LabelStudio, None).await;
    for chunk in 0..(1_150 / 50) {
        let posts = (0..50).map(|i| {
            let body = unique_body(chunk * 50 + i);
            let r = &r;
            let ls = &ls;
            async move { r.post_ls(ls, &body).await.0 }
        });
        for status in futures_util::future::join_all(posts).await {
            assert_eq!(status, 200);
        }
    }
    let q = EventQuery::default();
    let page = r.engine.list_events_up_to(&q, 1_100).await.unwrap();
    assert_eq!(page.events.len(), 1_100);
    let ids: std::collections::HashSet<i64> = page.events.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), 1_100, "no event twice across pages");
    assert!(
        page.events.windows(2).all(|w| w[0].id > w[1].id),
        "newest first"
    );
    assert_eq!(page.next_before_id, page.events.last().map(|e| e.id));

    let all = r.engine.list_events_up_to(&q, 5_000).await.unwrap();
    assert_eq!(all.events.len(), 1_150);
    assert_eq!(all.next_before_id, None);
}

/// Issue 22.11: the app and the CLI storing secrets at the same moment. Each name is its own
/// row, so every secret set is listed (a JSON list read, changed and written back lost the
/// other writer's names, and a secret then went missing from `secret list`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_stored_at_once_from_two_processes_are_all_listed() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemorySecrets::default());
    let open = || async {
        Arc::new(
            loopline_engine::Engine::open(loopline_engine::EngineOptions {
                data_dir: Some(dir.path().to_path_buf()),
                secrets: Some(secrets.clone()),
                ..Default::default()
            })
            .await
            .unwrap(),
        )
    };
    let (app, cli) = (open().await, open().await);
    let writer = |engine: Arc<loopline_engine::Engine>, who: &'static str| {
        tokio::spawn(async move {
            for i in 0..30 {
                engine
                    .set_secret(
                        &format!("{who}-token-{i}"),
                        Sensitive::new(format!("value-{who}-{i}-0123456789")),
                    )
                    .await
                    .unwrap();
            }
        })
    };
    let (a, b) = (writer(app.clone(), "app"), writer(cli.clone(), "cli"));
    a.await.unwrap();
    b.await.unwrap();
    assert_eq!(app.list_secrets().await.unwrap().len(), 60);
    app.delete_secret("cli-token-7").await.unwrap();
    assert_eq!(cli.list_secrets().await.unwrap().len(), 59);
}
