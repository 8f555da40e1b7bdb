//! The automations API: add, list, show, pause, resume and remove, for the page and
//! `loopline automation`. Judging is `automation_eval.rs`; delivering,
//! `automation_delivery.rs`.

use loopline_core::{
    ApiError, Automation, AutomationAction, AutomationDetail, AutomationRequest, ErrorCode,
    FireMode,
};

use crate::automation_rules::is_rule_id;
use crate::Engine;

/// Deliveries `automation show` lists, newest first.
const SHOWN_DELIVERIES: i64 = 50;

fn invalid(message: String) -> ApiError {
    ApiError::new(ErrorCode::InvalidArgument, message)
}

impl Engine {
    /// Checks the request against what exists (the source, the secrets it names, where an
    /// "every N" project's counter is now), then stores it. It judges events from now on.
    pub async fn add_automation(&self, mut req: AutomationRequest) -> Result<Automation, ApiError> {
        req.validate()?;
        if let AutomationAction::StartPipeline { .. } = req.action {
            return self.add_start_pipeline(&req).await;
        }
        self.resolve_dataset_target(&mut req.action).await?;
        let now = self.clock.now_ms();
        self.store.source(&req.trigger.source_id, now).await?;
        let secret = match &req.action {
            AutomationAction::Forward { secret_name, .. } => secret_name.as_deref(),
            AutomationAction::Notify {
                slack_url_secret, ..
            } => slack_url_secret.as_deref(),
            AutomationAction::DatasetVersion { .. } | AutomationAction::StartPipeline { .. } => {
                None
            }
        };
        if let Some(name) = secret {
            let Some(value) = self.secret(name).await? else {
                return Err(invalid(format!(
                    "There is no secret '{name}'. Store it first with `loopline secret set {name}` \
                     (the value is read from stdin), then add the automation."
                )));
            };
            match req.action {
                AutomationAction::Forward { .. } => {
                    loopline_cloud::standard_webhooks::secret_key(value.expose())?;
                }
                AutomationAction::Notify { .. } => {
                    if !crate::automation_notify::is_webhook_url(value.expose()) {
                        // Said without the value: it is a credential.
                        return Err(invalid(format!(
                            "The secret '{name}' does not hold an http(s) URL. Store the Slack \
                             incoming webhook's URL with `loopline secret set {name}` (read from \
                             stdin), then add the automation."
                        )));
                    }
                }
                // They name no secret, so this is never reached.
                AutomationAction::DatasetVersion { .. }
                | AutomationAction::StartPipeline { .. } => {}
            }
        }
        let start = match req.trigger.fire {
            FireMode::Each => None,
            FireMode::Every { n, counter } => {
                let project = req.trigger.project_id.ok_or_else(|| {
                    invalid(
                        "--every counts one project's annotations: give it with --project P."
                            .into(),
                    )
                })?;
                // From where the project is now, so its existing annotations do not fire at once.
                let count = self
                    .given_or_starting_count(req.start_count, project, counter)
                    .await?;
                count.map(|c| (c, c.div_euclid(n)))
            }
        };
        let mut id = [0u8; 6];
        self.entropy.fill(&mut id);
        let id = format!(
            "auto_{}",
            id.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let created = self.store.insert_automation(&id, &req, start, now).await?;
        self.runs_changed();
        Ok(created)
    }

    /// Every automation: the start-a-pipeline ones (the retrain rules) first, as they are
    /// listed by `loopline rule list`, then the others in the order they were added.
    pub async fn list_automations(&self) -> Result<Vec<Automation>, ApiError> {
        let mut all = self.rules_as_automations().await?;
        all.extend(self.store.list_automations().await?);
        Ok(all)
    }

    pub async fn automation_detail(&self, id: &str) -> Result<AutomationDetail, ApiError> {
        if is_rule_id(id) {
            return self.rule_automation_detail(id, SHOWN_DELIVERIES).await;
        }
        Ok(AutomationDetail {
            automation: self.store.automation(id).await?,
            deliveries: self
                .store
                .automation_deliveries(id, SHOWN_DELIVERIES)
                .await?,
        })
    }

    pub async fn pause_automation(&self, id: &str, paused: bool) -> Result<Automation, ApiError> {
        if is_rule_id(id) {
            return self.pause_rule(id, paused).await;
        }
        let a = self.store.set_automation_paused(id, paused).await?;
        self.runs_changed();
        Ok(a)
    }

    pub async fn remove_automation(&self, id: &str) -> Result<(), ApiError> {
        if is_rule_id(id) {
            return self.remove_rule(id).await;
        }
        if !self
            .store
            .delete_automation(id, self.clock.now_ms())
            .await?
        {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("No automation '{id}'. `loopline automation list` shows the automations there are."),
            ));
        }
        self.runs_changed();
        Ok(())
    }
}
