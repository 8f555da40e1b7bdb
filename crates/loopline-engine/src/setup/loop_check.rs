//! The first run's last step, "Check the loop" (`loopline setup check`): one test
//! annotation made in Label Studio must come back through the public URL, be stored,
//! parsed and counted toward the retrain rule, and be exported by Label Studio to the
//! annotations prefix. Then the annotation and its exported object are deleted, so it never
//! reaches training. While the check runs, its task's annotation counts but fires no run.

use std::time::Duration;

use loopline_core::{
    ApiError, ErrorCode, EventQuery, RetrainRule, SetupReport, SetupStep, SetupWork, StepStatus,
    TunnelState,
};
use loopline_payloads::parse::StoredFindings;

use super::loop_claim::CheckClaim;
use super::StepLog;
use crate::Engine;

/// How long each stage may take: Label Studio sends the webhook and writes the export
/// within the request, so seconds are normal; a minute means something is wrong.
const STAGE_MS: i64 = 60_000;

impl Engine {
    /// `loopline setup check`: the loop end to end with one test annotation, cleaned up after.
    /// One at a time per data directory: a second is refused with `already_running`, before it
    /// records or touches anything.
    pub async fn check_loop(&self, source: &str, project: i64) -> Result<SetupReport, ApiError> {
        let mut claim = self.claim_loop_check(project).await?;
        let started = self.clock.now_ms();
        let work = self.begin_setup_work(SetupWork::Check);
        let mut log = StepLog::new(self, false);
        log.cancel = Some(work.token.clone());
        let result = self
            .check_stages(&mut log, &mut claim, source, project)
            .await;
        // Whatever happened, the marker goes: later annotations on that task are real.
        self.release_loop_check(&claim).await?;
        result?;
        let failed = log.steps.iter().any(|s| s.status == StepStatus::Failed);
        let seconds = (self.clock.now_ms() - started) as f64 / 1000.0;
        let summary = if log.is_cancelled() {
            "The loop check was cancelled: the steps above say what was done, and the test annotation was removed again.".to_string()
        } else if failed {
            "The loop is not verified yet: fix the step marked failed and check again.".to_string()
        } else {
            format!("Loop verified in {seconds:.1} s: an annotation reached Loopline, was counted and exported, and was removed again.")
        };
        let status = if failed {
            StepStatus::Failed
        } else {
            StepStatus::Unchanged
        };
        let error = failed.then(|| {
            log.steps
                .iter()
                .find_map(|s| s.error.clone())
                .unwrap_or_else(|| ApiError::new(ErrorCode::InvalidArgument, summary.clone()))
        });
        let s = log.step(
            "check.loop",
            "Loop check",
            format!("Label Studio project {project}"),
            status,
            summary,
            None,
            error,
        );
        log.push(s).await?;
        if failed && !log.is_cancelled() {
            // The check may run while the window is hidden (a long wait on Label Studio).
            let notice = loopline_core::Notice {
                kind: loopline_core::NoticeKind::LoopCheckFailed,
                title: "The loop check failed".to_string(),
                body: format!(
                    "Label Studio project {project}: open Loopline's Setup to see which step failed."
                ),
            };
            self.notify(notice, 1).await;
        }
        Ok(log.report("check"))
    }

