//! Registering Loopline's webhook on a Label Studio project, and keeping it working: the
//! URL and `X-Loopline-Token` header Loopline gave the source, the annotation actions, and
//! `is_active` (Label Studio turns a webhook off after repeated failed deliveries).

use loopline_core::{ApiError, Sensitive};
use serde_json::{json, Value};

use crate::label_studio::LabelStudio;

/// The actions the retrain loop needs (creates fire it; deletes and updates keep the
/// progress shown honest).
pub const HOOK_ACTIONS: &[&str] = &[
    "ANNOTATION_CREATED",
    "ANNOTATIONS_CREATED",
    "ANNOTATION_UPDATED",
    "ANNOTATIONS_DELETED",
];

/// What registering did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookChange {
    Created,
    /// The URL, header or actions were out of date.
    Updated,
    /// Label Studio had deactivated it; it is active again.
    Reactivated,
    Unchanged,
}

#[derive(Debug, Clone)]
pub struct Hook {
    pub id: i64,
    pub url: String,
    pub is_active: bool,
    pub change: HookChange,
}

fn is_ours(hook: &Value, hook_path: &str) -> bool {
    hook["url"]
        .as_str()
        .is_some_and(|u| u.trim_end_matches('/').ends_with(hook_path))
}

impl LabelStudio {
    /// Creates Loopline's webhook on the project, or brings the existing one up to date.
    pub async fn ensure_hook(
        &self,
        project: i64,
        url: &str,
        hook_path: &str,
        token: &Sensitive<String>,
    ) -> Result<Hook, ApiError> {
        // The project must exist and be visible with this token.
        self.get(&format!("/api/projects/{project}/")).await?;
        let existing = self
            .get(&format!("/api/webhooks/?project={project}"))
            .await?;
        let ours = existing
            .as_array()
            .into_iter()
            .flatten()
            .find(|h| is_ours(h, hook_path) && h["project"].as_i64() == Some(project))
            .cloned();
        let wanted = json!({
            "project": project,
            "url": url,
            "send_payload": true,
            "send_for_all_actions": false,
            "is_active": true,
            "headers": { "X-Loopline-Token": token.expose() },
            "actions": HOOK_ACTIONS,
        });
        let Some(hook) = ours else {
            let created = self.post("/api/webhooks/", &wanted).await?;
            return Ok(Hook {
                id: created["id"].as_i64().unwrap_or_default(),
                url: url.to_string(),
                is_active: true,
                change: HookChange::Created,
            });
        };
        let id = hook["id"].as_i64().unwrap_or_default();
        let mut actions: Vec<&str> = hook["actions"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        actions.sort_unstable();
        let mut want_actions = HOOK_ACTIONS.to_vec();
        want_actions.sort_unstable();
        // The header value is not compared: Label Studio may not return it, and sending it
        // again costs nothing.
        let stale = hook["url"].as_str() != Some(url)
            || actions != want_actions
            || hook["send_payload"].as_bool() != Some(true)
            || hook["send_for_all_actions"].as_bool() == Some(true);
        let inactive = hook["is_active"].as_bool() == Some(false);
        self.patch(&format!("/api/webhooks/{id}/"), &wanted).await?;
        Ok(Hook {
            id,
            url: url.to_string(),
            is_active: true,
            change: if inactive {
                HookChange::Reactivated
            } else if stale {
                HookChange::Updated
            } else {
                HookChange::Unchanged
            },
        })
    }

    /// The project's counters: (useful_annotation_number, total_annotations_number).
    pub async fn project_counts(
        &self,
        project: i64,
    ) -> Result<(Option<i64>, Option<i64>), ApiError> {
        let p = self.get(&format!("/api/projects/{project}/")).await?;
        Ok((
            p["useful_annotation_number"].as_i64(),
            p["total_annotations_number"].as_i64(),
        ))
    }
}
