//! The three SageMaker Pipelines operations the retrain loop needs, called on SageMaker's
//! JSON API (`X-Amz-Target: SageMaker.*`) and signed with the AWS SDK's SigV4 signer, with
//! the credentials and endpoint the SDK resolved. Every failure says whether retrying can
//! help, so the outbox worker can back off on throttling and outages and give up at once on
//! a wrong pipeline name.

use std::time::Duration;

use loopline_core::{ApiError, ErrorCode, PipelineParam, RunStatus, RunStep};
use serde_json::{json, Value};

use crate::aws::{classify, Aws, Failure, FailureKind, Signed};

/// A failed call, and whether trying again later can succeed.
#[derive(Debug, Clone)]
pub struct CallError {
    pub error: ApiError,
    pub retryable: bool,
    /// The HTTP status, when an answer came; and whether it was an AWS error document (a
    /// bare 500 page is what an endpoint without the operation sends).
    pub status: Option<u16>,
    pub aws_error: bool,
}

impl From<ApiError> for CallError {
    fn from(error: ApiError) -> Self {
        let retryable = matches!(
            error.code,
            ErrorCode::AwsThrottled | ErrorCode::AwsUnavailable
        );
        CallError {
            error,
            retryable,
            status: None,
            aws_error: false,
        }
    }
}

/// What DescribePipelineExecution says.
#[derive(Debug, Clone)]
pub struct ExecutionState {
    pub status: RunStatus,
    pub failure_reason: Option<String>,
}

/// An execution as ListPipelineExecutions lists it.
#[derive(Debug, Clone)]
pub struct ListedExecution {
    pub arn: String,
    pub display_name: Option<String>,
}

pub struct SageMaker {
    aws: Aws,
    http: reqwest::Client,
    endpoint: String,
}

/// The display name an execution gets from its idempotency token: how a run whose outcome
/// was lost in a crash is found again, even on an endpoint that ignores the token.
pub fn display_name_for(token: &str) -> String {
    format!("loopline-{}", &token[..token.len().min(40)])
}

