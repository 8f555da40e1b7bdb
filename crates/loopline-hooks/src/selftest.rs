//! The tunnel's self-test: `POST /hooks/_loopline/selftest` with `{"nonce": "…"}` answers
//! `{"proof": base64(HMAC-SHA256(key, nonce))}`. Only this receiver holds the key, so a
//! right proof fetched through the public URL shows that the URL really reaches it (not a
//! stale tunnel to another machine, not a proxy's error page). The delivery is not an
//! event: it is never stored, never shown on the timeline and never counts toward a rule.
//! The path has two segments, so it can never be mistaken for a source's `/hooks/{id}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::HooksState;

pub const SELFTEST_PATH: &str = "/hooks/_loopline/selftest";
/// A nonce is 32 random bytes in hex; anything much longer is not ours.
const MAX_BODY: usize = 512;

/// What the receiver answers for `nonce` with `key`.
pub fn proof(key: &[u8], nonce: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"loopline-selftest\n");
    mac.update(nonce.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[derive(serde::Deserialize)]
struct Probe {
    nonce: String,
}

pub(crate) async fn selftest(State(state): State<Arc<HooksState>>, body: Bytes) -> Response {
    if body.len() > MAX_BODY {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    let Ok(probe) = serde_json::from_slice::<Probe>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({"code": "malformed_json", "message": "A self-test body is {\"nonce\": \"…\"}."})),
        )
            .into_response();
    };
    let Some(key) = state.selftest_key.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    Json(serde_json::json!({ "proof": proof(key.expose(), &probe.nonce) })).into_response()
}

#[cfg(test)]
mod tests {
    use super::proof;

    #[test]
    fn the_proof_depends_on_key_and_nonce() {
        assert_eq!(proof(b"k", "n"), proof(b"k", "n"));
        assert_ne!(proof(b"k", "n"), proof(b"k2", "n"));
        assert_ne!(proof(b"k", "n"), proof(b"k", "n2"));
    }
}
