//! SageMaker's model registry in memory, for the model-version fast tests: groups, versions
//! numbered in their group from 1 (as SageMaker and moto number them), approvals, and a
//! switch that makes the next calls fail (throttling).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;
use loopline_cloud::model_registry::{
    ModelGroup, ModelRegistry, ModelVersionDetail, ModelVersionSummary,
};
use loopline_cloud::sagemaker::CallError;
use loopline_core::{ApiError, ErrorCode};

#[derive(Default)]
pub struct FakeRegistry {
    pub groups: Mutex<HashMap<String, ModelGroup>>,
    /// Oldest first.
    pub versions: Mutex<Vec<ModelVersionDetail>>,
    pub group_creates: Mutex<usize>,
    pub updates: Mutex<Vec<(String, String, Option<String>)>>,
    /// Answers for the next calls of any kind, before one succeeds.
    pub failures: Mutex<VecDeque<CallError>>,
}

impl FakeRegistry {
    /// What a RegisterModel step of `execution` would create in `group`. Returns the ARN.
    pub fn register(
        &self,
        group: &str,
        execution: Option<&str>,
        statistics: Option<&str>,
        approval: &str,
    ) -> String {
        let mut all = self.versions.lock().unwrap();
        let version = all.iter().filter(|v| v.group == group).count() as i64 + 1;
        let arn =
            format!("arn:aws:sagemaker:eu-west-1:123456789012:model-package/{group}/{version}");
        all.push(ModelVersionDetail {
            arn: arn.clone(),
            group: group.to_string(),
            version,
            approval: approval.to_string(),
            approval_note: None,
            description: None,
            created_ms: Some(1_790_000_000_000 + version * 1000),
            generated_by: execution.map(str::to_string),
            statistics_uri: statistics.map(str::to_string),
            model_data_url: None,
        });
        arn
    }

    fn fail_next(&self) -> Result<(), CallError> {
        match self.failures.lock().unwrap().pop_front() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl ModelRegistry for FakeRegistry {
    async fn describe_group(&self, name: &str) -> Result<Option<ModelGroup>, CallError> {
        self.fail_next()?;
        Ok(self.groups.lock().unwrap().get(name).cloned())
    }

    async fn create_group(&self, name: &str, _description: &str) -> Result<String, CallError> {
        self.fail_next()?;
        *self.group_creates.lock().unwrap() += 1;
        let arn = format!(
            "arn:aws:sagemaker:eu-west-1:123456789012:model-package-group/{}",
            name.to_lowercase()
        );
        self.groups.lock().unwrap().insert(
            name.to_string(),
            ModelGroup {
                name: name.to_string(),
                arn: arn.clone(),
                status: "Completed".into(),
            },
        );
        Ok(arn)
    }

    async fn versions(
        &self,
        group: &str,
        approval: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ModelVersionSummary>, CallError> {
        self.fail_next()?;
        Ok(self
            .versions
            .lock()
            .unwrap()
            .iter()
            .rev()
            .filter(|v| v.group == group && approval.is_none_or(|a| v.approval == a))
            .take(limit)
            .map(|v| ModelVersionSummary {
                arn: v.arn.clone(),
                version: v.version,
                approval: v.approval.clone(),
                created_ms: v.created_ms,
            })
            .collect())
    }

    async fn describe_version(&self, arn: &str) -> Result<ModelVersionDetail, CallError> {
        self.fail_next()?;
        self.versions
            .lock()
            .unwrap()
            .iter()
            .find(|v| v.arn == arn)
            .cloned()
            .ok_or_else(|| CallError {
                error: ApiError::new(
                    ErrorCode::AwsError,
                    format!("Model package {arn} not found (HTTP 400)"),
                ),
                retryable: false,
                status: Some(400),
                aws_error: true,
            })
    }

    async fn set_approval(
        &self,
        arn: &str,
        approval: &str,
        note: Option<&str>,
    ) -> Result<(), CallError> {
        self.fail_next()?;
        self.updates.lock().unwrap().push((
            arn.to_string(),
            approval.to_string(),
            note.map(str::to_string),
        ));
        for v in self.versions.lock().unwrap().iter_mut() {
            if v.arn == arn {
                v.approval = approval.to_string();
                v.approval_note = note.map(str::to_string);
            }
        }
        Ok(())
    }
}
