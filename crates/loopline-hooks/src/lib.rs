//! Loopline's HTTP receiver.
//!
//! This router is what a tunnel exposes to the internet, so it serves only `/hooks/*` and
//! `/healthz`. Anything that controls Loopline lives elsewhere.

pub mod auth;
mod body_read;
mod health;
mod ingest;
mod limits;
pub mod selftest;
mod sources;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use loopline_core::Clock;
use loopline_store::{EventWriter, Store};

pub use ingest::{headers_to_json, new_event};
pub use limits::{Buckets, ReceiverLimits};
pub use sources::{SourceEntry, SourceTable};

/// Reloads the source table (from the store and the secret store). Supplied by the engine.
pub type ReloadSources = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// What every handler needs. Shared by the router behind one `Arc`: axum clones the state
/// for every request, and cloning this struct field by field (pools, channels, a path) was
/// a dozen atomic operations and an allocation per webhook.
#[derive(Clone)]
pub struct HooksState {
    pub store: Store,
    pub writer: EventWriter,
    pub sources: SourceTable,
    pub clock: Arc<dyn Clock>,
    pub limits: Arc<RwLock<ReceiverLimits>>,
    pub rate: Arc<Buckets>,
    pub rejections: Arc<Buckets>,
    pub reload: ReloadSources,
    /// When the table was last checked because of an unknown id or a refused secret (ms),
    /// to stop a flood of random ids or wrong secrets from becoming a flood of reads.
    pub last_miss_reload: Arc<Mutex<i64>>,
    /// The key the tunnel self-test proves this receiver with (`selftest`); `None` turns
    /// the self-test path into a 404.
    pub selftest_key: Option<Arc<loopline_core::Sensitive<Vec<u8>>>>,
}

impl HooksState {
    pub fn limits(&self) -> ReceiverLimits {
        self.limits.read().map(|l| l.clone()).unwrap_or_default()
    }

    /// The source, reloading the table once if the id is new to us (a source just added by
    /// the CLI in another process).
    pub(crate) async fn source(&self, id: &str) -> Option<Arc<SourceEntry>> {
        if let Some(s) = self.sources.get(id) {
            return Some(s);
        }
        if self.reload_due() {
            (self.reload)().await;
        }
        self.sources.get(id)
    }

    /// After a refused secret: the source may have been rotated by another process (the
    /// CLI) since the table was loaded, and Label Studio never retries, so look again once
    /// before refusing. The engine rebuilds the table only when the
    /// sources' revision changed, and the check is throttled, so a flood of wrong secrets
    /// costs at most 40 small queries a second.
    pub(crate) async fn reloaded(&self, id: &str) -> Option<Arc<SourceEntry>> {
        if !self.reload_due() {
            return None;
        }
        (self.reload)().await;
        self.sources.get(id)
    }

    fn reload_due(&self) -> bool {
        let now = self.clock.now_ms();
        match self.last_miss_reload.lock() {
            Ok(mut last) if now - *last >= 25 => {
                *last = now;
                true
            }
            _ => false,
        }
    }
}

pub fn router(state: HooksState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/hooks/{source_id}", post(ingest::receive))
        .route(selftest::SELFTEST_PATH, post(selftest::selftest))
        // The handler enforces the user's own limit, with a 413 that says so.
        .layer(DefaultBodyLimit::disable())
        .with_state(Arc::new(state))
}
