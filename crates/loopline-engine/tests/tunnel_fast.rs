//! The tunnel keeper through a fake provider: self-test through the public URL, reconnect
//! after a drop, a URL that leads elsewhere, switching off, and one keeper per data
//! directory. The real bore tunnel with a real Label Studio is in e2e/test_tunnel.py.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::fake_tunnel::FakeTunnel;
use common::{receiving_with, running_with, Running};
use loopline_core::{ApiError, ErrorCode, TunnelConfig, TunnelState, TunnelStatus};
use loopline_tunnel::{TunnelProvider, TunnelSession};

async fn with_fake() -> (Running, Arc<FakeTunnel>) {
    let fake = Arc::new(FakeTunnel::default());
    let f = fake.clone();
    let r = running_with(move |o| o.tunnel = Some(f)).await;
    (r, fake)
}

/// Waits on the engine's state (the keeper's status), not on time.
async fn status_until(r: &Running, what: &str, ok: impl Fn(&TunnelStatus) -> bool) -> TunnelStatus {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let s = r.engine.tunnel_status().await.unwrap();
        if ok(&s) {
            return s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "tunnel never became {what}: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the fake has seen what the keeper did (its own counters are the state).
async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "never {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn own_url() -> TunnelConfig {
    TunnelConfig::Url {
        public_url: "https://hooks.example.org/".into(),
    }
}

#[tokio::test]
async fn a_tunnel_that_reaches_the_receiver_is_reachable_and_leaves_no_event() {
    let (r, fake) = with_fake().await;
    let set = r.engine.set_tunnel(own_url()).await.unwrap();
    assert_eq!(set.provider.as_deref(), Some("url"));
    let s = status_until(&r, "reachable", |s| s.state == TunnelState::Reachable).await;
    assert_eq!(s.public_url.as_deref(), Some(r.base.as_str()));
    assert!(s.rtt_ms.is_some() && s.verified_at.is_some(), "{s:?}");
    assert!(
        s.kept_by
            .as_deref()
            .is_some_and(|k| k.starts_with("serve (pid ")),
        "{s:?}"
    );
    assert_eq!(fake.opens.load(Ordering::SeqCst), 1);
    let test = r.engine.tunnel_test().await.unwrap();
    assert!(test.reachable && test.attempts == 1, "{test:?}");
    assert!(r.events().await.is_empty(), "a self-test is never an event");
}

#[tokio::test]
async fn a_dropped_tunnel_is_reopened() {
    let (r, fake) = with_fake().await;
    r.engine.set_tunnel(own_url()).await.unwrap();
    status_until(&r, "reachable", |s| s.state == TunnelState::Reachable).await;
    fake.drop_now.notify_one();
    until("reconnected", || fake.opens.load(Ordering::SeqCst) >= 2).await;
    status_until(&r, "reachable again", |s| s.state == TunnelState::Reachable).await;
}

#[tokio::test]
async fn a_url_that_leads_to_another_receiver_is_unreachable() {
    let other = receiving_with(|_| {}).await;
    let (r, fake) = with_fake().await;
    *fake.elsewhere.lock().unwrap() = Some(other.base.clone());
    r.engine.set_tunnel(own_url()).await.unwrap();
    let s = status_until(&r, "unreachable", |s| s.state == TunnelState::Unreachable).await;
    let e = s.error.expect("says why");
    assert_eq!(e.code, ErrorCode::TunnelUnreachable);
    assert!(e.message.contains("not this one"), "{}", e.message);
}

#[tokio::test]
async fn switching_off_closes_the_tunnel() {
    let (r, fake) = with_fake().await;
    r.engine.set_tunnel(own_url()).await.unwrap();
    status_until(&r, "reachable", |s| s.state == TunnelState::Reachable).await;
    let off = r.engine.tunnel_off().await.unwrap();
    assert_eq!(off.state, TunnelState::Stopped);
    assert!(off.note.unwrap().contains("No tunnel is set up"));
    until("closed", || fake.closes.load(Ordering::SeqCst) >= 1).await;
}

#[tokio::test]
async fn nothing_running_it_is_said_in_words() {
    let r = receiving_with(|_| {}).await; // no background work: no keeper
    r.engine.set_tunnel(own_url()).await.unwrap();
    let s = r.engine.tunnel_status().await.unwrap();
    assert_eq!(s.state, TunnelState::Stopped);
    assert!(s.note.unwrap().contains("Nothing is running it"));
    assert_eq!(
        r.engine.tunnel_test().await.unwrap().public_url,
        "https://hooks.example.org"
    );
}

#[tokio::test]
async fn bad_choices_are_refused_with_a_fix() {
    let r = receiving_with(|_| {}).await;
    let e = r
        .engine
        .set_tunnel(TunnelConfig::Bore {
            server: "b.example:9000".into(),
            secret_name: None,
            https_url: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidArgument);
    let e = r
        .engine
        .set_tunnel(TunnelConfig::Bore {
            server: "b.example".into(),
            secret_name: Some("bore-secret".into()),
            https_url: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::SecretUnavailable);
    assert!(e.message.contains("loopline secret set bore-secret"));
    let e = r
        .engine
        .set_tunnel(TunnelConfig::Cloudflared {
            binary: Some("/nonexistent/cloudflared".into()),
            named: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::TunnelStartFailed);
    let e = r
        .engine
        .set_tunnel(TunnelConfig::Url {
            public_url: "ftp://x".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidArgument);
}

#[tokio::test]
async fn only_the_hook_paths_are_served() {
    let r = receiving_with(|_| {}).await;
    for path in [
        "/",
        "/api",
        "/api/info",
        "/admin",
        "/hooks/../admin",
        "/hooks/%2e%2e/admin",
        "/hooks/_loopline",
        "/timeline",
    ] {
        for get in [true, false] {
            let url = format!("{}{path}", r.base);
            let resp = if get {
                r.http.get(&url).send().await
            } else {
                r.http.post(&url).body("{}").send().await
            }
            .unwrap();
            let status = resp.status().as_u16();
            assert!(status == 404 || status == 405, "{path} answered {status}");
        }
    }
}

#[tokio::test]
async fn ngrok_needs_its_authtoken_stored_and_takes_a_bare_domain() {
    let r = receiving_with(|_| {}).await;
    let ngrok = |domain: &str| TunnelConfig::Ngrok {
        authtoken_secret: "ngrok-authtoken".into(),
        domain: Some(domain.into()),
    };
    let e = r
        .engine
        .set_tunnel(ngrok("my-name.ngrok-free.app"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::SecretUnavailable);
    assert!(e.message.contains("loopline secret set ngrok-authtoken"));

    r.engine
        .set_secret(
            "ngrok-authtoken",
            loopline_core::Sensitive::new("2abcTOKEN_for_tests".to_string()),
        )
        .await
        .unwrap();
    let e = r
        .engine
        .set_tunnel(ngrok("not a domain"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidArgument);
    let s = r
        .engine
        .set_tunnel(ngrok("https://My-Name.ngrok-free.app/"))
        .await
        .unwrap();
    assert_eq!(s.provider.as_deref(), Some("ngrok"));
    assert_eq!(
        r.engine.tunnel_config().await.unwrap(),
        Some(ngrok("my-name.ngrok-free.app")),
        "saved as the bare host name ngrok wants"
    );
    // The secret's value is never part of what is saved or shown.
    let saved = serde_json::to_string(&r.engine.tunnel_config().await.unwrap()).unwrap();
    assert!(!saved.contains("2abcTOKEN"));
    let shown = serde_json::to_string(&r.engine.tunnel_status().await.unwrap()).unwrap();
    assert!(!shown.contains("2abcTOKEN"));
}

#[tokio::test]
async fn with_no_tunnel_chosen_the_status_says_whether_cloudflared_is_installed() {
    let r = receiving_with(|_| {}).await;
    let s = r.engine.tunnel_status().await.unwrap();
    assert_eq!(s.provider, None);
    // This machine has no cloudflared (it cannot be installed here); PATH decides.
    let on_path = std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .any(|d| std::path::Path::new(d).join("cloudflared").is_file());
    assert_eq!(s.cloudflared_found.is_some(), on_path);
}

/// Opens like `FakeTunnel`, but only once let through: a start that takes its time (a
/// cloudflared download and registration, then the self-test).
struct SlowTunnel {
    inner: FakeTunnel,
    entered: tokio::sync::Notify,
    permits: tokio::sync::Semaphore,
}

#[async_trait]
impl TunnelProvider for SlowTunnel {
    fn name(&self) -> &'static str {
        "slow"
    }
    async fn open(&self, local: SocketAddr) -> Result<Box<dyn TunnelSession>, ApiError> {
        self.entered.notify_one();
        let _permit = self.permits.acquire().await;
        self.inner.open(local).await
    }
}

/// The keeper's lease as stored: (owner, expiry).
async fn keeper_lease(r: &Running) -> Option<(String, i64)> {
    keeper_lease_in(&r.engine.info().await.unwrap().db_path).await
}

async fn keeper_lease_in(db: &str) -> Option<(String, i64)> {
    let store = loopline_store::Store::open(std::path::Path::new(db), &Default::default())
        .await
        .unwrap();
    let lease = store.setting("tunnel.keeper").await.unwrap();
    store.close().await;
    lease.map(|v| {
        let v: serde_json::Value = serde_json::from_str(&v).unwrap();
        (
            v["owner"].as_str().unwrap().to_string(),
            v["until_ms"].as_i64().unwrap(),
        )
    })
}

/// Issue 22.2: a start slower than the lease keeps the lease. It is renewed on its own timer
/// while the keeper waits on the provider, so the other process never sees it run out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_start_keeps_the_lease_renewed() {
    const T0: i64 = 1_790_000_000_000;
    let slow = Arc::new(SlowTunnel {
        inner: FakeTunnel::default(),
        entered: tokio::sync::Notify::new(),
        permits: tokio::sync::Semaphore::new(0),
    });
    let clock = Arc::new(common::manual_clock::ManualClock::new(T0));
    let (s, c) = (slow.clone(), clock.clone());
    let r = running_with(move |o| {
        o.tunnel = Some(s);
        o.clock = Some(c);
    })
    .await;
    r.engine.set_tunnel(own_url()).await.unwrap();
    slow.entered.notified().await;
    let (owner, until) = keeper_lease(&r).await.expect("claimed before the start");
    assert_eq!(until, T0 + 10_000);
    // 9 s into a start that is still going, then past where the first claim ran out.
    clock.advance_ms(9_000);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (now_owner, now_until) = keeper_lease(&r).await.unwrap();
        assert_eq!(now_owner, owner);
        if now_until >= T0 + 19_000 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the lease was never renewed during the start: it runs out at {now_until}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    slow.permits.add_permits(1);
    status_until(&r, "reachable", |s| s.state == TunnelState::Reachable).await;
}

/// Issue 22.2: a process with no receiver (the app, opened while `serve` owns the port)
/// never takes the keeper's lease: the process that has a receiver keeps the tunnel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_without_a_receiver_leaves_the_tunnel_to_the_one_with_one() {
    let serve_tunnel = Arc::new(FakeTunnel::default());
    let f = serve_tunnel.clone();
    let serve = running_with(move |o| o.tunnel = Some(f)).await;
    let db = serve.engine.info().await.unwrap().db_path;
    serve.engine.shutdown().await; // keep its data directory, start over below
    let app_tunnel = Arc::new(FakeTunnel::default());
    let app = Arc::new(
        loopline_engine::Engine::open(loopline_engine::EngineOptions {
            data_dir: Some(serve.dir.path().to_path_buf()),
            secrets: Some(Arc::new(loopline_engine::secrets::MemorySecrets::default())),
            tunnel: Some(app_tunnel.clone()),
            ..Default::default()
        })
        .await
        .unwrap(),
    );
    app.start_background("app");
    app.set_tunnel(own_url()).await.unwrap();
    // The app's keeper ticks every second; for three of them it must not claim.
    let quiet_until = tokio::time::Instant::now() + Duration::from_secs(3);
    while tokio::time::Instant::now() < quiet_until {
        assert_eq!(
            keeper_lease_in(&db).await,
            None,
            "the app took the lease with nothing to expose"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app_tunnel.opens.load(Ordering::SeqCst), 0);

    let f = serve_tunnel.clone();
    let again = Arc::new(
        loopline_engine::Engine::open(loopline_engine::EngineOptions {
            data_dir: Some(serve.dir.path().to_path_buf()),
            secrets: Some(Arc::new(loopline_engine::secrets::MemorySecrets::default())),
            tunnel: Some(f),
            ..Default::default()
        })
        .await
        .unwrap(),
    );
    again
        .start_receiver("127.0.0.1:0", false, false)
        .await
        .unwrap();
    again.start_background("serve");
    until("serve opened the tunnel", || {
        serve_tunnel.opens.load(Ordering::SeqCst) > 0
    })
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let s = app.tunnel_status().await.unwrap();
        if s.state == TunnelState::Reachable {
            assert!(s.kept_by.unwrap().starts_with("serve"));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never reachable: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        app_tunnel.opens.load(Ordering::SeqCst),
        0,
        "one tunnel, serve's"
    );
    again.shutdown().await;
    app.shutdown().await;
}