    async fn check_stages(
        &self,
        log: &mut StepLog<'_>,
        claim: &mut CheckClaim,
        source: &str,
        project: i64,
    ) -> Result<(), ApiError> {
        // Reach: Label Studio sends to the public URL, which must answer.
        let tunnel = self.tunnel_status().await?;
        let url = match (&tunnel.state, &tunnel.public_url) {
            (TunnelState::Reachable, Some(u)) => u.clone(),
            _ => {
                let e = ApiError::new(ErrorCode::TunnelUnreachable, "The tunnel is not verified, so Label Studio cannot reach Loopline. Set it up in Settings › Tunnel (or `loopline tunnel set …`) and wait for \"reachable\".");
                let s = log.failed("check.reach", "Reach", "", e);
                return log.push(s).await;
            }
        };
        let s = log.plain(
            "check.reach",
            "Reach",
            url.clone(),
            StepStatus::Unchanged,
            "The tunnel answers at its public URL.".into(),
        );
        log.push(s).await?;

        let ls = self.labeling().await?;
        let Some(task) = ls.first_task(project).await? else {
            let e = ApiError::new(ErrorCode::NotFound, format!("Label Studio project {project} has no task to annotate. Sync the source storage first (step 5)."));
            let s = log.failed(
                "check.annotation",
                "Test annotation",
                format!("Label Studio project {project}"),
                e,
            );
            return log.push(s).await;
        };
        let claimed = if log.is_cancelled() {
            Err(super::cancel::cancelled(
                "before the test annotation was made",
            ))
        } else {
            self.claim_check_task(claim, task).await
        };
        if let Err(e) = claimed {
            let s = log.failed(
                "check.annotation",
                "Test annotation",
                format!("task {task}"),
                e,
            );
            return log.push(s).await;
        }
        let after_id = self
            .list_events(&EventQuery {
                source_id: Some(source.to_string()),
                limit: Some(1),
                ..Default::default()
            })
            .await?
            .events
            .first()
            .map(|e| e.id);

        // The rules as they stand before: "counted" is their count moving.
        let rules: Vec<RetrainRule> = self
            .list_rules()
            .await?
            .into_iter()
            .filter(|r| r.source_id == source && r.project_id == project)
            .collect();
        let annotation = match ls.create_annotation(task, &serde_json::json!([])).await {
            Ok(id) => id,
            Err(e) => {
                let s = log.failed(
                    "check.annotation",
                    "Test annotation",
                    format!("task {task}"),
                    e,
                );
                return log.push(s).await;
            }
        };
        let s = log.plain(
            "check.annotation",
            "Test annotation",
            format!("Label Studio annotation {annotation} on task {task}"),
            StepStatus::Created,
            "Made in Label Studio, as an annotator would.".into(),
        );
        log.push(s).await?;

        let stages = self
            .follow_annotation(log, source, project, annotation, after_id, &rules)
            .await;
        // Clean up even when a stage failed: the test annotation must never reach training.
        let cleaned = self.remove_test_annotation(log, annotation).await;
        stages?;
        cleaned
    }

    async fn follow_annotation(
        &self,
        log: &mut StepLog<'_>,
        source: &str,
        project: i64,
        annotation: i64,
        after_id: Option<i64>,
        rules: &[RetrainRule],
    ) -> Result<(), ApiError> {
        // Received: stored and parsed, with the annotation's id.
        let deadline = self.clock.now_ms() + STAGE_MS;
        // Each event is read once, from its stored findings (not redacted for display).
        let mut read = std::collections::HashSet::new();
        let event = loop {
            let page = self
                .list_events(&EventQuery {
                    source_id: Some(source.to_string()),
                    project_id: Some(project),
                    after_id,
                    limit: Some(50),
                    ..Default::default()
                })
                .await?;
            let mut found = None;
            for e in page.events.iter().filter(|e| read.insert(e.id)) {
                let stored = self.store.event(e.id).await?;
                if StoredFindings::from_json(stored.parsed_json.as_deref())
                    .annotation_ids
                    .contains(&annotation)
                {
                    found = Some(e.clone());
                    break;
                }
            }
            if let Some(e) = found {
                break Some(e);
            }
            if self.clock.now_ms() > deadline {
                break None;
            }
            if let Err(e) = log
                .pause(
                    Duration::from_millis(200),
                    "while waiting for the test annotation's webhook",
                )
                .await
            {
                let s = log.failed(
                    "check.received",
                    "Received",
                    format!("annotation {annotation}"),
                    e,
                );
                return log.push(s).await;
            }
        };
        let Some(event) = event else {
            let e = ApiError::new(ErrorCode::TunnelUnreachable, format!("Label Studio did not deliver the test annotation's webhook within {} s. Check that the project's webhook points at the tunnel URL (step 7), and that `loopline serve` or the app is running.", STAGE_MS / 1000));
            let s = log.failed(
                "check.received",
                "Received",
                format!("annotation {annotation}"),
                e,
            );
            return log.push(s).await;
        };
        let s = log.plain(
            "check.received",
            "Received",
            format!("event #{}", event.id),
            StepStatus::Unchanged,
            format!("Stored and parsed: {}", event.summary),
        );
        log.push(s).await?;

        // Counted toward the retrain rule (never fired: the check's task is marked).
        let step = if rules.is_empty() {
            log.plain(
                "check.counted",
                "Counted",
                "",
                StepStatus::Skipped,
                "No retrain rule for this project yet (step 7), so nothing counts it.".into(),
            )
        } else {
            let deadline = self.clock.now_ms() + STAGE_MS;
            loop {
                self.evaluate_rules().await?;
                let rule = self
                    .list_rules()
                    .await?
                    .into_iter()
                    .find(|r| r.id == rules[0].id);
                match rule {
                    Some(r) if r.count.is_some() && r.count != rules[0].count => {
                        break log.plain(
                            "check.counted",
                            "Counted",
                            r.id.clone(),
                            StepStatus::Unchanged,
                            format!(
                                "{} (the test annotation starts no run).",
                                r.progress_sentence()
                            ),
                        );
                    }
                    Some(r) if self.clock.now_ms() > deadline => {
                        break log.failed(
                            "check.counted",
                            "Counted",
                            r.id.clone(),
                            not_counted(&r, event.id),
                        );
                    }
                    Some(r) => {
                        if let Err(e) = log
                            .pause(
                                Duration::from_millis(200),
                                "while waiting for the rule to count the test annotation",
                            )
                            .await
                        {
                            break log.failed("check.counted", "Counted", r.id.clone(), e);
                        }
                    }
                    None => {
                        break log.plain(
                            "check.counted",
                            "Counted",
                            "",
                            StepStatus::Skipped,
                            "The rule was removed meanwhile.".into(),
                        )
                    }
                }
            }
        };
        log.push(step).await?;
        if log.is_cancelled() {
            return Ok(());
        }

        // Exported: Label Studio wrote it to the annotations prefix.
        let Some(layout) = self.storage_layout().await? else {
            let s = log.plain(
                "check.exported",
                "Exported",
                "",
                StepStatus::Skipped,
                "No storage setup to look in.".into(),
            );
            return log.push(s).await;
        };
        let key = format!("{}/{annotation}", layout.annotations);
        let uri = format!("s3://{}/{key}", layout.bucket);
        let store = self.object_store(&layout.region).await?;
        let deadline = self.clock.now_ms() + STAGE_MS;
        let found = loop {
            match store.head_object(&layout.bucket, &key).await {
                Ok(Some(_)) => break Ok(true),
                Ok(None) if self.clock.now_ms() > deadline => break Ok(false),
                Ok(None) => {
                    if let Err(e) = log
                        .pause(
                            Duration::from_millis(250),
                            "while waiting for Label Studio's export",
                        )
                        .await
                    {
                        break Err(e);
                    }
                }
                Err(e) => break Err(e),
            }
        };
        let step = match found {
            Ok(true) => log.plain("check.exported", "Exported", uri, StepStatus::Unchanged, "Label Studio wrote the annotation where the pipeline reads it.".into()),
            Ok(false) => log.failed("check.exported", "Exported", uri, ApiError::new(ErrorCode::LsStorageFailed, format!("Label Studio did not write the annotation to the annotations prefix within {} s. Check the project's target storage (step 5) and its keys.", STAGE_MS / 1000))),
            Err(e) => log.failed("check.exported", "Exported", uri, e),
        };
        log.push(step).await
    }

