//! Guided setup: the steps behind the Setup page and `loopline setup …`. Each step shows its
//! plan (with the resource it touches), acts only when asked, verifies the result live,
//! and does nothing on a second run when nothing changed. The last outcome of every step
//! is kept, so `setup status` and the Setup page show what exists.

mod cancel;
mod images;
mod job;
mod label_configs;
mod labeling;
mod labeling_storage;
mod loop_check;
mod loop_claim;
mod model_group;
mod pipeline;
mod pipeline_record;
#[cfg(test)]
mod pipeline_schema;
mod pipeline_template;
mod policies;
mod scripts;
mod storage;
mod training;
mod upload;

use std::sync::Arc;

use loopline_cloud::iam::{Iam, Roles};
use loopline_cloud::s3::{ObjectStore, S3};
use loopline_core::{rfc3339_ms, ApiError, SetupReport, SetupStep, StepStatus};

pub(crate) use cancel::{CancelToken, Cancels};
pub(crate) use job::JobSlot;
pub use labeling_storage::{user_name_for as storage_user_name, IMAGE_FILTER};
pub(crate) use loop_claim::PendingCheck;
pub use model_group::group_name_for;
pub use pipeline::ChosenPipeline;
pub use pipeline_template::{DEFAULT_TRAINING_INSTANCE, TEMP_PREFIX};
pub use policies::trust_policy;
pub use training::DEFAULT_ROLE;
pub use upload::ProgressFn;

use crate::Engine;

const STEP_PREFIX: &str = "setup.step.";

/// Every step `setup status` reports, in order, with its title.
pub const STEPS: &[(&str, &str)] = &[
    ("s3.bucket", "Bucket"),
    ("s3.public_access", "Block Public Access"),
    ("s3.layout", "Layout"),
    ("s3.images", "Images"),
    ("iam.role", "Execution role"),
    ("iam.policy", "Permissions"),
    ("sm.scripts", "Pipeline scripts"),
    ("sm.quota", "Training quota"),
    ("sm.model_group", "Model package group"),
    ("sm.pipeline", "Pipeline"),
    ("ls.project", "Labeling project"),
    ("ls.credentials", "Storage credentials"),
    ("ls.source", "Source storage (images)"),
    ("ls.target", "Target storage (annotations)"),
    ("ls.webhook", "Webhook"),
    ("check.loop", "Loop check"),
];

impl Engine {
    /// The S3 client for `region` (or the test's fake, which has one region).
    pub(crate) async fn object_store(
        &self,
        region: &str,
    ) -> Result<Arc<dyn ObjectStore>, ApiError> {
        if let Some(s) = &self.object_store_override {
            return Ok(s.clone());
        }
        Ok(Arc::new(S3::new(self.aws_in(region).await?)?))
    }

    /// IAM for the role setup (or the test's fake).
    pub(crate) async fn roles(&self, region: &str) -> Result<Arc<dyn Roles>, ApiError> {
        if let Some(r) = &self.roles_override {
            return Ok(r.clone());
        }
        Ok(Arc::new(Iam::new(self.aws_in(region).await?)?))
    }

    /// The S3 endpoint Label Studio should use: the app's own when it is not AWS (moto,
    /// MinIO), so both look at the same buckets; `None` for AWS.
    pub(crate) async fn s3_endpoint_for_label_studio(&self, region: &str) -> Option<String> {
        let aws = self.aws_in(region).await.ok()?;
        aws.custom_endpoint()
            .then(|| aws.endpoint_for("S3", String::new()))
            .filter(|e| !e.is_empty())
    }

    /// Keeps the labeling setup's webhook step in step with a registration made elsewhere
    /// (`loopline label-studio hook`, the retrain rule's step in the app).
    pub(crate) async fn record_webhook_step(
        &self,
        project: i64,
        webhook: i64,
        url: &str,
        change: &str,
    ) -> Result<(), ApiError> {
        let status = match change {
            "created" => StepStatus::Created,
            "unchanged" => StepStatus::Unchanged,
            _ => StepStatus::Updated,
        };
        self.record_step(&SetupStep {
            key: "ls.webhook".into(),
            title: "Webhook".into(),
            resource: format!("webhook {webhook} → {url}"),
            status,
            summary: format!("Label Studio project {project} sends annotation events to {url} with the source's token header ({change})."),
            detail: None,
            error: None,
            at: Some(self.now_rfc3339()),
        })
        .await
    }

    async fn record_step(&self, step: &SetupStep) -> Result<(), ApiError> {
        let json = serde_json::to_string(step).map_err(|e| ApiError::internal(e.to_string()))?;
        self.store
            .set_setting(&format!("{STEP_PREFIX}{}", step.key), &json)
            .await
    }

