//! "Would have fired 3 times": an automation judged, before it is saved, on the last stored
//! events its trigger names, with the evaluator's own matching and counter rule, and
//! nothing written. The builder calls it as the form changes; `loopline automation preview`
//! prints it.

use loopline_core::{
    ApiError, AutomationPreview, AutomationRequest, AutomationTrigger, ErrorCode, FireMode,
};
use loopline_store::AutomationEvent;

use crate::automation_eval::{counter_of, facts_of, trigger_matches};
use crate::rule_eval::firing;
use crate::Engine;

/// How many of the newest matching events a preview looks at.
pub const PREVIEW_EVENTS: i64 = 50;

fn invalid(message: &str) -> ApiError {
    ApiError::new(ErrorCode::InvalidArgument, message)
}

/// Only the trigger is checked: a form still being filled in (no name, no URL yet) has a
/// preview, but a condition on an unknown field is refused with the list of known ones.
fn check_trigger(t: &AutomationTrigger) -> Result<(), ApiError> {
    if t.source_id.trim().is_empty() {
        return Err(invalid("Choose a source to preview (--source)."));
    }
    if t.actions.iter().all(|a| a.trim().is_empty()) {
        return Err(invalid(
            "Choose at least one action to react to (--on ANNOTATION_CREATED).",
        ));
    }
    for c in &t.conditions {
        c.validate()?;
    }
    if let FireMode::Every { n, .. } = t.fire {
        if n < 1 {
            return Err(invalid("--every takes a whole number of at least 1."));
        }
        if t.project_id.is_none() {
            return Err(invalid(
                "--every counts one project's annotations: give it with --project P.",
            ));
        }
    }
    Ok(())
}

/// The events it would have fired for, newest first. `window` is newest first and may hold
/// one event more than is judged: that oldest one only says where the counter stood before.
pub fn would_fire(t: &AutomationTrigger, window: &[AutomationEvent]) -> Vec<i64> {
    let judged = &window[..window.len().min(PREVIEW_EVENTS as usize)];
    let matches = |e: &AutomationEvent| trigger_matches(t, e, &facts_of(e));
    match t.fire {
        FireMode::Each => judged.iter().filter(|e| matches(e)).map(|e| e.id).collect(),
        FireMode::Every { n, counter } => {
            // The bucket the project was in before the window. Without an earlier event the
            // oldest judged one is the starting point: what came before it is not stored, and
            // guessing would claim a firing the evaluator may never have made.
            let mut bucket = window
                .get(PREVIEW_EVENTS as usize)
                .and_then(|e| counter_of(e, counter))
                .map(|c| c.div_euclid(n));
            let mut fired = Vec::new();
            for e in judged.iter().rev().filter(|e| matches(e)) {
                let Some(count) = counter_of(e, counter) else {
                    continue;
                };
                match bucket {
                    None => bucket = Some(count.div_euclid(n)),
                    Some(b) => {
                        if let Some((_, to)) = firing(b, n, count) {
                            bucket = Some(to);
                            fired.push(e.id);
                        }
                    }
                }
            }
            fired.reverse();
            fired
        }
    }
}

fn sentence(fired: usize, considered: usize) -> String {
    if considered == 0 {
        return "No stored event matches this trigger's source, actions and project yet, so there is nothing to preview.".into();
    }
    let times = match fired {
        0 => "It would not have fired".to_string(),
        1 => "Would have fired once".to_string(),
        n => format!("Would have fired {n} times"),
    };
    let events = if considered == 1 {
        "the last matching event".to_string()
    } else {
        format!("the last {considered} matching events")
    };
    format!("{times} in {events}.")
}

impl Engine {
    /// Judges the request's trigger on the last 50 stored events of its source, actions and
    /// project (conditions and each / every N applied). Writes nothing.
    pub async fn preview_automation(
        &self,
        req: &AutomationRequest,
    ) -> Result<AutomationPreview, ApiError> {
        let t = &req.trigger;
        check_trigger(t)?;
        self.store.source(&t.source_id, self.clock.now_ms()).await?;
        let window = self
            .store
            .preview_events(&t.source_id, &t.actions, t.project_id, PREVIEW_EVENTS + 1)
            .await?;
        let fired = would_fire(t, &window);
        let considered = window.len().min(PREVIEW_EVENTS as usize);
        Ok(AutomationPreview {
            considered: considered as i64,
            sentence: sentence(fired.len(), considered),
            would_fire: fired,
        })
    }
}
