//! B1's upper bound: an axum server that reads the body and answers 200 without storing
//! anything. Prints its address on stdout.

use axum::body::Bytes;
use axum::routing::post;
use axum::{Json, Router};

// The same allocator as Loopline's binaries, so the limit is not lowered by a slower one.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let listen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let app = Router::new().route(
        "/hooks/{id}",
        post(|body: Bytes| async move { Json(serde_json::json!({ "event_id": body.len() })) }),
    );
    let listener = tokio::net::TcpListener::bind(&listen).await.expect("bind");
    println!(
        "Listening on http://{}",
        listener.local_addr().expect("addr")
    );
    axum::serve(listener, app).await.expect("serve");
}
