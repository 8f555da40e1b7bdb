//! A tunnel provider whose "tunnels" lead back to the receiver itself (or elsewhere, when
//! set), and which a test can drop at will: the keeper's reconnects without a network.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use loopline_core::{ApiError, ErrorCode};
use loopline_tunnel::{TunnelProvider, TunnelSession};

/// Opens "tunnels" whose public URL is the receiver itself (or `elsewhere`, when set).
#[derive(Default)]
pub struct FakeTunnel {
    pub opens: AtomicUsize,
    pub closes: Arc<AtomicUsize>,
    pub elsewhere: Mutex<Option<String>>,
    pub drop_now: Arc<tokio::sync::Notify>,
}

#[async_trait]
impl TunnelProvider for FakeTunnel {
    fn name(&self) -> &'static str {
        "fake"
    }
    async fn open(&self, local: SocketAddr) -> Result<Box<dyn TunnelSession>, ApiError> {
        self.opens.fetch_add(1, Ordering::SeqCst);
        let url = self
            .elsewhere
            .lock()
            .unwrap()
            .clone()
            .unwrap_or(format!("http://{local}"));
        Ok(Box::new(FakeSession {
            url,
            drop_now: self.drop_now.clone(),
            closes: self.closes.clone(),
        }))
    }
}

struct FakeSession {
    url: String,
    drop_now: Arc<tokio::sync::Notify>,
    closes: Arc<AtomicUsize>,
}

#[async_trait]
impl TunnelSession for FakeSession {
    fn public_url(&self) -> String {
        self.url.clone()
    }
    async fn closed(&mut self) -> ApiError {
        self.drop_now.notified().await;
        ApiError::new(ErrorCode::TunnelUnreachable, "the fake tunnel dropped")
    }
    async fn close(self: Box<Self>) {
        self.closes.fetch_add(1, Ordering::SeqCst);
    }
}
