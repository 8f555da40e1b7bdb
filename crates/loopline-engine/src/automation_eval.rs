//! Judging stored events against the automations, after they are acknowledged and from
//! the database, as the rules are (`rule_eval.rs`): each pass moves the automations cursor,
//! records every firing and writes its outbox item in one transaction, so a firing is
//! never lost and never made twice.

use loopline_core::{ApiError, AutomationTrigger, Counter, EventFacts, FireMode};
use loopline_payloads::parse::StoredFindings;
use loopline_store::{AutomationEvent, AutomationPass, Firing};

use crate::rule_eval::firing;
use crate::Engine;

const PASS_SIZE: i64 = 200;
/// How long the outbox keeps retrying one delivery (a target down for the night is not
/// given up on before the morning).
const DELIVERY_TIME_LIMIT_MS: i64 = 12 * 3600 * 1000;

/// Whether the event is one the trigger names: source, action, project, conditions.
pub fn trigger_matches(t: &AutomationTrigger, event: &AutomationEvent, facts: &EventFacts) -> bool {
    t.source_id == event.source_id
        && event
            .action
            .as_deref()
            .is_some_and(|action| t.actions.iter().any(|a| a.eq_ignore_ascii_case(action)))
        && t.project_id.is_none_or(|p| event.project_id == Some(p))
        && t.conditions.iter().all(|c| c.holds(facts))
}

/// The project's counter the event carries; `None` when it has none (`send_payload` off).
pub fn counter_of(event: &AutomationEvent, counter: Counter) -> Option<i64> {
    let found = StoredFindings::from_json(event.parsed_json.as_deref());
    match counter {
        Counter::Useful => found.useful_annotation_number,
        Counter::Total => found.total_annotations_number,
    }
}

/// The facts conditions and messages read; a body that is not JSON has only the kind.
pub fn facts_of(event: &AutomationEvent) -> EventFacts {
    let body = serde_json::from_slice(&event.body).unwrap_or(serde_json::Value::Null);
    EventFacts::from_body(&event.kind, &body)
}

impl Engine {
    /// Judges every event past the automations cursor. Returns how many firings were new.
    pub async fn evaluate_automations(&self) -> Result<usize, ApiError> {
        if !self.store.has_automations().await? {
            return Ok(0);
        }
        let mut fired = 0;
        while let Some(mut pass) = self.store.begin_automation_pass(PASS_SIZE).await? {
            for event in pass.events.clone() {
                self.judge(&mut pass, &event).await?;
            }
            // `None`: another process judged these events first, or an automation changed
            // meanwhile; nothing was written, and the next pass judges what is there now.
            if let Some(new) = pass.commit().await? {
                fired += new;
            }
        }
        if fired > 0 {
            // Only now are the firings committed, so the worker can see them.
            self.wake_outbox();
        }
        Ok(fired)
    }

    async fn judge(
        &self,
        pass: &mut AutomationPass,
        event: &AutomationEvent,
    ) -> Result<(), ApiError> {
        // Events as they were really delivered: not duplicates, not malformed bodies, and
        // not edited replays (what the user typed), as for the rules.
        if event.status != "processed" || event.replay_of.is_some() {
            return Ok(());
        }
        let automations = pass.automations_for(&event.source_id).await?;
        if automations.is_empty() {
            return Ok(());
        }
        let facts = facts_of(event);
        let now = self.clock.now_ms();
        for a in automations {
            if !trigger_matches(&a.trigger, event, &facts) {
                continue;
            }
            let fires = match a.trigger.fire {
                FireMode::Each => true,
                FireMode::Every { n, counter } => {
                    // `send_payload` off: no counter, nothing to go on.
                    let Some(count) = counter_of(event, counter) else {
                        continue;
                    };
                    let reached = firing(a.fired_bucket, n, count);
                    let bucket = reached.map(|(_, to)| to).unwrap_or(a.fired_bucket);
                    pass.set_progress(&a.id, count, bucket);
                    reached.is_some()
                }
            };
            if fires {
                let f = Firing {
                    automation: &a,
                    event_id: event.id,
                    now_ms: now,
                    deadline_at_ms: now + DELIVERY_TIME_LIMIT_MS,
                };
                pass.fire(&f);
            }
        }
        Ok(())
    }
}
