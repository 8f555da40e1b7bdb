//! Retrain rules as the user manages them (`loopline rule add|list|remove`, and the app),
//! runs as the user sees them (`loopline runs list|show|retry`), and registering
//! Loopline's webhook on a Label Studio project (`loopline label-studio hook`).

use loopline_cloud::label_studio_hooks::HookChange;
use loopline_core::{
    ApiError, Counter, ErrorCode, HookRegistration, RetrainRule, RuleHistory, RuleRequest, Run,
    SourceKind,
};
use loopline_store::NewRule;

use crate::Engine;

/// Placeholders a parameter value may use.
pub const PARAM_PLACEHOLDERS: &[&str] = &[
    "{count}",
    "{useful_annotation_number}",
    "{total_annotations_number}",
    "{project_id}",
    "{event_id}",
    "{bucket}",
];

fn invalid(message: String) -> ApiError {
    ApiError::new(ErrorCode::InvalidArgument, message)
}

impl Engine {
    pub async fn add_rule(&self, mut req: RuleRequest) -> Result<RetrainRule, ApiError> {
        let source = self
            .store
            .source(&req.source_id, self.clock.now_ms())
            .await?;
        if source.kind != SourceKind::LabelStudio {
            return Err(invalid(format!(
                "Source '{}' is a {} source; retrain rules count Label Studio annotations. Use a label-studio source.",
                source.name,
                source.kind.as_str()
            )));
        }
        if req.every < 1 {
            return Err(invalid("--every must be 1 or more (e.g. 16).".into()));
        }
        if req.project_id < 1 {
            return Err(invalid("--project is the project's number in Label Studio (its URL shows it: /projects/7/).".into()));
        }
        let pipeline = req.pipeline.trim().to_string();
        if pipeline.is_empty() || pipeline.len() > 256 {
            return Err(invalid(
                "--pipeline needs the SageMaker pipeline's name or ARN.".into(),
            ));
        }
        for p in &req.params {
            if p.name.trim().is_empty() {
                return Err(invalid(
                    "A --param needs a name: --param NAME=VALUE.".into(),
                ));
            }
            if let Some(bad) = unknown_placeholder(&p.value) {
                return Err(invalid(format!(
                    "Parameter {} uses {bad}, which Loopline cannot fill in. Use one of {}.",
                    p.name,
                    PARAM_PLACEHOLDERS.join(", ")
                )));
            }
        }
        if req.even_if_shared != Some(true) {
            self.check_project_not_shared(&req.source_id, req.project_id)
                .await?;
        }
        // Start from where the project is now, so existing annotations do not fire at once.
        // Without Label Studio's answer the start is unknown, and guessing 0 would fire on
        // the project's whole history at the first webhook: ask the user instead.
        let count = self
            .given_or_starting_count(req.start_count, req.project_id, req.counter)
            .await?;
        let mut id = [0u8; 6];
        self.entropy.fill(&mut id);
        req.pipeline = pipeline;
        req.start_time_limit_secs = req.start_time_limit_secs.max(10);
        let rule = NewRule {
            id: format!(
                "rule_{}",
                id.iter().map(|b| format!("{b:02x}")).collect::<String>()
            ),
            rule: &req,
            count,
            fired_bucket: count.map(|c| c / req.every).unwrap_or(0),
        };
        let created = self.store.insert_rule(&rule, self.clock.now_ms()).await?;
        self.runs_changed();
        Ok(created)
    }

    /// The project's counter as Label Studio reports it now. `None` when Label Studio
    /// answers but does not report that counter (then the first webhook carries it).
    /// The count a counting rule or automation starts from: the one the user gave
    /// (`--start-count`), else Label Studio's (`starting_count`).
    pub(crate) async fn given_or_starting_count(
        &self,
        given: Option<i64>,
        project: i64,
        counter: Counter,
    ) -> Result<Option<i64>, ApiError> {
        match given {
            Some(c) if c < 0 => Err(invalid(
                "--start-count is the project's annotation count now: 0 or more.".into(),
            )),
            Some(c) => Ok(Some(c)),
            None => self.starting_count(project, counter).await,
        }
    }

    pub(crate) async fn starting_count(
        &self,
        project: i64,
        counter: Counter,
    ) -> Result<Option<i64>, ApiError> {
        let unknown = |why: String| {
            ApiError::new(
                ErrorCode::StartCountUnknown,
                format!("Loopline could not ask Label Studio how many annotations project {project} has ({why}), so it cannot tell where the rule starts: counting from 0 would fire at once on the annotations the project already has. Connect Label Studio (`loopline connect label-studio`) and try again, or give the project's current count yourself with --start-count N (0 for a new project)."),
            )
        };
        let ls = self.label_studio().await.map_err(|e| match e.code {
            ErrorCode::NotConnected => unknown("Loopline is not connected to it yet".into()),
            _ => unknown(e.message),
        })?;
        match ls.project_counts(project).await {
            Ok((useful, total)) => Ok(match counter {
                Counter::Useful => useful,
                Counter::Total => total,
            }),
            Err(e) if e.code == ErrorCode::NotFound => Err(e),
            Err(e) => Err(unknown(e.message)),
        }
    }

