//! Automations: a trigger (which events, which conditions, each or every N) and an action
//! (forward the event; notify: a desktop notice and/or a Slack-compatible webhook; or freeze
//! a dataset version). The retrain rule generalised; the start-a-pipeline action comes in a
//! later slice.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{ApiError, Condition, Counter, ErrorCode, Overlap, PipelineParam};

/// When a matching event fires the action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum FireMode {
    /// Every matching event.
    Each,
    /// Each time the project's counter crosses a multiple of `n` (the retrain rule's counter).
    Every { n: i64, counter: Counter },
}

/// What an automation does when it fires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AutomationAction {
    /// POST the event to `url`, signed with Standard Webhooks headers when `secret_name`
    /// names a keychain secret (`whsec_<base64>`). Only the name is kept, never the secret.
    Forward {
        url: String,
        secret_name: Option<String>,
        /// A JSON template for the body (the Aquarium exports' engine, over `event` and
        /// `body`: see `forward_template`); the original body when `None`.
        body_template: Option<String>,
    },
    /// A desktop notice and/or a Slack-compatible incoming webhook whose URL is the
    /// keychain secret `slack_url_secret`.
    Notify {
        desktop: bool,
        slack_url_secret: Option<String>,
        message: String,
    },
    /// Start a SageMaker pipeline each time the project's counter passes a multiple of N:
    /// the retrain rule, which it is stored and run as (its deliveries are the runs), so
    /// its behaviour is the rule's exactly.
    StartPipeline {
        /// A pipeline name or ARN.
        pipeline: String,
        params: Vec<PipelineParam>,
        overlap: Overlap,
        start_time_limit_secs: i64,
        /// A dataset-version automation of the same project: each run is passed its newest
        /// version at the run's trigger as the `DatasetManifest` parameter.
        #[serde(default)]
        #[ts(optional)]
        dataset: Option<String>,
    },
    /// Freeze the annotation objects under `prefix` in `bucket` (ETags, sizes, per-label
    /// counts) as `s3://bucket/datasets/<automation>/v<n>/manifest.json`, keeping the last
    /// `keep` manifests. `prefix` and `region` default to the storage setup's when the
    /// bucket is its bucket; they are always set on a stored automation.
    DatasetVersion {
        bucket: String,
        prefix: Option<String>,
        region: Option<String>,
        keep: i64,
    },
}

impl AutomationAction {
    /// What it does, in a few words, for lists.
    pub fn summary(&self) -> String {
        match self {
            AutomationAction::Forward {
                url, body_template, ..
            } => format!(
                "forward to {url}{}",
                if body_template.is_some() {
                    " (body from a template)"
                } else {
                    ""
                }
            ),
            AutomationAction::Notify {
                desktop,
                slack_url_secret,
                ..
            } => {
                let mut to = Vec::new();
                if *desktop {
                    to.push("the desktop".to_string());
                }
                if let Some(name) = slack_url_secret {
                    to.push(format!("Slack (secret '{name}')"));
                }
                format!("notify {}", to.join(" and "))
            }
            AutomationAction::StartPipeline { pipeline, .. } => {
                format!("start pipeline {pipeline}")
            }
            AutomationAction::DatasetVersion { bucket, prefix, .. } => format!(
                "dataset version of s3://{bucket}/{}",
                prefix.as_deref().unwrap_or("")
            ),
        }
    }
}

/// The trigger: which events, from where, under which conditions, and how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AutomationTrigger {
    pub source_id: String,
    /// Label Studio actions (ANNOTATION_CREATED, PROJECT_CREATED, ...), Aquarium's
    /// `issue-exported`, or Loopline's own (`run.ended`).
    pub actions: Vec<String>,
    pub project_id: Option<i64>,
    /// All must hold.
    pub conditions: Vec<Condition>,
    pub fire: FireMode,
}

/// What adding an automation asks for (`automation_add`, `loopline automation add`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AutomationRequest {
    pub name: String,
    pub trigger: AutomationTrigger,
    pub action: AutomationAction,
    /// Record "would fire" without delivering.
    pub dry_run: bool,
    /// For "every N": the project's counter now, given by the user when Label Studio cannot
    /// be asked (as `rule add retrain --start-count`). With it, Label Studio is not asked.
    #[serde(default)]
    #[ts(optional)]
    pub start_count: Option<i64>,
    /// Start a pipeline even though another Loopline receives the project's annotations
    /// (`shared_project`): the user was told and chose to go on.
    #[serde(default)]
    #[ts(optional)]
    pub even_if_shared: Option<bool>,
}

