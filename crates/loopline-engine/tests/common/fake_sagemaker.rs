//! SageMaker's pipeline definitions in memory, for the training setup's fast tests: stored
//! as sent (like moto), with switches for a role that cannot be assumed yet and a quota.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use loopline_cloud::pipeline_definitions::{PipelineDefinitions, PipelineInfo, QuotaCheck};
use loopline_cloud::sagemaker::CallError;
use loopline_core::{ApiError, ErrorCode};

pub struct FakeSageMaker {
    pub pipelines: Mutex<HashMap<String, PipelineInfo>>,
    pub creates: AtomicUsize,
    pub updates: AtomicUsize,
    /// Answers for the next create or update calls, before one succeeds.
    pub failures: Mutex<VecDeque<CallError>>,
    pub quota: Mutex<QuotaCheck>,
}

impl Default for FakeSageMaker {
    fn default() -> Self {
        FakeSageMaker {
            pipelines: Mutex::default(),
            creates: AtomicUsize::new(0),
            updates: AtomicUsize::new(0),
            failures: Mutex::default(),
            quota: Mutex::new(QuotaCheck::Skipped {
                reason: "the fake has no Service Quotas".into(),
            }),
        }
    }
}

pub fn cannot_assume() -> CallError {
    CallError {
        error: ApiError::new(
            ErrorCode::AwsError,
            "Unable to assume role arn:aws:iam::123456789012:role/New. Please ensure the role exists and allows principal 'sagemaker.amazonaws.com' to assume the role. (HTTP 400)",
        ),
        retryable: false,
        status: Some(400),
        aws_error: true,
    }
}

impl FakeSageMaker {
    pub fn definition(&self, name: &str) -> serde_json::Value {
        serde_json::from_str(&self.pipelines.lock().unwrap()[name].definition).unwrap()
    }

    pub fn writes(&self) -> usize {
        self.creates.load(Ordering::SeqCst) + self.updates.load(Ordering::SeqCst)
    }

    fn fail_next(&self) -> Result<(), CallError> {
        match self.failures.lock().unwrap().pop_front() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl PipelineDefinitions for FakeSageMaker {
    async fn describe_pipeline(&self, name: &str) -> Result<Option<PipelineInfo>, CallError> {
        Ok(self.pipelines.lock().unwrap().get(name).cloned())
    }

    async fn create_pipeline(
        &self,
        name: &str,
        definition: &str,
        role_arn: &str,
        _description: &str,
        token: &str,
    ) -> Result<String, CallError> {
        assert!(
            (32..=128).contains(&token.len()),
            "ClientRequestToken is 32 to 128 characters"
        );
        self.fail_next()?;
        self.creates.fetch_add(1, Ordering::SeqCst);
        let arn = format!(
            "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/{}",
            name.to_lowercase()
        );
        self.pipelines.lock().unwrap().insert(
            name.into(),
            PipelineInfo {
                arn: arn.clone(),
                definition: definition.into(),
                role_arn: Some(role_arn.into()),
            },
        );
        Ok(arn)
    }

    async fn update_pipeline(
        &self,
        name: &str,
        definition: &str,
        role_arn: &str,
        _description: &str,
    ) -> Result<String, CallError> {
        self.fail_next()?;
        self.updates.fetch_add(1, Ordering::SeqCst);
        let mut all = self.pipelines.lock().unwrap();
        let p = all.get_mut(name).expect("update of a pipeline that exists");
        p.definition = definition.into();
        p.role_arn = Some(role_arn.into());
        Ok(p.arn.clone())
    }

    async fn training_quota(&self, _instance_type: &str) -> QuotaCheck {
        self.quota.lock().unwrap().clone()
    }
}
