//! Loopline's HTTP receiver.
//!
//! This router is what a tunnel exposes to the internet, so it serves only `/hooks/*` and
//! `/healthz`. Anything that controls Loopline lives elsewhere.

pub mod auth;
mod health;
mod ingest;
mod limits;
pub mod parse;
pub mod redact;
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

/// What every handler needs. Cloned per request, so it holds only shared handles.
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
    /// When the table was last reloaded because of an unknown id (ms), to stop a flood of
    /// random ids from turning into a flood of database reads.
    pub last_miss_reload: Arc<Mutex<i64>>,
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
        let now = self.clock.now_ms();
        let due = match self.last_miss_reload.lock() {
            Ok(mut last) if now - *last >= 250 => {
                *last = now;
                true
            }
            _ => false,
        };
        if due {
            (self.reload)().await;
        }
        self.sources.get(id)
    }
}

pub fn router(state: HooksState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/hooks/{source_id}", post(ingest::receive))
        // The handler enforces the user's own limit, with a 413 that says so.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}