impl SageMaker {
    pub fn new(aws: Aws) -> Result<SageMaker, ApiError> {
        let endpoint = aws.endpoint_for(
            "SAGEMAKER",
            format!("https://api.sagemaker.{}.amazonaws.com", aws.region()),
        );
        // One client for the process (building one loads the TLS roots, which costs more
        // than the call), with a shorter timeout than uploads need.
        static HTTP: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
        let http = crate::shared_client::shared_client(&HTTP, |b| {
            b.connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(30))
        })?;
        Ok(SageMaker {
            aws,
            http,
            endpoint: endpoint + "/",
        })
    }

    /// The region calls go to.
    pub fn region_name(&self) -> &str {
        self.aws.region()
    }

    pub(crate) fn aws(&self) -> &Aws {
        &self.aws
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// StartPipelineExecution. `token` makes the call idempotent on AWS.
    pub async fn start(
        &self,
        pipeline: &str,
        token: &str,
        params: &[PipelineParam],
        description: &str,
    ) -> Result<String, CallError> {
        let body = json!({
            "PipelineName": pipeline,
            "ClientRequestToken": token,
            "PipelineExecutionDisplayName": display_name_for(token),
            "PipelineExecutionDescription": description,
            "PipelineParameters": params.iter().map(|p| json!({"Name": p.name, "Value": p.value})).collect::<Vec<_>>(),
        });
        let out = self
            .call("StartPipelineExecution", &body, Some(pipeline))
            .await?;
        out["PipelineExecutionArn"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| CallError {
                error: ApiError::new(
                    ErrorCode::AwsError,
                    "SageMaker started nothing: its answer had no PipelineExecutionArn.",
                ),
                retryable: false,
                status: None,
                aws_error: false,
            })
    }

    pub async fn describe(&self, arn: &str) -> Result<ExecutionState, CallError> {
        let out = self
            .call(
                "DescribePipelineExecution",
                &json!({ "PipelineExecutionArn": arn }),
                None,
            )
            .await?;
        let status = match out["PipelineExecutionStatus"].as_str().unwrap_or("") {
            "Succeeded" => RunStatus::Succeeded,
            "Failed" => RunStatus::Failed,
            "Stopped" => RunStatus::Stopped,
            "Stopping" => RunStatus::Stopping,
            _ => RunStatus::Executing,
        };
        Ok(ExecutionState {
            status,
            failure_reason: out["FailureReason"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        })
    }

    /// ListPipelineExecutionSteps; `Ok(None)` when the endpoint does not offer it (moto).
    pub async fn steps(&self, arn: &str) -> Result<Option<Vec<RunStep>>, CallError> {
        match self
            .call(
                "ListPipelineExecutionSteps",
                &json!({ "PipelineExecutionArn": arn, "SortOrder": "Ascending" }),
                None,
            )
            .await
        {
            Ok(out) => Ok(Some(
                out["PipelineExecutionSteps"]
                    .as_array()
                    .map(|steps| {
                        steps
                            .iter()
                            .map(|s| RunStep {
                                name: s["StepName"].as_str().unwrap_or_default().to_string(),
                                status: s["StepStatus"].as_str().unwrap_or_default().to_string(),
                                failure_reason: s["FailureReason"]
                                    .as_str()
                                    .filter(|r| !r.is_empty())
                                    .map(str::to_string),
                                model_package_arn: s["Metadata"]["RegisterModel"]["Arn"]
                                    .as_str()
                                    .filter(|a| !a.is_empty())
                                    .map(str::to_string),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            )),
            // moto answers a bare HTML 500; services without the operation may say 501.
            Err(e) if e.status == Some(501) || (e.status == Some(500) && !e.aws_error) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The pipeline's most recent executions, newest first.
    pub async fn recent_executions(
        &self,
        pipeline: &str,
    ) -> Result<Vec<ListedExecution>, CallError> {
        let out = self
            .call(
                "ListPipelineExecutions",
                &json!({ "PipelineName": pipeline, "SortBy": "CreationTime", "SortOrder": "Descending", "MaxResults": 100 }),
                Some(pipeline),
            )
            .await?;
        Ok(out["PipelineExecutionSummaries"]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter_map(|e| {
                        Some(ListedExecution {
                            arn: e["PipelineExecutionArn"].as_str()?.to_string(),
                            display_name: e["PipelineExecutionDisplayName"]
                                .as_str()
                                .map(str::to_string),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    pub(crate) async fn call(
        &self,
        operation: &str,
        body: &Value,
        pipeline: Option<&str>,
    ) -> Result<Value, CallError> {
        self.call_or_missing(operation, body, pipeline, false)
            .await
            .map(|v| v.unwrap_or(Value::Null))
    }

    /// Like `call`; with `missing_ok`, a pipeline that does not exist is `Ok(None)`.
    pub(crate) async fn call_or_missing(
        &self,
        operation: &str,
        body: &Value,
        pipeline: Option<&str>,
        missing_ok: bool,
    ) -> Result<Option<Value>, CallError> {
        let payload = serde_json::to_vec(body).map_err(|e| ApiError::internal(e.to_string()))?;
        let answer = self
            .aws
            .send_signed(
                &self.http,
                Signed {
                    service: "sagemaker",
                    method: "POST",
                    url: &self.endpoint,
                    headers: vec![
                        ("content-type".into(), "application/x-amz-json-1.1".into()),
                        ("x-amz-target".into(), format!("SageMaker.{operation}")),
                    ],
                    body: payload.into(),
                },
            )
            .await?;
        let status = answer.status;
        let text = answer.text();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return Ok(Some(value));
        }
        let code = value["__type"]
            .as_str()
            .map(|t| t.rsplit(['#', ':']).next().unwrap_or(t).to_string());
        let message = value["message"]
            .as_str()
            .or_else(|| value["Message"].as_str())
            .map(str::to_string)
            .or_else(|| (!text.trim().is_empty()).then(|| text.chars().take(200).collect()));
        let aws_error = code.is_some();
        // AWS says ResourceNotFound; moto says ValidationException "Could not find pipeline".
        let lower = message.as_deref().unwrap_or("").to_lowercase();
        let missing = code.as_deref() == Some("ResourceNotFound")
            || (code.as_deref() == Some("ValidationException")
                && (lower.contains("could not find pipeline") || lower.contains("does not exist")));
        if missing && missing_ok {
            return Ok(None);
        }
        if let (true, Some(p)) = (missing, pipeline) {
            return Err(CallError {
                status: Some(status),
                aws_error,
                error: ApiError::new(
                    ErrorCode::AwsError,
                    format!(
                        "SageMaker has no pipeline '{p}' in {}. Check the pipeline name (or ARN) and the region in Settings › Credentials.",
                        self.aws.region()
                    ),
                ),
                retryable: false,
            });
        }
        let skew_ms = self.aws.skew_of(&answer);
        let failure = Failure {
            kind: FailureKind::Service { status },
            code: code.clone(),
            message: message.map(|m| format!("{m} (HTTP {status})")),
            chain: String::new(),
            skew_ms,
        };
        let error = classify(&failure, self.aws.context());
        // Anything the server did not finish (5xx) or refused for load can succeed later.
        let retryable = status >= 500
            || matches!(
                error.code,
                ErrorCode::AwsThrottled | ErrorCode::AwsUnavailable
            );
        Err(CallError {
            error,
            retryable,
            status: Some(status),
            aws_error,
        })
    }
}
