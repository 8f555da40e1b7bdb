//! The pipeline service the retrain loop calls, as a trait: SageMaker Pipelines in
//! production, a fake in the engine's fast tests (rule passes, overlap policies, reconcile
//! after a crash, deadlines and retries, without a network).

use async_trait::async_trait;
use loopline_core::{PipelineParam, RunStep};

use crate::sagemaker::{CallError, ExecutionState, ListedExecution, SageMaker};

/// What starting an execution returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedExecution {
    pub arn: String,
    /// The region it runs in, for the console link.
    pub region: String,
}

#[async_trait]
pub trait PipelineService: Send + Sync {
    /// StartPipelineExecution. `token` makes the call idempotent where the service honours it.
    async fn start(
        &self,
        pipeline: &str,
        token: &str,
        params: &[PipelineParam],
        description: &str,
    ) -> Result<StartedExecution, CallError>;

    /// The pipeline's recent executions, newest first: how a start whose outcome was lost
    /// in a crash is found again (by its display name).
    async fn recent_executions(&self, pipeline: &str) -> Result<Vec<ListedExecution>, CallError>;

    /// DescribePipelineExecution.
    async fn describe(&self, arn: &str) -> Result<ExecutionState, CallError>;

    /// ListPipelineExecutionSteps; `Ok(None)` where the service does not offer it.
    async fn steps(&self, arn: &str) -> Result<Option<Vec<RunStep>>, CallError>;

    /// The region executions start in.
    fn region(&self) -> String;
}

#[async_trait]
impl PipelineService for SageMaker {
    async fn start(
        &self,
        pipeline: &str,
        token: &str,
        params: &[PipelineParam],
        description: &str,
    ) -> Result<StartedExecution, CallError> {
        let arn = SageMaker::start(self, pipeline, token, params, description).await?;
        Ok(StartedExecution {
            arn,
            region: self.region_name().to_string(),
        })
    }

    async fn recent_executions(&self, pipeline: &str) -> Result<Vec<ListedExecution>, CallError> {
        SageMaker::recent_executions(self, pipeline).await
    }

    async fn describe(&self, arn: &str) -> Result<ExecutionState, CallError> {
        SageMaker::describe(self, arn).await
    }

    async fn steps(&self, arn: &str) -> Result<Option<Vec<RunStep>>, CallError> {
        SageMaker::steps(self, arn).await
    }

    fn region(&self) -> String {
        self.region_name().to_string()
    }
}