    pub async fn list_rules(&self) -> Result<Vec<RetrainRule>, ApiError> {
        self.store.list_rules().await
    }

    pub async fn remove_rule(&self, id: &str) -> Result<(), ApiError> {
        if !self.store.delete_rule(id).await? {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("No rule '{id}'. `loopline rule list` shows the rules there are."),
            ));
        }
        self.runs_changed();
        Ok(())
    }

    /// The chart's data: the counter over time and the runs, for one rule.
    pub async fn rule_history(&self, id: &str) -> Result<RuleHistory, ApiError> {
        let rule = self.store.rule(id).await?;
        let points = self.store.rule_points(&rule, 2000).await?;
        let runs = self.store.runs_of_rule(id, 200).await?;
        Ok(RuleHistory { rule, points, runs })
    }

    pub async fn list_runs(&self, limit: i64) -> Result<Vec<Run>, ApiError> {
        self.store.list_runs(limit.clamp(1, 1000)).await
    }

    pub async fn run(&self, id: i64) -> Result<Run, ApiError> {
        self.store.run(id).await
    }

    /// "Retry now": a run whose start failed is due again at once, with a fresh time limit.
    pub async fn retry_run(&self, id: i64) -> Result<Run, ApiError> {
        let run = self.store.run(id).await?;
        let limit = self
            .store
            .rule(&run.rule_id)
            .await
            .map(|r| r.start_time_limit_secs)
            .unwrap_or(900);
        let now = self.clock.now_ms();
        let run = self.store.retry_run(id, now, now + limit * 1000).await?;
        self.runs_changed();
        Ok(run)
    }

    /// Registers Loopline's webhook on a Label Studio project (or updates it): the source's
    /// hook URL under `public_url`, its token in the `X-Loopline-Token` header.
    pub async fn label_studio_hook(
        &self,
        source_id: &str,
        project_id: i64,
        public_url: &str,
    ) -> Result<HookRegistration, ApiError> {
        let source = self.store.source(source_id, self.clock.now_ms()).await?;
        if source.kind != SourceKind::LabelStudio {
            return Err(invalid(format!(
                "Source '{}' is not a label-studio source.",
                source.name
            )));
        }
        let base = public_url.trim().trim_end_matches('/');
        let parsed = reqwest::Url::parse(base).map_err(|_| {
            invalid(format!("'{base}' is not a URL. Give the address Label Studio can reach Loopline at, e.g. https://abc.tunnel.example or http://127.0.0.1:8787."))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid(format!(
                "'{base}' must start with http:// or https://."
            )));
        }
        let url = format!("{base}{}", source.hook_path);
        let token = self.source_secret(source_id).await?;
        let ls = self.label_studio().await?;
        let hook = ls
            .ensure_hook(project_id, &url, &source.hook_path, &token)
            .await?;
        self.remember_hook(crate::hook_watch::Registered {
            source_id: source_id.to_string(),
            project_id,
            webhook_id: hook.id,
            url: hook.url.clone(),
        })
        .await?;
        let change = match hook.change {
            HookChange::Created => "created",
            HookChange::Updated => "updated",
            HookChange::Reactivated => "reactivated",
            HookChange::Unchanged => "unchanged",
        };
        // The first run's webhook step is done however the hook was registered.
        self.record_webhook_step(project_id, hook.id, &hook.url, change)
            .await?;
        Ok(HookRegistration {
            webhook_id: hook.id,
            url: hook.url,
            change: change.to_string(),
        })
    }
}

fn unknown_placeholder(value: &str) -> Option<String> {
    let mut rest = value;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}')? + start;
        let found = &rest[start..=end];
        if !PARAM_PLACEHOLDERS.contains(&found) {
            return Some(found.to_string());
        }
        rest = &rest[end + 1..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::unknown_placeholder;

    #[test]
    fn placeholders_are_checked() {
        assert_eq!(unknown_placeholder("{count}"), None);
        assert_eq!(unknown_placeholder("s3://b/{project_id}/x"), None);
        assert_eq!(unknown_placeholder("{counts}").as_deref(), Some("{counts}"));
        assert_eq!(unknown_placeholder("plain"), None);
    }
}
