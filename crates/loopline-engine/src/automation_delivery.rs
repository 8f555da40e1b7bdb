//! Delivering an automation's firing, from the outbox: a forward POSTs the event (or its
//! body template rendered) to its target, signed the Standard Webhooks way over the exact
//! bytes sent, and keeps what the target answered on the delivery; a notify is
//! `automation_notify.rs`. 408, 429 and 5xx answers and an unreachable target are retried
//! with backoff (the same `webhook-id` each time, so the target can drop a repeat); any
//! other answer fails at once, with the target's words kept.

use loopline_cloud::standard_webhooks;
use loopline_cloud::web::Answer;
use loopline_core::forward_template::{self, ForwardEvent};
use loopline_core::{ApiError, AutomationAction, DeliveryStatus, ErrorCode};
use loopline_store::{DeliveryOutcome, OutboxItem};

use crate::delivery_error::DeliveryError;
use crate::Engine;

/// Answers worth another try: the target is busy, slow or briefly broken.
pub fn retryable_status(status: u16) -> bool {
    status == 408 || status == 429 || (500..=599).contains(&status)
}

/// The `webhook-id` of an event's forward: the same on every retry of it.
pub fn webhook_id(event_id: i64) -> String {
    format!("evt_{event_id}")
}

pub(crate) fn refused(message: String) -> DeliveryError {
    DeliveryError {
        error: ApiError::new(ErrorCode::TargetRejected, message),
        retryable: false,
    }
}

impl Engine {
    /// Delivers the firing that is the item's subject.
    pub(crate) async fn perform_automation(&self, item: &OutboxItem) -> Result<(), DeliveryError> {
        let Some(delivery_id) = item.subject_id else {
            return Ok(());
        };
        let Some(delivery) = self.store.delivery(delivery_id).await? else {
            return Ok(()); // nothing left to deliver for
        };
        if delivery.status != DeliveryStatus::Pending {
            return Ok(()); // delivered by a worker whose settle did not land
        }
        let automation = match self.store.automation(&delivery.automation_id).await {
            Ok(a) => a,
            Err(e) if e.code == ErrorCode::NotFound => {
                return Err(refused(
                    "The automation was removed before this was delivered.".into(),
                ))
            }
            Err(e) => return Err(e.into()),
        };
        match &automation.action {
            AutomationAction::Forward {
                url,
                secret_name,
                body_template,
            } => {
                let target = ForwardTarget {
                    url,
                    secret_name: secret_name.as_deref(),
                    body_template: body_template.as_deref(),
                };
                self.forward(delivery_id, delivery.event_id, &target).await
            }
            AutomationAction::Notify {
                desktop,
                slack_url_secret,
                message,
            } => {
                let n = crate::automation_notify::NotifyTarget {
                    automation: &automation.name,
                    desktop: *desktop,
                    slack_url_secret: slack_url_secret.as_deref(),
                    message,
                };
                self.deliver_notify(delivery_id, delivery.event_id, &n)
                    .await
            }
            AutomationAction::DatasetVersion {
                bucket,
                prefix,
                region,
                keep,
            } => {
                let target = crate::dataset_version::DatasetTarget {
                    automation_id: &automation.id,
                    bucket,
                    prefix: prefix.as_deref().unwrap_or_default(),
                    region: region.as_deref().unwrap_or_default(),
                    keep: *keep,
                };
                self.write_dataset_version(delivery_id, delivery.event_id, &target)
                    .await
            }
            // Stored as rules and delivered as runs; never a delivery of this table.
            AutomationAction::StartPipeline { .. } => Err(refused(
                "A start-pipeline automation starts runs, not deliveries; `loopline runs list` shows them.".into(),
            )),
        }
    }

    async fn forward(
        &self,
        delivery_id: i64,
        event_id: i64,
        target: &ForwardTarget<'_>,
    ) -> Result<(), DeliveryError> {
        let event = self.store.event(event_id).await?;
        let key = match target.secret_name {
            None => None,
            Some(name) => {
                let secret = self.secret(name).await?.ok_or_else(|| {
                    refused(format!(
                        "The signing secret '{name}' is not in the keychain. Store it with \
                         `loopline secret set {name}`, then retry."
                    ))
                })?;
                Some(standard_webhooks::secret_key(secret.expose()).map_err(DeliveryError::from)?)
            }
        };
        let id = webhook_id(event_id);
        let body = match target.body_template {
            None => event.body,
            Some(t) => {
                let e = &event.summary;
                let rendered = forward_template::render(
                    t,
                    ForwardEvent {
                        id: e.id,
                        webhook_id: &id,
                        action: e.action.as_deref(),
                        kind: e.kind.as_str(),
                        source_id: &e.source_id,
                        project_id: e.project_id,
                        body: serde_json::from_slice(&event.body)
                            .unwrap_or(serde_json::Value::Null),
                    },
                );
                // The template does not fit this event: retrying would not change that.
                rendered.map_err(|e| {
                    refused(format!(
                        "The body template could not be rendered for event {event_id}: {}",
                        e.message
                    ))
                })?
            }
        };
        let timestamp = self.clock.now_ms().div_euclid(1000);
        let headers = standard_webhooks::headers(key.as_deref(), &id, timestamp, &body);
        let answer = self.web.post_body(target.url, &headers, &body).await;
        self.record_answer(delivery_id, target.url, answer).await
    }

    /// Keeps one attempt's outcome on the delivery and says whether to retry. `shown` names
    /// the target in the words kept and logged (never a secret URL).
    pub(crate) async fn record_answer(
        &self,
        delivery_id: i64,
        shown: &str,
        answer: Result<Answer, ApiError>,
    ) -> Result<(), DeliveryError> {
        let now = self.clock.now_ms();
        let answer = match answer {
            Ok(a) => a,
            Err(e) => {
                let outcome = DeliveryOutcome {
                    status: DeliveryStatus::Pending,
                    http_status: None,
                    response: None,
                    error: Some(&e.message),
                    now_ms: now,
                };
                self.store.record_delivery(delivery_id, &outcome).await?;
                return Err(DeliveryError {
                    error: e,
                    retryable: true,
                });
            }
        };
        let ok = (200..300).contains(&answer.status);
        let again = retryable_status(answer.status);
        let words = (!ok).then(|| format!("{shown} answered HTTP {}.", answer.status));
        let outcome = DeliveryOutcome {
            status: if ok {
                DeliveryStatus::Delivered
            } else if again {
                DeliveryStatus::Pending
            } else {
                DeliveryStatus::Failed
            },
            http_status: Some(i64::from(answer.status)),
            response: Some(&answer.body),
            error: words.as_deref(),
            now_ms: now,
        };
        self.store.record_delivery(delivery_id, &outcome).await?;
        match words {
            None => Ok(()),
            Some(w) if again => Err(DeliveryError {
                error: ApiError::new(ErrorCode::TargetUnavailable, w),
                retryable: true,
            }),
            Some(w) => Err(refused(format!(
                "{w} It refused the delivery; fix the target or the automation, then retry."
            ))),
        }
    }
}

/// Where a forward goes and how its body is made.
struct ForwardTarget<'a> {
    url: &'a str,
    secret_name: Option<&'a str>,
    body_template: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_and_broken_targets_are_retried_refusals_are_not() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(retryable_status(s), "{s}");
        }
        for s in [200, 301, 400, 401, 403, 404, 410, 422] {
            assert!(!retryable_status(s), "{s}");
        }
    }
}
