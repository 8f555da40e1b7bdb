//! One keeper per data directory. The app and `loopline serve` may both run on one data
//! directory; two tunnels would fight over Label Studio's webhook URL. The keeper holds a
//! lease in the settings (owner, kind, expiry), renewed while it runs; a lease whose
//! process is gone, or that expired, is taken over.

use loopline_core::ApiError;
use serde::{Deserialize, Serialize};

use crate::Engine;

const KEEPER: &str = "tunnel.keeper";
pub(crate) const LEASE_MS: i64 = 10_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Lease {
    owner: String,
    kind: String,
    until_ms: i64,
}

impl Engine {
    /// Takes or renews the keeper's lease; `false` while another live process holds it.
    pub(crate) async fn claim_tunnel_keeper(&self) -> Result<bool, ApiError> {
        let now = self.clock.now_ms();
        let current = self.store.setting(KEEPER).await?;
        let held: Option<Lease> = current
            .as_deref()
            .and_then(|v| serde_json::from_str(v).ok());
        if let Some(l) = &held {
            let others = l.owner != self.worker_id;
            if others && l.until_ms > now && !crate::worker_id::owner_is_gone(&l.owner) {
                return Ok(false);
            }
        }
        let kind = self
            .process_kind
            .lock()
            .map(|k| k.to_string())
            .unwrap_or_default();
        let mine = Lease {
            owner: self.worker_id.clone(),
            kind,
            until_ms: now + LEASE_MS,
        };
        let json = serde_json::to_string(&mine).map_err(|e| ApiError::internal(e.to_string()))?;
        self.store
            .swap_setting(KEEPER, current.as_deref(), &json)
            .await
    }

    /// Extends the lease if this process holds it; never takes it. Runs on its own timer
    /// while a keeper step is busy (a cloudflared start and the self-test can take a minute),
    /// so the other process does not see the lease run out and open a second tunnel.
    pub(crate) async fn renew_tunnel_keeper(&self) -> Result<bool, ApiError> {
        let Some(current) = self.store.setting(KEEPER).await? else {
            return Ok(false);
        };
        let Ok(mut lease) = serde_json::from_str::<Lease>(&current) else {
            return Ok(false);
        };
        if lease.owner != self.worker_id {
            return Ok(false);
        }
        lease.until_ms = self.clock.now_ms() + LEASE_MS;
        let json = serde_json::to_string(&lease).map_err(|e| ApiError::internal(e.to_string()))?;
        self.store.swap_setting(KEEPER, Some(&current), &json).await
    }

    pub(crate) async fn release_tunnel_keeper(&self) -> Result<(), ApiError> {
        if let Some(v) = self.store.setting(KEEPER).await? {
            if serde_json::from_str::<Lease>(&v).is_ok_and(|l| l.owner == self.worker_id) {
                self.store.delete_setting(KEEPER).await?;
            }
        }
        Ok(())
    }

    /// `serve (pid 4242)` for the live holder of the lease, if any.
    pub(crate) async fn tunnel_keeper(&self) -> Result<Option<String>, ApiError> {
        let now = self.clock.now_ms();
        let Some(v) = self.store.setting(KEEPER).await? else {
            return Ok(None);
        };
        let Ok(l) = serde_json::from_str::<Lease>(&v) else {
            return Ok(None);
        };
        if l.until_ms <= now || crate::worker_id::owner_is_gone(&l.owner) {
            return Ok(None);
        }
        let pid = l.owner.split('-').next().unwrap_or_default();
        Ok(Some(format!(
            "{} (pid {pid})",
            if l.kind.is_empty() {
                "loopline"
            } else {
                &l.kind
            }
        )))
    }
}
