//! A pipeline service in memory, for the retrain loop's fast tests. Like moto, it does not
//! deduplicate on the token, so a second start of one run shows as a second execution.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use loopline_cloud::pipelines::{PipelineService, StartedExecution};
use loopline_cloud::sagemaker::{display_name_for, CallError, ExecutionState, ListedExecution};
use loopline_core::{ApiError, ErrorCode, PipelineParam, RunStatus, RunStep};

#[derive(Debug, Clone)]
pub struct FakeExecution {
    pub arn: String,
    pub pipeline: String,
    pub token: String,
    pub display_name: String,
    pub params: Vec<PipelineParam>,
    pub status: RunStatus,
}

#[derive(Default)]
pub struct FakePipelines {
    pub executions: Mutex<Vec<FakeExecution>>,
    /// Answers for the next start calls, before any execution is created.
    pub start_failures: Mutex<VecDeque<CallError>>,
    /// When set, every start fails with this.
    pub always_fail: Mutex<Option<CallError>>,
    /// When set, a start waits for a permit before it does anything (a call in flight),
    /// after telling `entered`.
    pub hold: Mutex<Option<std::sync::Arc<tokio::sync::Semaphore>>>,
    pub entered: tokio::sync::Notify,
}

pub fn throttled() -> CallError {
    CallError {
        error: ApiError::new(ErrorCode::AwsThrottled, "Rate exceeded."),
        retryable: true,
        status: Some(400),
        aws_error: true,
    }
}

pub fn no_such_pipeline() -> CallError {
    CallError {
        error: ApiError::new(ErrorCode::AwsError, "Pipeline 'train' does not exist."),
        retryable: false,
        status: Some(400),
        aws_error: true,
    }
}

impl FakePipelines {
    pub fn starts(&self) -> Vec<FakeExecution> {
        self.executions.lock().unwrap().clone()
    }

    pub fn set_status(&self, arn: &str, status: RunStatus) {
        for e in self.executions.lock().unwrap().iter_mut() {
            if e.arn == arn {
                e.status = status;
            }
        }
    }

    /// An execution as if another process had started it for `token` before it crashed.
    pub fn add_started(&self, pipeline: &str, token: &str) -> String {
        let mut all = self.executions.lock().unwrap();
        let arn = format!(
            "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/{pipeline}/execution/x{}",
            all.len()
        );
        all.push(FakeExecution {
            arn: arn.clone(),
            pipeline: pipeline.to_string(),
            token: token.to_string(),
            display_name: display_name_for(token),
            params: Vec::new(),
            status: RunStatus::Executing,
        });
        arn
    }
}

#[async_trait]
impl PipelineService for FakePipelines {
    async fn start(
        &self,
        pipeline: &str,
        token: &str,
        params: &[PipelineParam],
        _description: &str,
    ) -> Result<StartedExecution, CallError> {
        let hold = self.hold.lock().unwrap().clone();
        if let Some(gate) = hold {
            self.entered.notify_one();
            let _permit = gate.acquire().await;
        }
        if let Some(e) = self.always_fail.lock().unwrap().clone() {
            return Err(e);
        }
        if let Some(e) = self.start_failures.lock().unwrap().pop_front() {
            return Err(e);
        }
        let arn = self.add_started(pipeline, token);
        if let Some(e) = self.executions.lock().unwrap().last_mut() {
            e.params = params.to_vec();
        }
        Ok(StartedExecution {
            arn,
            region: "eu-west-1".into(),
        })
    }

    async fn recent_executions(&self, pipeline: &str) -> Result<Vec<ListedExecution>, CallError> {
        Ok(self
            .executions
            .lock()
            .unwrap()
            .iter()
            .rev()
            .filter(|e| e.pipeline == pipeline)
            .map(|e| ListedExecution {
                arn: e.arn.clone(),
                display_name: Some(e.display_name.clone()),
            })
            .collect())
    }

    async fn describe(&self, arn: &str) -> Result<ExecutionState, CallError> {
        let all = self.executions.lock().unwrap();
        let e = all
            .iter()
            .find(|e| e.arn == arn)
            .expect("a known execution");
        Ok(ExecutionState {
            status: e.status,
            failure_reason: (e.status == RunStatus::Failed).then(|| "AlgorithmError".into()),
        })
    }

    async fn steps(&self, _arn: &str) -> Result<Option<Vec<RunStep>>, CallError> {
        Ok(None)
    }

    fn region(&self) -> String {
        "eu-west-1".into()
    }
}
