//! Loopline's tunnel providers, behind one trait, so the engine supervises them all the
//! same way and tests can put a fake in their place. A provider opens a tunnel to the
//! receiver's port (and only that port: the receiver serves nothing but `/hooks/*` and
//! `/healthz`) and reports its public base URL; the session ends, with the reason, when the
//! tunnel drops or its process dies. Reconnecting, self-testing through the public URL and
//! keeping Label Studio in step are the engine's job.

pub mod bore;
pub mod cloudflared;
pub mod ngrok;
pub mod public_url;
pub mod url;

use std::net::SocketAddr;

use async_trait::async_trait;
use loopline_core::ApiError;

#[async_trait]
pub trait TunnelProvider: Send + Sync {
    /// `url`, `cloudflared`, `ngrok`, `bore` (what `tunnel status` names).
    fn name(&self) -> &'static str;
    /// Opens the tunnel to `local` and returns once its public URL is known.
    async fn open(&self, local: SocketAddr) -> Result<Box<dyn TunnelSession>, ApiError>;
}

#[async_trait]
pub trait TunnelSession: Send {
    /// The public base URL, without a trailing slash (`https://x.trycloudflare.com`).
    fn public_url(&self) -> String;
    /// Resolves when the tunnel is gone (connection dropped, process exited), with why.
    async fn closed(&mut self) -> ApiError;
    /// Takes the tunnel down.
    async fn close(self: Box<Self>);
}
