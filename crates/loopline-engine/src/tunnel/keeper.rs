//! The supervised "tunnel" task. Each second it reads the saved choice (so a change made
//! by the CLI in another process takes effect without a restart), holds the keeper's lease,
//! opens the provider to the receiver's port, self-tests the public URL (for about 30 s
//! after every start or URL change, then every few minutes), reconnects with backoff and
//! jitter when the tunnel drops, and moves Label Studio's webhooks to a new URL once it is
//! proven to reach this receiver.

use std::time::Duration;

use loopline_core::{rfc3339_ms, ApiError, ErrorCode, TunnelConfig, TunnelState, TunnelStatus};
use loopline_tunnel::TunnelSession;

use crate::engine::WeakEngine;
use crate::outbox::backoff_ms;
use crate::Engine;

const TICK: Duration = Duration::from_secs(1);
/// A third of the lease, so two renewals can be missed before it runs out.
const RENEW_EVERY: Duration = Duration::from_millis((super::lease::LEASE_MS / 3) as u64);
/// How often a working tunnel is self-tested again.
const RETEST_EVERY_MS: i64 = 5 * 60 * 1000;
/// Tries after a start or URL change (1 + 2 + 4 + 8 + 15 s of waiting: about 30 s).
const FIRST_TESTS: u32 = 6;
/// Cloudflare's quick-tunnel rate limit wants a long wait: 1 minute, doubling to 15.
const RATE_LIMIT_BASE_MS: i64 = 60_000;
const RATE_LIMIT_CAP_MS: i64 = 15 * 60_000;

struct Open {
    config: TunnelConfig,
    session: Box<dyn TunnelSession>,
    url: String,
    next_test_ms: i64,
}

#[derive(Default)]
struct Keeper {
    open: Option<Open>,
    /// The configuration the last failure belongs to, how many in a row, and when to retry.
    failed: Option<(TunnelConfig, i64, i64)>,
    holding: bool,
    /// Since when the tunnel has been down, while it is: when it is reachable again, the
    /// engine catches up on what Label Studio sent meanwhile.
    down_since: Option<i64>,
}

pub(crate) async fn keep_tunnel(engine: WeakEngine) {
    let mut k = Keeper::default();
    loop {
        let Some(e) = engine.upgrade() else { return };
        // The lease is renewed on its own timer while the step runs: a step can take longer
        // than the lease (a cloudflared start, then the self-test's tries).
        let renewing = async {
            loop {
                tokio::time::sleep(RENEW_EVERY).await;
                if let Err(err) = e.renew_tunnel_keeper().await {
                    tracing::debug!(code = %err.code, "tunnel lease not renewed: {}", err.message);
                }
            }
        };
        tokio::select! {
            stepped = e.keeper_step(&mut k) => {
                if let Err(err) = stepped {
                    tracing::warn!(code = %err.code, "tunnel keeper: {}", err.message);
                }
            }
            _ = renewing => {}
        }
        // Wait for the tunnel to drop, a local change, or the next tick.
        let wake = e.tunnel_wake.notified();
        match k.open.as_mut() {
            Some(open) => {
                tokio::select! {
                    why = open.session.closed() => {
                        let config = open.config.clone();
                        k.open = None;
                        e.tunnel_failed(&mut k, config, why).await;
                    }
                    _ = wake => {}
                    _ = tokio::time::sleep(TICK) => {}
                }
            }
            None => {
                let _ = tokio::time::timeout(TICK, wake).await;
            }
        }
        drop(e);
    }
}

impl Engine {
    async fn keeper_step(&self, k: &mut Keeper) -> Result<(), ApiError> {
        let config = match self.tunnel_config().await {
            Ok(c) => c,
            Err(e) => {
                self.close_tunnel(k).await;
                return Err(e);
            }
        };
        let Some(config) = config else {
            self.close_tunnel(k).await;
            if k.holding {
                self.release_tunnel_keeper().await?;
                k.holding = false;
            }
            return Ok(());
        };
        if self.receiver_addr().await.is_none() {
            // Nothing to expose here (the app opened while `serve` owns the port): holding the
            // lease would keep the process that has a receiver from running the tunnel.
            self.close_tunnel(k).await;
            if k.holding {
                self.release_tunnel_keeper().await?;
                k.holding = false;
            }
            return Ok(());
        }
        k.holding = self.claim_tunnel_keeper().await?;
        if !k.holding {
            // Another process (the app, or serve) keeps it.
            self.close_tunnel(k).await;
            return Ok(());
        }
        if k.open.as_ref().is_some_and(|o| o.config != config) {
            self.close_tunnel(k).await;
            k.failed = None;
        }
        let now = self.clock.now_ms();
        if let Some(open) = k.open.as_mut() {
            if now >= open.next_test_ms {
                let url = open.url.clone();
                open.next_test_ms = now + RETEST_EVERY_MS;
                let reachable = self.test_and_sync(&config, &url, 2).await?;
                self.note_reachability(k, reachable);
            }
            return Ok(());
        }
        if let Some((failed_config, _, retry_at)) = &k.failed {
            if *failed_config == config && now < *retry_at {
                return Ok(());
            }
        }
        self.open_tunnel(k, config).await
    }

