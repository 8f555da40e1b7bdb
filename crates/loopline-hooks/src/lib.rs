//! Loopline's HTTP receiver.
//!
//! This router is what a tunnel exposes to the internet, so it serves only `/hooks/*` and
//! `/healthz`. Anything that controls Loopline lives elsewhere.

mod health;

use axum::routing::get;
use axum::Router;
use loopline_store::Store;

/// What every handler needs. Cloned per request, so it holds only shared handles.
#[derive(Clone)]
pub struct HooksState {
    pub store: Store,
}

pub fn router(state: HooksState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .with_state(state)
}
