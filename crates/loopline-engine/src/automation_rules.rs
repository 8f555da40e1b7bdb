//! Start-a-pipeline automations are the retrain rules: adding one adds a rule, and every
//! rule (one added with `loopline rule add retrain` included) is listed, shown, paused and
//! removed as an automation. Kept as rules so the counting, the overlap policy, the runs
//! and bar 04's exact counts stay exactly the retrain loop's.

use loopline_core::{
    ApiError, Automation, AutomationAction, AutomationDelivery, AutomationRequest,
    AutomationTrigger, DeliveryStatus, ErrorCode, FireMode, RetrainRule, RuleRequest, Run,
    RunStatus,
};

use crate::Engine;

/// Rules are `rule_…`, other automations `auto_…`.
pub fn is_rule_id(id: &str) -> bool {
    id.starts_with("rule_")
}

/// The actions a rule fires on (`rule_eval.rs`), as an automation's trigger says them.
const RULE_ACTIONS: [&str; 2] = ["ANNOTATION_CREATED", "ANNOTATIONS_CREATED"];

/// A rule, as the automation it is.
pub fn automation_of_rule(rule: &RetrainRule, fired: i64) -> Automation {
    Automation {
        id: rule.id.clone(),
        name: rule
            .name
            .clone()
            .unwrap_or_else(|| format!("Retrain {} every {}", rule.pipeline, rule.every)),
        trigger: AutomationTrigger {
            source_id: rule.source_id.clone(),
            actions: RULE_ACTIONS.iter().map(|a| a.to_string()).collect(),
            project_id: Some(rule.project_id),
            conditions: vec![],
            fire: FireMode::Every {
                n: rule.every,
                counter: rule.counter,
            },
        },
        action: AutomationAction::StartPipeline {
            pipeline: rule.pipeline.clone(),
            params: rule.params.clone(),
            overlap: rule.overlap,
            start_time_limit_secs: rule.start_time_limit_secs,
            dataset: rule.dataset_automation.clone(),
        },
        dry_run: rule.dry_run,
        paused: rule.paused,
        created_at: rule.created_at.clone(),
        fired,
        count: rule.count,
        fired_bucket: rule.fired_bucket,
    }
}

/// A run, as one delivery of its automation: the execution's ARN is what "the target
/// answered".
pub fn delivery_of_run(run: &Run) -> AutomationDelivery {
    let status = match run.status {
        RunStatus::WouldStart => DeliveryStatus::WouldFire,
        RunStatus::StartFailed | RunStatus::Skipped => DeliveryStatus::Failed,
        RunStatus::Pending | RunStatus::Held | RunStatus::Starting => DeliveryStatus::Pending,
        _ => DeliveryStatus::Delivered,
    };
    let response = Some(match &run.execution_arn {
        Some(arn) => format!("run {}: {} ({arn})", run.id, run.status.as_str()),
        None => format!("run {}: {}", run.id, run.status.as_str()),
    });
    AutomationDelivery {
        automation_id: run.rule_id.clone(),
        event_id: run.event_id,
        status,
        attempts: run.attempts,
        http_status: None,
        response,
        error: run.error.clone().or_else(|| run.failure_reason.clone()),
        decided_at: run.created_at.clone(),
        delivered_at: run.started_at.clone(),
    }
}

fn no_rule(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!(
            "No automation '{id}'. `loopline automation list` shows the automations there are."
        ),
    )
}

impl Engine {
    /// `automation add --do start-pipeline`: a retrain rule with the automation's name.
    pub(crate) async fn add_start_pipeline(
        &self,
        req: &AutomationRequest,
    ) -> Result<Automation, ApiError> {
        let AutomationAction::StartPipeline {
            pipeline,
            params,
            overlap,
            start_time_limit_secs,
            dataset,
        } = &req.action
        else {
            return Err(ApiError::internal("not a start-pipeline automation"));
        };
        let FireMode::Every { n, counter } = req.trigger.fire else {
            return Err(ApiError::internal("checked by validate"));
        };
        let project_id = req.trigger.project_id.ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidArgument,
                "A start-pipeline automation counts one project's annotations: give it with --project P.",
            )
        })?;
        if let Some(dataset) = dataset {
            self.check_dataset_source(dataset, &req.trigger.source_id, project_id)
                .await?;
        }
        let rule = self
            .add_rule(RuleRequest {
                source_id: req.trigger.source_id.clone(),
                project_id,
                every: n,
                pipeline: pipeline.clone(),
                params: params.clone(),
                counter,
                overlap: *overlap,
                dry_run: req.dry_run,
                start_time_limit_secs: *start_time_limit_secs,
                start_count: req.start_count,
                name: Some(req.name.clone()),
                dataset_automation: dataset.clone(),
                even_if_shared: req.even_if_shared,
            })
            .await?;
        Ok(automation_of_rule(&rule, 0))
    }

    /// The dataset-version automation a start-pipeline automation trains on: one of the
    /// same source and project, or the runs would train on another project's annotations.
    async fn check_dataset_source(
        &self,
        dataset: &str,
        source_id: &str,
        project_id: i64,
    ) -> Result<(), ApiError> {
        let invalid = |m: String| ApiError::new(ErrorCode::InvalidArgument, m);
        let a = self.store.automation(dataset).await.map_err(|_| {
            invalid(format!("--dataset {dataset}: no such automation. `loopline automation list` shows the dataset-version ones."))
        })?;
        if !matches!(a.action, AutomationAction::DatasetVersion { .. }) {
            return Err(invalid(format!(
                "--dataset {dataset}: '{}' does not make dataset versions ({}). Name a dataset-version automation.",
                a.name,
                a.action.summary()
            )));
        }
        if a.trigger.source_id != source_id || a.trigger.project_id != Some(project_id) {
            return Err(invalid(format!(
                "--dataset {dataset}: '{}' freezes another source's or project's annotations; the runs would train on those. Name a dataset-version automation of project {project_id}.",
                a.name
            )));
        }
        Ok(())
    }

    /// Every rule as an automation, with how many runs it decided.
    pub(crate) async fn rules_as_automations(&self) -> Result<Vec<Automation>, ApiError> {
        let mut out = Vec::new();
        for rule in self.store.list_rules().await? {
            let fired = self.store.runs_of_rule(&rule.id, i64::MAX).await?.len() as i64;
            out.push(automation_of_rule(&rule, fired));
        }
        Ok(out)
    }

    pub(crate) async fn rule_automation_detail(
        &self,
        id: &str,
        limit: i64,
    ) -> Result<loopline_core::AutomationDetail, ApiError> {
        let rule = self.store.rule(id).await.map_err(|_| no_rule(id))?;
        let runs = self.store.runs_of_rule(id, i64::MAX).await?;
        Ok(loopline_core::AutomationDetail {
            automation: automation_of_rule(&rule, runs.len() as i64),
            deliveries: runs
                .iter()
                .take(limit.max(0) as usize)
                .map(delivery_of_run)
                .collect(),
        })
    }

    pub(crate) async fn pause_rule(&self, id: &str, paused: bool) -> Result<Automation, ApiError> {
        self.store.rule(id).await.map_err(|_| no_rule(id))?;
        let rule = self.store.set_rule_paused(id, paused).await?;
        let fired = self.store.runs_of_rule(id, i64::MAX).await?.len() as i64;
        self.runs_changed();
        Ok(automation_of_rule(&rule, fired))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_and_other_automations_are_told_apart_by_id() {
        assert!(is_rule_id("rule_0a1b2c"));
        assert!(!is_rule_id("auto_0a1b2c"));
    }
}