    async fn open_tunnel(&self, k: &mut Keeper, config: TunnelConfig) -> Result<(), ApiError> {
        let Some(local) = self.receiver_addr().await else {
            let why = ApiError::new(
                ErrorCode::TunnelStartFailed,
                "The receiver is not running, so there is nothing to expose. Fix the receiver first (see the status bar or `loopline info`).",
            );
            self.tunnel_failed(k, config, why).await;
            return Ok(());
        };
        // The tunnel reaches the receiver on loopback, whatever address it listens on.
        let local = std::net::SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), local.port());
        self.write_status(&config, TunnelState::Starting, None, None)
            .await?;
        let provider = match self.tunnel_provider(&config).await {
            Ok(p) => p,
            Err(e) => {
                self.tunnel_failed(k, config, e).await;
                return Ok(());
            }
        };
        match provider.open(local).await {
            Ok(session) => {
                let url = session.public_url();
                tracing::info!(provider = provider.name(), %url, "tunnel open");
                if let TunnelConfig::Bore { .. } = config {
                    if let Some(port) = url.rsplit(':').next().filter(|p| p.parse::<u16>().is_ok())
                    {
                        self.store.set_setting(super::BORE_PORT, port).await?;
                    }
                }
                self.write_status(&config, TunnelState::Starting, Some(&url), None)
                    .await?;
                let reachable = self.test_and_sync(&config, &url, FIRST_TESTS).await?;
                k.open = Some(Open {
                    config,
                    session,
                    url,
                    next_test_ms: self.clock.now_ms()
                        + if reachable { RETEST_EVERY_MS } else { 15_000 },
                });
                if reachable {
                    k.failed = None;
                }
                self.note_reachability(k, reachable);
            }
            Err(e) => self.tunnel_failed(k, config, e).await,
        }
        Ok(())
    }

    /// Self-tests `url`; when it passes, makes it Label Studio's URL. Returns whether it
    /// passed.
    async fn test_and_sync(
        &self,
        config: &TunnelConfig,
        url: &str,
        tries: u32,
    ) -> Result<bool, ApiError> {
        let test = self.self_test(url, tries).await;
        if !test.reachable {
            self.write_status(config, TunnelState::Unreachable, Some(url), test.error)
                .await?;
            return Ok(false);
        }
        let mut note = None;
        if loopline_tunnel::public_url::is_plaintext_remote(url) {
            // Reachable, but Label Studio's token would cross the network in clear text.
            note = Some(loopline_tunnel::public_url::plaintext_refusal(url).message);
        } else {
            self.store.set_setting(super::LAST_URL, url).await?;
            self.move_hooks_to(url).await?;
        }
        let status = TunnelStatus {
            provider: Some(config.provider().to_string()),
            state: TunnelState::Reachable,
            public_url: Some(url.to_string()),
            verified_at: Some(rfc3339_ms(self.clock.now_ms())),
            rtt_ms: test.rtt_ms,
            error: None,
            kept_by: None,
            note,
            cloudflared_found: None,
        };
        self.save_tunnel_status(&status).await?;
        Ok(true)
    }

    async fn tunnel_failed(&self, k: &mut Keeper, config: TunnelConfig, why: ApiError) {
        let n = match &k.failed {
            Some((c, n, _)) if *c == config => n + 1,
            _ => 1,
        };
        let wait = if why.code == ErrorCode::TunnelRateLimited {
            (RATE_LIMIT_BASE_MS << (n - 1).clamp(0, 4)).min(RATE_LIMIT_CAP_MS)
        } else {
            backoff_ms(n, self.jitter())
        };
        tracing::warn!(code = %why.code, retry_in_ms = wait, "tunnel down: {}", why.message);
        let mut error = why;
        error.message = format!(
            "{} Trying again in {} s.",
            error.message,
            (wait + 999) / 1000
        );
        let _ = self
            .write_status(&config, TunnelState::Unreachable, None, Some(error))
            .await;
        k.failed = Some((config, n, self.clock.now_ms() + wait));
        self.note_reachability(k, false);
    }

    /// A tunnel reachable again after an outage asks for a catch-up from the outage's start.
    fn note_reachability(&self, k: &mut Keeper, reachable: bool) {
        if !reachable {
            k.down_since.get_or_insert(self.clock.now_ms());
        } else if let Some(from) = k.down_since.take() {
            self.request_catch_up(loopline_core::CatchUpTrigger::TunnelBack, Some(from));
        }
    }

    async fn close_tunnel(&self, k: &mut Keeper) {
        if let Some(open) = k.open.take() {
            open.session.close().await;
        }
    }

    async fn write_status(
        &self,
        config: &TunnelConfig,
        state: TunnelState,
        url: Option<&str>,
        error: Option<ApiError>,
    ) -> Result<(), ApiError> {
        // A failing test keeps the last success visible, so the user sees when it last worked.
        let previous = self
            .store
            .setting(super::STATUS)
            .await?
            .and_then(|j| serde_json::from_str::<TunnelStatus>(&j).ok());
        let (verified_at, rtt_ms) = previous
            .filter(|p| {
                p.provider.as_deref() == Some(config.provider()) && p.public_url.as_deref() == url
            })
            .map(|p| (p.verified_at, p.rtt_ms))
            .unwrap_or_default();
        self.save_tunnel_status(&TunnelStatus {
            provider: Some(config.provider().to_string()),
            state,
            public_url: url.map(str::to_string),
            verified_at,
            rtt_ms,
            error,
            kept_by: None,
            note: None,
            cloudflared_found: None,
        })
        .await
    }
}
