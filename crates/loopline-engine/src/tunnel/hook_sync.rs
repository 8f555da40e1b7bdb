//! Keeping Label Studio in step with the tunnel: when the verified public URL differs from
//! the URL a registered webhook holds, one outbox item per webhook moves it (a PATCH that
//! resends the actions, since a PATCH without them clears them, and turns it back on). An
//! item survives a crash and finishes after the restart; the timeline gets one line per
//! webhook moved.

use loopline_cloud::sagemaker::CallError;
use loopline_core::{ApiError, DeletedHookPolicy, ErrorCode};
use loopline_store::{NewItem, OutboxItem};
use serde::{Deserialize, Serialize};

use crate::hook_watch::base_of;
use crate::Engine;

/// Moving a registered Label Studio webhook to the tunnel's new URL.
pub(crate) const LS_HOOK_URL: &str = "label_studio.hook_url";
/// Label Studio may be down for a while (a laptop asleep, a server restarting).
const DEADLINE_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Serialize, Deserialize)]
struct HookMove {
    source_id: String,
    project_id: i64,
    webhook_id: i64,
    from: String,
    to: String,
}

impl Engine {
    /// Queues a move for every registered webhook whose URL is not under `to`. Idempotent:
    /// a webhook already moved (its registration holds `to`) gets nothing, and the same
    /// move queued twice is one item. A move back to a URL a webhook held before reopens
    /// that earlier, finished item: it is only queued because the webhook is elsewhere now.
    pub(crate) async fn move_hooks_to(&self, to: &str) -> Result<usize, ApiError> {
        let now = self.clock.now_ms();
        let mut queued = 0;
        for hook in self.registered_hooks().await? {
            let from = base_of(&hook.url);
            if from == to {
                continue;
            }
            let payload = HookMove {
                source_id: hook.source_id.clone(),
                project_id: hook.project_id,
                webhook_id: hook.webhook_id,
                from: from.to_string(),
                to: to.to_string(),
            };
            self.store
                .enqueue_repeatable(&NewItem {
                    kind: LS_HOOK_URL,
                    idempotency_key: format!("{}:{}:{to}", hook.source_id, hook.project_id),
                    subject_id: Some(hook.webhook_id),
                    payload_json: serde_json::to_string(&payload)
                        .map_err(|e| ApiError::internal(e.to_string()))?,
                    now_ms: now,
                    deadline_at_ms: now + DEADLINE_MS,
                })
                .await?;
            queued += 1;
        }
        if queued > 0 {
            self.wake_outbox();
        }
        Ok(queued)
    }

    pub(crate) async fn perform_hook_move(&self, item: &OutboxItem) -> Result<(), CallError> {
        let m: HookMove = serde_json::from_str(&item.payload_json).map_err(|e| {
            CallError::from(ApiError::internal(format!("webhook move unreadable: {e}")))
        })?;
        // A newer URL replaced this one before the move ran: the newer item moves it.
        let current = self.store.setting(super::LAST_URL).await?;
        if current.as_deref() != Some(m.to.as_str()) {
            return Ok(());
        }
        if self.deleted_hook_policy().await? == DeletedHookPolicy::Report
            && self.hook_is_deleted(m.webhook_id).await?
        {
            let hook = crate::hook_watch::Registered {
                source_id: m.source_id.clone(),
                project_id: m.project_id,
                webhook_id: m.webhook_id,
                url: m.from.clone(),
            };
            let context = format!("Tunnel URL changed {} → {}; ", m.from, m.to);
            self.report_deleted_hook(&hook, &context).await?;
            return Ok(());
        }
        let registration = self
            .label_studio_hook(&m.source_id, m.project_id, &m.to)
            .await
            .map_err(retryable_ls)?;
        let summary = match registration.change.as_str() {
            "created" => format!(
                "Tunnel URL changed {} → {}; Loopline's webhook on Label Studio project {} had been deleted, so it was created again (webhook {}).",
                m.from, m.to, m.project_id, registration.webhook_id
            ),
            "reactivated" => format!(
                "Tunnel URL changed {} → {}; Label Studio webhook {} updated and turned back on.",
                m.from, m.to, registration.webhook_id
            ),
            _ => format!(
                "Tunnel URL changed {} → {}; Label Studio webhook {} updated.",
                m.from, m.to, registration.webhook_id
            ),
        };
        tracing::info!(
            project = m.project_id,
            webhook = registration.webhook_id,
            "{summary}"
        );
        self.record_notice(
            &m.source_id,
            m.project_id,
            "LOOPLINE_TUNNEL_URL_CHANGED",
            &summary,
        )
        .await?;
        self.bump_revision();
        Ok(())
    }

    /// Whether Label Studio says the webhook no longer exists. Any other failure (Label
    /// Studio unreachable) is retried by the outbox like the move itself.
    async fn hook_is_deleted(&self, webhook_id: i64) -> Result<bool, CallError> {
        let ls = self.label_studio().await.map_err(retryable_ls)?;
        match ls.get(&format!("/api/webhooks/{webhook_id}/")).await {
            Ok(_) => Ok(false),
            Err(e) if e.code == ErrorCode::NotFound => Ok(true),
            Err(e) => Err(retryable_ls(e)),
        }
    }

    /// A move that gave up: the timeline says which webhook still holds the old URL.
    pub(crate) async fn hook_move_failed(
        &self,
        item: &OutboxItem,
        why: &str,
    ) -> Result<(), ApiError> {
        let Ok(m) = serde_json::from_str::<HookMove>(&item.payload_json) else {
            return Ok(());
        };
        let summary = format!(
            "Tunnel URL changed {} → {}, but Label Studio webhook {} could not be moved: {why} It still points at the old URL; Loopline tries again when the tunnel is next verified.",
            m.from, m.to, m.webhook_id
        );
        self.record_notice(
            &m.source_id,
            m.project_id,
            "LOOPLINE_TUNNEL_URL_CHANGED",
            &summary,
        )
        .await
    }
}

/// Label Studio being down is worth retrying; anything else it says is final.
fn retryable_ls(error: ApiError) -> CallError {
    CallError {
        retryable: error.code == ErrorCode::LsUnavailable,
        error,
        status: None,
        aws_error: false,
    }
}
