//! "My own URL": a reverse proxy, Tailscale Funnel or a VPN the user runs. Loopline opens
//! nothing; it only self-tests the URL and keeps Label Studio pointed at it.

use std::net::SocketAddr;

use async_trait::async_trait;
use loopline_core::{ApiError, ErrorCode};

use crate::{TunnelProvider, TunnelSession};

pub struct OwnUrl {
    public_url: String,
}

impl OwnUrl {
    pub fn new(public_url: &str) -> Result<OwnUrl, ApiError> {
        Ok(OwnUrl {
            public_url: crate::public_url::normalize(public_url)?,
        })
    }
}

#[async_trait]
impl TunnelProvider for OwnUrl {
    fn name(&self) -> &'static str {
        "url"
    }

    async fn open(&self, _local: SocketAddr) -> Result<Box<dyn TunnelSession>, ApiError> {
        Ok(Box::new(OwnUrlSession(self.public_url.clone())))
    }
}

struct OwnUrlSession(String);

#[async_trait]
impl TunnelSession for OwnUrlSession {
    fn public_url(&self) -> String {
        self.0.clone()
    }

    async fn closed(&mut self) -> ApiError {
        // Nothing of ours can drop: the self-test tells whether the URL still reaches us.
        std::future::pending::<()>().await;
        ApiError::new(ErrorCode::Internal, "unreachable")
    }

    async fn close(self: Box<Self>) {}
}
