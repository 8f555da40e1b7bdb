use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use loopline_core::{Health, VERSION};

use crate::HooksState;

/// 200 with `{version, db: "ok"}` when the store answers; 503 with `db: "unavailable"`
/// otherwise, so a tunnel or a monitor can tell a live receiver from one that cannot store.
pub(crate) async fn healthz(State(state): State<Arc<HooksState>>) -> (StatusCode, Json<Health>) {
    let ok = state.store.ping().await;
    let health = Health {
        version: VERSION.to_string(),
        db: if ok { "ok" } else { "unavailable" }.to_string(),
    };
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(health))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use loopline_store::{Store, StoreOptions};
    use tower::ServiceExt;

    use crate::{router, HooksState};

    async fn state() -> (tempfile::TempDir, HooksState) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("loopline.db"), &StoreOptions::default())
            .await
            .unwrap();
        let writer =
            loopline_store::EventWriter::start(&store, std::time::Duration::from_secs(60), 0)
                .await
                .unwrap();
        struct Fixed;
        impl loopline_core::Clock for Fixed {
            fn now_ms(&self) -> i64 {
                0
            }
        }
        let state = HooksState {
            store,
            writer,
            sources: Default::default(),
            clock: std::sync::Arc::new(Fixed),
            limits: Default::default(),
            rate: Default::default(),
            rejections: Default::default(),
            reload: std::sync::Arc::new(|| Box::pin(async {})),
            last_miss_reload: Default::default(),
            selftest_key: None,
        };
        (dir, state)
    }

    async fn get(state: HooksState, uri: &str) -> (u16, serde_json::Value) {
        let resp = router(state)
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        )
    }

    #[tokio::test]
    async fn healthz_reports_version_and_db() {
        let (_dir, state) = state().await;
        let (status, body) = get(state, "/healthz").await;
        assert_eq!(status, 200);
        assert_eq!(body["version"], loopline_core::VERSION);
        assert_eq!(body["db"], "ok");
    }

    #[tokio::test]
    async fn healthz_is_503_when_the_store_is_closed() {
        let (_dir, state) = state().await;
        state.store.close().await;
        let (status, body) = get(state, "/healthz").await;
        assert_eq!(status, 503);
        assert_eq!(body["db"], "unavailable");
    }

    #[tokio::test]
    async fn nothing_but_hooks_and_health_is_served() {
        let (_dir, state) = state().await;
        let (status, _) = get(state, "/api/anything").await;
        assert_eq!(status, 404);
    }
}
