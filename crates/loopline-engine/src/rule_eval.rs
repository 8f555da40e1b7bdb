//! Evaluating stored events against the retrain rules. Runs after the event is
//! acknowledged, from the database, so an event acknowledged just before a crash is
//! evaluated after the restart. Each pass moves the rules cursor, updates each rule's
//! progress and writes the runs it fires in one transaction: a decision is never lost and
//! never taken twice.

use loopline_core::{ApiError, Counter, Overlap, PipelineParam, RetrainRule, RunStatus};
use loopline_payloads::parse::StoredFindings;
use loopline_store::{NewRun, RuleEvent, RulePass};
use sha2::{Digest, Sha256};

use crate::Engine;

/// Actions that create annotations: the only ones that fire a rule.
/// A catch-up entry stands for the annotations whose webhooks were lost (`catch_up.rs`).
const FIRING_ACTIONS: &[&str] = &[
    "ANNOTATION_CREATED",
    "ANNOTATIONS_CREATED",
    crate::catch_up::CATCH_UP_ACTION,
];
const PASS_SIZE: i64 = 500;

/// The multiples of `every` a count reaches beyond the last one fired for: `None` when it
/// reaches no new one. `floor(count / every)` rising is the rule; a bulk jump covers
/// several multiples at once and fires once.
pub fn firing(fired_bucket: i64, every: i64, count: i64) -> Option<(i64, i64)> {
    let bucket = count.div_euclid(every.max(1));
    (bucket > fired_bucket).then_some((fired_bucket + 1, bucket))
}

