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

/// A webhook on the project that goes to a Loopline (its URL ends in `/hooks/src_…`, or it
/// carries an `X-Loopline-Token` header) and is sent when annotations are created: another
/// Loopline (another laptop, another data directory) counting the same annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LooplineHook {
    pub id: i64,
    pub url: String,
    /// The source id in its URL, when the URL has Loopline's shape.
    pub source_id: Option<String>,
}

/// `src_` and 12 characters of Loopline's id alphabet (`tokens.rs`).
fn loopline_source_of(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?.trim_end_matches('/');
    let (_, last) = path.rsplit_once("/hooks/")?;
    let tail = last.strip_prefix("src_")?;
    (tail.len() == 12
        && tail
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
    .then(|| last.to_string())
}

fn sends_created_annotations(hook: &Value) -> bool {
    hook["send_for_all_actions"].as_bool() == Some(true)
        || hook["actions"].as_array().is_some_and(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .any(|x| x == "ANNOTATION_CREATED" || x == "ANNOTATIONS_CREATED")
        })
}

/// The active Loopline webhooks among a project's, other than the one at `hook_path`.
pub fn loopline_hooks(hooks: &Value, project: i64, hook_path: &str) -> Vec<LooplineHook> {
    hooks
        .as_array()
        .into_iter()
        .flatten()
        .filter(|h| h["project"].as_i64().is_none_or(|p| p == project))
        .filter(|h| h["is_active"].as_bool() != Some(false) && sends_created_annotations(h))
        .filter(|h| !is_ours(h, hook_path))
        .filter_map(|h| {
            let url = h["url"].as_str()?.to_string();
            let source_id = loopline_source_of(&url);
            let has_header = h["headers"].as_object().is_some_and(|hs| {
                hs.keys()
                    .any(|k| k.eq_ignore_ascii_case("X-Loopline-Token"))
            });
            (source_id.is_some() || has_header).then(|| LooplineHook {
                id: h["id"].as_i64().unwrap_or_default(),
                url,
                source_id,
            })
        })
        .collect()
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

    /// The project's webhooks that go to a Loopline other than the source at `hook_path`.
    pub async fn loopline_hooks(
        &self,
        project: i64,
        hook_path: &str,
    ) -> Result<Vec<LooplineHook>, ApiError> {
        let hooks = self
            .get(&format!("/api/webhooks/?project={project}"))
            .await?;
        Ok(loopline_hooks(&hooks, project, hook_path))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_looplines_are_told_from_other_webhooks_and_from_ours() {
        let hooks = json!([
            {"id": 1, "project": 7, "url": "https://mine.bore.pub/hooks/src_abcdefghjkmn", "is_active": true,
             "send_for_all_actions": false, "actions": ["ANNOTATION_CREATED"]},
            {"id": 2, "project": 7, "url": "https://laptop2.bore.pub/hooks/src_23456789abcd/", "is_active": true,
             "send_for_all_actions": false, "actions": ["ANNOTATION_CREATED", "ANNOTATION_UPDATED"]},
            {"id": 3, "project": 7, "url": "https://db.example/ingest", "is_active": true, "send_for_all_actions": true},
            {"id": 4, "project": 7, "url": "https://relay.example/in", "is_active": true, "send_for_all_actions": true,
             "headers": {"x-loopline-token": "t"}},
            {"id": 5, "project": 7, "url": "https://off.bore.pub/hooks/src_zzzzzzzzzzzz", "is_active": false,
             "send_for_all_actions": true},
            {"id": 6, "project": 7, "url": "https://deletes.bore.pub/hooks/src_yyyyyyyyyyyy", "is_active": true,
             "send_for_all_actions": false, "actions": ["ANNOTATIONS_DELETED"]},
            {"id": 7, "project": 8, "url": "https://other.bore.pub/hooks/src_xxxxxxxxxxxx", "is_active": true,
             "send_for_all_actions": true}
        ]);
        let found = loopline_hooks(&hooks, 7, "/hooks/src_abcdefghjkmn");
        assert_eq!(
            found,
            vec![
                LooplineHook {
                    id: 2,
                    url: "https://laptop2.bore.pub/hooks/src_23456789abcd/".into(),
                    source_id: Some("src_23456789abcd".into()),
                },
                LooplineHook {
                    id: 4,
                    url: "https://relay.example/in".into(),
                    source_id: None,
                },
            ]
        );
        assert_eq!(loopline_source_of("https://x/hooks/src_short"), None);
        assert_eq!(
            loopline_source_of("https://x/hooks/src_abcdefghjkmn?x=1").as_deref(),
            Some("src_abcdefghjkmn")
        );
    }
}