    async fn remove_test_annotation(
        &self,
        log: &mut StepLog<'_>,
        annotation: i64,
    ) -> Result<(), ApiError> {
        let ls = self.labeling().await?;
        let mut problems = Vec::new();
        if let Err(e) = ls.delete_annotation(annotation).await {
            problems.push(format!("the annotation: {}", e.message));
        }
        let mut resource = format!("Label Studio annotation {annotation}");
        if let Some(layout) = self.storage_layout().await? {
            let key = format!("{}/{annotation}", layout.annotations);
            resource = format!("{resource}, s3://{}/{key}", layout.bucket);
            let store = self.object_store(&layout.region).await?;
            if let Err(e) = store.delete_object(&layout.bucket, &key).await {
                problems.push(format!("s3://{}/{key}: {}", layout.bucket, e.message));
            }
        }
        let step: SetupStep = if problems.is_empty() {
            log.plain("check.cleaned", "Cleaned up", resource, StepStatus::Unchanged, "The test annotation and its exported object are deleted: they never reach training.".into())
        } else {
            log.failed(
                "check.cleaned",
                "Cleaned up",
                resource,
                ApiError::new(
                    ErrorCode::LsUnavailable,
                    format!(
                        "Could not delete {}. Delete it by hand so it does not reach training.",
                        problems.join("; ")
                    ),
                ),
            )
        };
        log.push(step).await
    }
}

/// The rule's count did not move for the test annotation: what did not arrive, and where to
/// look. The usual causes, most likely first.
fn not_counted(rule: &RetrainRule, event: i64) -> ApiError {
    let now = match rule.count {
        Some(c) => format!("it still stands at {c}"),
        None => "it has no count yet".to_string(),
    };
    let why = rule
        .error
        .as_deref()
        .map(|e| format!(" The rule reports: {e}"))
        .unwrap_or_default();
    ApiError::new(
        ErrorCode::TimedOut,
        format!(
            "The test annotation arrived (event #{event}) but retrain rule {} did not count it within {} s: {now}.{why} Check that the project's webhook sends its payload (the counters come in it), that the rule counts the counter Label Studio moves (`loopline rule list`), and that `loopline serve` or the app is running to evaluate rules.",
            rule.id,
            STAGE_MS / 1000
        ),
    )
}