/// The idempotency token AWS deduplicates StartPipelineExecution on: the same (rule,
/// threshold reached) always gives the same 64 characters, across restarts. Runs already
/// started keep the token stored with them.
pub fn client_request_token(rule_id: &str, threshold: i64) -> String {
    // Keyed on the rule and the count it reached (bucket × every), not on the pipeline and
    // the bucket number: two rules on one pipeline with different N reach the same bucket
    // number at different counts, and AWS would fold the second start into the first.
    let digest = Sha256::digest(format!("loopline-retrain-v2\n{rule_id}\n{threshold}"));
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

struct Counts {
    useful: Option<i64>,
    total: Option<i64>,
}

fn counts(event: &RuleEvent) -> Counts {
    let found = StoredFindings::from_json(event.parsed_json.as_deref());
    Counts {
        useful: found.useful_annotation_number,
        total: found.total_annotations_number,
    }
}

fn fill(
    params: &[PipelineParam],
    count: i64,
    counts: &Counts,
    project: i64,
    event: i64,
    bucket: i64,
) -> Vec<PipelineParam> {
    params
        .iter()
        .map(|p| {
            let value = p
                .value
                .replace("{count}", &count.to_string())
                .replace(
                    "{useful_annotation_number}",
                    &counts.useful.map(|c| c.to_string()).unwrap_or_default(),
                )
                .replace(
                    "{total_annotations_number}",
                    &counts.total.map(|c| c.to_string()).unwrap_or_default(),
                )
                .replace("{project_id}", &project.to_string())
                .replace("{event_id}", &event.to_string())
                .replace("{bucket}", &bucket.to_string());
            PipelineParam {
                name: p.name.clone(),
                value,
            }
        })
        .collect()
}

impl Engine {
    /// Evaluates every event past the rules cursor. Returns how many runs were decided.
    pub async fn evaluate_rules(&self) -> Result<usize, ApiError> {
        Ok(self.evaluate_rules_if_any().await?.unwrap_or(0))
    }

    /// Like `evaluate_rules`; `None` when there are no rules at all.
    pub(crate) async fn evaluate_rules_if_any(&self) -> Result<Option<usize>, ApiError> {
        if !self.store.has_rules().await? {
            return Ok(None);
        }
        let mut decided = 0;
        let mut progressed = false;
        // The first run's loop check: its test annotation counts but never starts a run.
        let check = self.pending_loop_check().await?;
        while let Some(mut pass) = self.store.begin_rule_pass(PASS_SIZE).await? {
            let events = pass.events.clone();
            for event in &events {
                let (runs, touched) = self
                    .evaluate_event(&mut pass, event, check.as_ref())
                    .await?;
                decided += runs;
                progressed |= touched;
            }
            pass.commit().await?;
            if decided > 0 {
                // Only now is the run committed, so the worker can see it.
                self.wake_outbox();
            }
        }
        // Progress alone is news too: the app's "15 of 16" moves with every annotation.
        if decided > 0 || progressed {
            self.runs_changed();
        }
        Ok(Some(decided))
    }

    /// Returns the runs decided, and whether any rule's progress was updated.
    async fn evaluate_event(
        &self,
        pass: &mut RulePass,
        event: &RuleEvent,
        check: Option<&crate::setup::PendingCheck>,
    ) -> Result<(usize, bool), ApiError> {
        // Only events as they were really delivered: not duplicates, not malformed bodies,
        // and not edited replays, whose counters are what the user typed (the README promises
        // that replays never fire; the next real delivery carries the true count anyway).
        if event.status != "processed" || event.replay_of.is_some() {
            return Ok((0, false));
        }
        let Some(project) = event.project_id else {
            return Ok((0, false));
        };
        let rules = pass.rules_for(&event.source_id, project).await?;
        if rules.is_empty() {
            return Ok((0, false));
        }
        let counts = counts(event);
        let is_check = check.is_some_and(|c| {
            c.project == project
                && c.task.is_some_and(|t| {
                    StoredFindings::from_json(event.parsed_json.as_deref())
                        .task_ids
                        .contains(&t)
                })
        });
        let fires = !is_check
            && event
                .action
                .as_deref()
                .is_some_and(|a| FIRING_ACTIONS.contains(&a));
        let (mut decided, mut touched) = (0, false);
        for rule in rules {
            if let Some(why) = &rule.error {
                tracing::warn!(rule = %rule.id, "{why}");
                continue;
            }
            let count = match rule.counter {
                Counter::Useful => counts.useful,
                Counter::Total => counts.total,
            };
            // `send_payload` off: no counters, nothing to go on.
            let Some(count) = count else { continue };
            if rule.paused {
                // The multiples passed while paused are marked fired, so resuming starts
                // from the next one: "events that arrive meanwhile never fire it".
                let reached = count.div_euclid(rule.every.max(1)).max(rule.fired_bucket);
                pass.set_progress(&rule.id, count, reached);
                touched = true;
                continue;
            }
            let fired = firing(rule.fired_bucket, rule.every, count).filter(|_| fires);
            let fired_bucket = fired.map(|(_, to)| to).unwrap_or(rule.fired_bucket);
            pass.set_progress(&rule.id, count, fired_bucket);
            touched = true;
            if let Some((from, to)) = fired {
                self.decide_run(pass, &rule, event, &counts, count, from, to)
                    .await?;
                decided += 1;
            }
        }
        Ok((decided, touched))
    }

    #[allow(clippy::too_many_arguments)]
    async fn decide_run(
        &self,
        pass: &mut RulePass,
        rule: &RetrainRule,
        event: &RuleEvent,
        counts: &Counts,
        count: i64,
        from: i64,
        to: i64,
    ) -> Result<(), ApiError> {
        let now = self.clock.now_ms();
        let mut run = NewRun {
            rule_id: rule.id.clone(),
            pipeline: rule.pipeline.clone(),
            event_id: event.id,
            count,
            bucket_from: from,
            bucket_to: to,
            status: RunStatus::Pending,
            params: fill(&rule.params, count, counts, rule.project_id, event.id, to),
            client_token: client_request_token(&rule.id, to * rule.every),
            created_at_ms: now,
            deadline_at_ms: now + rule.start_time_limit_secs * 1000,
        };
        if rule.dry_run {
            run.status = RunStatus::WouldStart;
            pass.insert_run(&run).await?;
            return Ok(());
        }
        if pass.has_active_run(&rule.id).await? {
            match rule.overlap {
                Overlap::Parallel => {}
                Overlap::Skip => run.status = RunStatus::Skipped,
                Overlap::Coalesce => {
                    if let Some(held) = pass.held_run(&rule.id).await? {
                        pass.merge_into_held(held, &run).await?;
                        return Ok(());
                    }
                    run.status = RunStatus::Held;
                }
            }
        }
        pass.insert_run(&run).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{client_request_token, firing};

    #[test]
    fn fires_at_the_first_multiple_not_the_second() {
        // The tutorial's `total > 16 and total % 16 == 0` first fires at 32.
        assert_eq!(firing(0, 16, 15), None);
        assert_eq!(firing(0, 16, 16), Some((1, 1)));
        assert_eq!(firing(1, 16, 16), None, "the same count never fires twice");
        assert_eq!(firing(1, 16, 31), None);
        assert_eq!(firing(1, 16, 32), Some((2, 2)));
    }

    #[test]
    fn a_bulk_jump_over_multiples_fires_once_covering_them() {
        assert_eq!(firing(1, 16, 36), Some((2, 2)));
        assert_eq!(firing(0, 16, 50), Some((1, 3)));
        assert_eq!(
            firing(3, 16, 20),
            None,
            "a lower count after deletes fires nothing"
        );
    }

    #[test]
    fn two_rules_on_one_pipeline_reaching_the_same_bucket_get_different_tokens() {
        // Every 16 and every 32: bucket 2 of each is count 32 and count 64. Before, both were
        // keyed on (source, project, pipeline, bucket 2) and collided.
        assert_ne!(
            client_request_token("rule_every16", 2 * 16),
            client_request_token("rule_every32", 2 * 32)
        );
        // Two rules reaching the same count on one pipeline are two runs too.
        assert_ne!(
            client_request_token("rule_a", 32),
            client_request_token("rule_b", 32)
        );
    }

    #[test]
    fn tokens_are_stable_and_within_aws_limits() {
        let a = client_request_token("rule_1", 32);
        assert_eq!(a, client_request_token("rule_1", 32));
        assert_ne!(a, client_request_token("rule_1", 48));
        assert_ne!(a, client_request_token("rule_2", 32));
        assert!((32..=128).contains(&a.len()));
    }
}
