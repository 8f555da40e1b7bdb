//! Keeping Loopline's Label Studio webhooks alive. Label Studio turns a webhook off after
//! repeated failed deliveries (Loopline was down, the tunnel changed), and then sends
//! nothing more, silently. Every registered webhook is checked periodically; one found
//! inactive is turned back on, and the timeline says so.

use std::sync::atomic::Ordering;
use std::time::Duration;

use loopline_core::{ApiError, DeletedHookPolicy, EventStatus};
use loopline_store::{NewEvent, StoredBody};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Engine;

pub const DEFAULT_HOOK_CHECK: Duration = Duration::from_secs(60);

/// A webhook Loopline registered, remembered so it can be watched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Registered {
    pub source_id: String,
    pub project_id: i64,
    pub webhook_id: i64,
    pub url: String,
}

impl Engine {
    /// How often registered webhooks are checked (`loopline serve --label-studio-check`).
    pub fn set_hook_check_interval(&self, every: Duration) {
        self.hook_check_ms
            .store(every.as_millis().max(1000) as i64, Ordering::Relaxed);
    }

    pub(crate) fn hook_check_interval(&self) -> Duration {
        Duration::from_millis(self.hook_check_ms.load(Ordering::Relaxed).max(1000) as u64)
    }

    pub(crate) async fn registered_hooks(&self) -> Result<Vec<Registered>, ApiError> {
        Ok(self
            .store
            .registered_hooks()
            .await?
            .into_iter()
            .map(|h| Registered {
                source_id: h.source_id,
                project_id: h.project_id,
                webhook_id: h.webhook_id,
                url: h.url,
            })
            .collect())
    }

    pub(crate) async fn forget_hook(
        &self,
        source_id: &str,
        project_id: i64,
    ) -> Result<(), ApiError> {
        self.store.forget_hook(source_id, project_id).await
    }

    /// One row per webhook: registering two at once (the app and `serve`) keeps both.
    pub(crate) async fn remember_hook(&self, hook: Registered) -> Result<(), ApiError> {
        self.store
            .remember_hook(&loopline_store::HookRow {
                source_id: hook.source_id,
                project_id: hook.project_id,
                webhook_id: hook.webhook_id,
                url: hook.url,
            })
            .await
    }

    /// Checks every registered webhook once; turns inactive ones back on. Returns how many
    /// were reactivated.
    pub async fn check_hooks(&self) -> Result<usize, ApiError> {
        let hooks = self.registered_hooks().await?;
        if hooks.is_empty() {
            return Ok(0);
        }
        let ls = self.label_studio().await?;
        let mut reactivated = 0;
        for hook in hooks {
            let state = ls.get(&format!("/api/webhooks/{}/", hook.webhook_id)).await;
            let inactive = match &state {
                Ok(v) => v["is_active"].as_bool() == Some(false),
                // Deleted in Label Studio: registering again recreates it.
                Err(e) => e.code == loopline_core::ErrorCode::NotFound,
            };
            if !inactive {
                continue;
            }
            let deleted = state.is_err();
            if deleted && self.deleted_hook_policy().await? == DeletedHookPolicy::Report {
                self.report_deleted_hook(&hook, "").await?;
                continue;
            }
            // The list was read before Label Studio was asked; a `label-studio hook` (or a
            // tunnel move) in another process may have changed the URL since. Re-registering
            // the stale one would point Label Studio at an old address.
            let url = self
                .registered_hooks()
                .await?
                .into_iter()
                .find(|h| h.source_id == hook.source_id && h.project_id == hook.project_id)
                .map_or(hook.url.clone(), |h| h.url);
            let registration = self
                .label_studio_hook(&hook.source_id, hook.project_id, base_of(&url))
                .await?;
            reactivated += 1;
            let summary = if deleted {
                format!(
                    "Loopline's webhook on Label Studio project {} had been deleted; Loopline registered it again (webhook {}). Annotations made meanwhile were not delivered.",
                    hook.project_id, registration.webhook_id
                )
            } else {
                format!(
                    "Label Studio had turned off Loopline's webhook on project {} (after failed deliveries); Loopline turned it back on. Annotations made while it was off were not delivered.",
                    hook.project_id
                )
            };
            tracing::warn!(project = hook.project_id, "{summary}");
            self.record_notice(
                &hook.source_id,
                hook.project_id,
                "LOOPLINE_WEBHOOK_REACTIVATED",
                &summary,
            )
            .await?;
        }
        Ok(reactivated)
    }

    /// A line on the timeline from Loopline itself, about a source.
    pub(crate) async fn record_notice(
        &self,
        source_id: &str,
        project_id: i64,
        action: &str,
        summary: &str,
    ) -> Result<(), ApiError> {
        let body = serde_json::json!({
            "action": action,
            "project": { "id": project_id },
            "message": summary,
        });
        self.record_own_event(
            source_id,
            "label-studio",
            action,
            Some(project_id),
            &body,
            summary,
        )
        .await
    }

    /// Writes an event Loopline itself made (not received): a notice, an export's result.
    pub(crate) async fn record_own_event(
        &self,
        source_id: &str,
        kind: &'static str,
        action: &str,
        project_id: Option<i64>,
        body: &serde_json::Value,
        summary: &str,
    ) -> Result<(), ApiError> {
        self.record_own_event_id(source_id, kind, action, project_id, body, summary)
            .await
            .map(|_| ())
    }

    /// `record_own_event`, returning the new event's id.
    pub(crate) async fn record_own_event_id(
        &self,
        source_id: &str,
        kind: &'static str,
        action: &str,
        project_id: Option<i64>,
        body: &serde_json::Value,
        summary: &str,
    ) -> Result<i64, ApiError> {
        let body = body.to_string().into_bytes();
        let digest: [u8; 32] = Sha256::digest(&body).into();
        self.writer
            .write(NewEvent {
                source_id: source_id.to_string(),
                received_at_ms: self.clock.now_ms(),
                remote_addr: None,
                headers_json: "[]".into(),
                body: StoredBody::encode(body),
                body_sha256: digest,
                body_truncated: false,
                kind,
                action: Some(action.to_string()),
                project_id,
                project_name: None,
                summary: summary.to_string(),
                status: EventStatus::Processed,
                parsed_json: None,
                replay_of: None,
                check_duplicate: false,
            })
            .await
            .map(|s| s.id)
    }
}

/// `https://host/hooks/src_x` → `https://host`.
pub(crate) fn base_of(url: &str) -> &str {
    url.rfind("/hooks/").map(|i| &url[..i]).unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::base_of;

    #[test]
    fn the_public_url_is_the_hook_url_without_its_path() {
        assert_eq!(
            base_of("http://127.0.0.1:8787/hooks/src_ab"),
            "http://127.0.0.1:8787"
        );
        assert_eq!(
            base_of("https://t.example/x/hooks/src_ab"),
            "https://t.example/x"
        );
    }
}