impl AutomationRequest {
    /// Checks what can be checked without I/O: a wrong request is refused before it is
    /// stored, with a sentence saying which part is wrong.
    pub fn validate(&self) -> Result<(), ApiError> {
        let invalid = |m: &str| Err(ApiError::new(ErrorCode::InvalidArgument, m));
        if self.name.trim().is_empty() {
            return invalid("An automation needs a name (--name).");
        }
        if self.trigger.source_id.trim().is_empty() {
            return invalid("An automation needs a source (--source).");
        }
        if self.trigger.actions.iter().all(|a| a.trim().is_empty()) {
            return invalid(
                "An automation needs at least one action to react to (--on ANNOTATION_CREATED).",
            );
        }
        for c in &self.trigger.conditions {
            c.validate()?;
        }
        if let FireMode::Every { n, .. } = self.trigger.fire {
            if n < 1 {
                return invalid("--every takes a whole number of at least 1.");
            }
        }
        match &self.action {
            AutomationAction::Forward {
                url, body_template, ..
            } => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return invalid("--url must start with http:// or https://.");
                }
                if let Some(t) = body_template {
                    crate::forward_template::check(t)?;
                }
            }
            AutomationAction::Notify {
                desktop,
                slack_url_secret,
                message,
            } => {
                if !desktop && slack_url_secret.is_none() {
                    return invalid(
                        "A notify automation needs --desktop, --slack-url-secret NAME, or both.",
                    );
                }
                if message.trim().is_empty() {
                    return invalid("A notify automation needs a --message.");
                }
                crate::condition::check_message(message)?;
            }
            AutomationAction::StartPipeline { pipeline, .. } => {
                if pipeline.trim().is_empty() {
                    return invalid("A start-pipeline automation needs --pipeline P.");
                }
                if !matches!(self.trigger.fire, FireMode::Every { .. }) {
                    return invalid(
                        "A start-pipeline automation counts the project's annotations: give --every N (and --project P), not --each.",
                    );
                }
                if !self.trigger.conditions.is_empty() {
                    return invalid(
                        "A start-pipeline automation counts Label Studio's own annotation counter, which no condition can filter: remove --when, or use --counter useful to leave cancelled annotations out.",
                    );
                }
            }
            AutomationAction::DatasetVersion { bucket, keep, .. } => {
                if bucket.trim().is_empty() {
                    return invalid("A dataset-version automation needs --bucket B.");
                }
                if *keep < 1 {
                    return invalid("--keep takes a whole number of at least 1.");
                }
            }
        }
        Ok(())
    }
}

/// A stored automation, with its progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Automation {
    pub id: String,
    pub name: String,
    pub trigger: AutomationTrigger,
    pub action: AutomationAction,
    pub dry_run: bool,
    pub paused: bool,
    pub created_at: String,
    /// How many times it fired.
    pub fired: i64,
    /// For `every N`: the counter's last value and the multiple last fired for.
    pub count: Option<i64>,
    pub fired_bucket: i64,
}

/// Where one delivery of an automation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Decided; waiting for the worker, or retrying after a 408, 429 or 5xx.
    Pending,
    Delivered,
    /// Refused by the target (another 4xx), or out of retries.
    Failed,
    /// A dry run: recorded, not sent.
    WouldFire,
}

/// One firing of an automation for one event, with what the target answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AutomationDelivery {
    pub automation_id: String,
    pub event_id: i64,
    pub status: DeliveryStatus,
    pub attempts: i64,
    /// The target's last HTTP status, when it answered.
    pub http_status: Option<i64>,
    /// The target's last response body, capped.
    pub response: Option<String>,
    pub error: Option<String>,
    pub decided_at: String,
    pub delivered_at: Option<String>,
}

/// `automation show`: the automation and its deliveries, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AutomationDetail {
    pub automation: Automation,
    pub deliveries: Vec<AutomationDelivery>,
}

/// The dry-run preview: "would have fired 3 times" over the last stored matching events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AutomationPreview {
    /// How many stored events were looked at (at most 50).
    pub considered: i64,
    /// The events it would have fired for, newest first.
    pub would_fire: Vec<i64>,
    pub sentence: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(action: AutomationAction) -> AutomationRequest {
        AutomationRequest {
            name: "n".into(),
            trigger: AutomationTrigger {
                source_id: "s".into(),
                actions: vec!["PROJECT_CREATED".into()],
                project_id: None,
                conditions: vec![],
                fire: FireMode::Each,
            },
            action,
            dry_run: false,
            start_count: None,
            even_if_shared: None,
        }
    }

    #[test]
    fn notify_needs_a_channel_and_known_fields() {
        let r = request(AutomationAction::Notify {
            desktop: false,
            slack_url_secret: None,
            message: "hi".into(),
        });
        assert!(r.validate().is_err());
        let r = request(AutomationAction::Notify {
            desktop: true,
            slack_url_secret: None,
            message: "New project '{project.name}'".into(),
        });
        assert!(r.validate().unwrap_err().message.contains("project.title"));
        let r = request(AutomationAction::Notify {
            desktop: true,
            slack_url_secret: None,
            message: "New project '{project.title}'".into(),
        });
        r.validate().unwrap();
    }

    #[test]
    fn forward_needs_an_http_url() {
        let r = request(AutomationAction::Forward {
            url: "ftp://x".into(),
            secret_name: None,
            body_template: None,
        });
        assert!(r.validate().is_err());
        let r = request(AutomationAction::Forward {
            url: "http://x".into(),
            secret_name: None,
            body_template: Some(r#"{"t": "{{project.title}}"}"#.into()),
        });
        assert!(r.validate().unwrap_err().message.contains("body.<path>"));
    }

    #[test]
    fn serializes_tagged() {
        let a = AutomationAction::Forward {
            url: "http://x".into(),
            secret_name: Some("fwd".into()),
            body_template: None,
        };
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["kind"], "forward");
        let f = serde_json::to_value(FireMode::Every {
            n: 3,
            counter: Counter::Useful,
        })
        .unwrap();
        assert_eq!(
            f,
            serde_json::json!({"mode": "every", "n": 3, "counter": "useful"})
        );
    }
}