    /// `loopline setup status`: every step, as it last ended, or "to do".
    pub async fn setup_status(&self) -> Result<Vec<SetupStep>, ApiError> {
        let mut out = Vec::new();
        for (key, title) in STEPS {
            let saved = self
                .store
                .setting(&format!("{STEP_PREFIX}{key}"))
                .await?
                .and_then(|j| serde_json::from_str::<SetupStep>(&j).ok());
            out.push(saved.unwrap_or_else(|| SetupStep {
                key: key.to_string(),
                title: title.to_string(),
                resource: String::new(),
                status: StepStatus::Planned,
                summary: "To do.".into(),
                detail: None,
                error: None,
                at: None,
            }));
        }
        Ok(out)
    }

    /// When the user first opened Setup (ms), kept from the first call on: the first run's
    /// "from the first screen to loop verified" is measured from here.
    pub async fn setup_started(&self) -> Result<i64, ApiError> {
        let now = self.clock.now_ms().to_string();
        let kept = self
            .store
            .setting_or_insert("setup.started_at", &now)
            .await?;
        Ok(kept.parse().unwrap_or_else(|_| self.clock.now_ms()))
    }

    fn now_rfc3339(&self) -> String {
        rfc3339_ms(self.clock.now_ms())
    }
}

/// One setup run's steps: each is stamped with when it ran (a plan's are not) and kept for
/// `setup status`, unless it is only planned.
pub(crate) struct StepLog<'a> {
    pub engine: &'a Engine,
    pub plan: bool,
    pub steps: Vec<SetupStep>,
    /// Set for work the user may cancel (see `cancel`).
    pub cancel: Option<Arc<CancelToken>>,
}

impl<'a> StepLog<'a> {
    pub fn new(engine: &'a Engine, plan: bool) -> StepLog<'a> {
        StepLog {
            engine,
            plan,
            steps: Vec::new(),
            cancel: None,
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(|c| c.is_cancelled())
    }

    /// Waits `d` between tries, or less when the user cancels (`during` says what it was).
    pub async fn pause(&self, d: std::time::Duration, during: &str) -> Result<(), ApiError> {
        match &self.cancel {
            Some(c) => c.pause(d, during).await,
            None => {
                tokio::time::sleep(d).await;
                Ok(())
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn step(
        &self,
        key: &str,
        title: &str,
        resource: impl Into<String>,
        status: StepStatus,
        summary: String,
        detail: Option<String>,
        error: Option<ApiError>,
    ) -> SetupStep {
        SetupStep {
            key: key.into(),
            title: title.into(),
            resource: resource.into(),
            status,
            summary,
            detail,
            error,
            at: (!self.plan).then(|| self.engine.now_rfc3339()),
        }
    }

    /// A step that failed with `e`, its message as the summary.
    pub fn failed(
        &self,
        key: &str,
        title: &str,
        resource: impl Into<String>,
        e: ApiError,
    ) -> SetupStep {
        self.step(
            key,
            title,
            resource,
            StepStatus::Failed,
            e.message.clone(),
            None,
            Some(e),
        )
    }

    /// A step with a summary and nothing more to show.
    pub fn plain(
        &self,
        key: &str,
        title: &str,
        resource: impl Into<String>,
        status: StepStatus,
        summary: String,
    ) -> SetupStep {
        self.step(key, title, resource, status, summary, None, None)
    }

    pub async fn push(&mut self, step: SetupStep) -> Result<(), ApiError> {
        if !self.plan {
            self.engine.record_step(&step).await?;
        }
        self.steps.push(step);
        Ok(())
    }

    /// Changes a step already pushed, once a later one decided how it ended, and keeps it
    /// again.
    pub async fn amend(
        &mut self,
        key: &str,
        change: impl FnOnce(&mut SetupStep),
    ) -> Result<(), ApiError> {
        let Some(step) = self.steps.iter_mut().rev().find(|s| s.key == key) else {
            return Ok(());
        };
        change(step);
        let step = step.clone();
        if !self.plan {
            self.engine.record_step(&step).await?;
        }
        Ok(())
    }

    /// A step that cannot run before an earlier one succeeds: shown, not kept.
    pub fn waits(&mut self, key: &str, title: &str, resource: impl Into<String>, on: &str) {
        let step = self.step(
            key,
            title,
            resource,
            StepStatus::Skipped,
            format!("Waits for {on}."),
            None,
            None,
        );
        self.steps.push(step);
    }

    pub fn report(self, section: &str) -> SetupReport {
        SetupReport {
            section: section.into(),
            planned: self.plan,
            steps: self.steps,
        }
    }
}
