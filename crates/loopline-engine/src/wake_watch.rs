//! The supervised "catch_up" task: it catches up once when the background work starts
//! (the gap is since a Loopline process was last alive on this data directory), then every
//! tick compares how far the wall clock (`self.clock`) moved with how far the monotonic
//! clock did. `Instant` does not advance while the machine is suspended, so a wall clock far
//! ahead means it slept. Requests from other tasks (the tunnel is back) wake it at once.
//! One cheap comparison every 30 s, so an idle companion costs nothing.

use std::time::{Duration, Instant};

use loopline_core::CatchUpTrigger;

use crate::engine::WeakEngine;
use crate::Engine;

pub const DEFAULT_TICK: Duration = Duration::from_secs(30);
/// A wall clock this much ahead of the monotonic one is a sleep (NTP nudges are far
/// smaller); shorter sleeps lose webhooks too, and asking Label Studio is cheap.
const WAKE_JUMP_MS: i64 = 30_000;

pub(crate) async fn watch_wakes(engine: WeakEngine) {
    let (mut wall, mut mono) = {
        let Some(e) = engine.upgrade() else { return };
        let last_alive = e.alive_at().await;
        e.mark_alive().await;
        let now = e.clock.now_ms();
        run(&e, CatchUpTrigger::Start, last_alive).await;
        (now, Instant::now())
    };
    loop {
        let (tick, wake) = match engine.upgrade() {
            Some(e) => (e.catch_ups.tick(), e.catch_ups.wake.clone()),
            None => return,
        };
        // The engine is not held while waiting: it may be dropped meanwhile.
        let requested = tokio::time::timeout(tick, wake.notified()).await.is_ok();
        let Some(e) = engine.upgrade() else { return };
        let (now, now_mono) = (e.clock.now_ms(), Instant::now());
        let jumped = (now - wall) - now_mono.duration_since(mono).as_millis() as i64;
        let slept_from = wall;
        (wall, mono) = (now, now_mono);
        e.mark_alive().await;
        if jumped > WAKE_JUMP_MS {
            tracing::info!(jumped_ms = jumped, "woke from sleep; catching up");
            // A request that came meanwhile is covered by this catch-up.
            let asked = e.catch_ups.take_request().and_then(|(_, f)| f);
            let from = asked.map_or(slept_from, |a| a.min(slept_from));
            run(&e, CatchUpTrigger::Wake, Some(from)).await;
        } else if requested {
            if let Some((trigger, from)) = e.catch_ups.take_request() {
                run(&e, trigger, from).await;
            }
        }
    }
}

async fn run(e: &Engine, trigger: CatchUpTrigger, gap_from: Option<i64>) {
    match e.catch_up(trigger, gap_from).await {
        Ok(r) => {
            let missed: i64 = r.projects.iter().map(|p| p.missed).sum();
            tracing::info!(?trigger, projects = r.projects.len(), missed, "caught up");
        }
        Err(err) => {
            tracing::warn!(code = %err.code, ?trigger, "catch-up failed, retried at the next trigger: {}", err.message)
        }
    }
}
