//! What the training setup asks of SageMaker, as a trait: read, create and update a
//! pipeline's definition, and the account's quota for a training instance type. SageMaker
//! (with Service Quotas) in production; a fake in the engine's fast tests.

use async_trait::async_trait;
use loopline_core::{ApiError, ErrorCode};
use serde_json::{json, Value};

use crate::aws::Signed;
use crate::sagemaker::{CallError, SageMaker};

/// A pipeline as DescribePipeline shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineInfo {
    pub arn: String,
    /// The definition document, as stored (a JSON string).
    pub definition: String,
    pub role_arn: Option<String>,
}

/// What the quota check found.
#[derive(Debug, Clone, PartialEq)]
pub enum QuotaCheck {
    /// The applied (or default) quota, by its name in Service Quotas.
    Known { name: String, value: f64 },
    /// The check could not run; the reason says why (no Service Quotas on this endpoint, no
    /// permission to read it, no quota by that name).
    Skipped { reason: String },
}

#[async_trait]
pub trait PipelineDefinitions: Send + Sync {
    /// DescribePipeline; `Ok(None)` when there is no pipeline by that name.
    async fn describe_pipeline(&self, name: &str) -> Result<Option<PipelineInfo>, CallError>;

    /// CreatePipeline; `token` makes a repeated call create nothing twice. Returns the ARN.
    async fn create_pipeline(
        &self,
        name: &str,
        definition: &str,
        role_arn: &str,
        description: &str,
        token: &str,
    ) -> Result<String, CallError>;

    /// UpdatePipeline. Returns the ARN.
    async fn update_pipeline(
        &self,
        name: &str,
        definition: &str,
        role_arn: &str,
        description: &str,
    ) -> Result<String, CallError>;

    /// The account's quota for training jobs on `instance_type` in this region.
    async fn training_quota(&self, instance_type: &str) -> QuotaCheck;
}

#[async_trait]
impl PipelineDefinitions for SageMaker {
    async fn describe_pipeline(&self, name: &str) -> Result<Option<PipelineInfo>, CallError> {
        let out = self
            .call_or_missing(
                "DescribePipeline",
                &json!({ "PipelineName": name }),
                Some(name),
                true,
            )
            .await?;
        Ok(out.map(|v| PipelineInfo {
            arn: v["PipelineArn"].as_str().unwrap_or_default().to_string(),
            definition: v["PipelineDefinition"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            role_arn: v["RoleArn"].as_str().map(str::to_string),
        }))
    }

    async fn create_pipeline(
        &self,
        name: &str,
        definition: &str,
        role_arn: &str,
        description: &str,
        token: &str,
    ) -> Result<String, CallError> {
        let out = self
            .call(
                "CreatePipeline",
                &json!({
                    "PipelineName": name,
                    "PipelineDisplayName": name,
                    "PipelineDefinition": definition,
                    "PipelineDescription": description,
                    "RoleArn": role_arn,
                    "ClientRequestToken": token,
                }),
                None,
            )
            .await?;
        Ok(out["PipelineArn"].as_str().unwrap_or_default().to_string())
    }

    async fn update_pipeline(
        &self,
        name: &str,
        definition: &str,
        role_arn: &str,
        description: &str,
    ) -> Result<String, CallError> {
        let out = self
            .call(
                "UpdatePipeline",
                &json!({
                    "PipelineName": name,
                    "PipelineDefinition": definition,
                    "PipelineDescription": description,
                    "RoleArn": role_arn,
                }),
                Some(name),
            )
            .await?;
        Ok(out["PipelineArn"].as_str().unwrap_or_default().to_string())
    }

    async fn training_quota(&self, instance_type: &str) -> QuotaCheck {
        let wanted = format!("{instance_type} for training job usage");
        for operation in ["ListServiceQuotas", "ListAWSDefaultServiceQuotas"] {
            match self.find_quota(operation, &wanted).await {
                Ok(Some(value)) => {
                    return QuotaCheck::Known {
                        name: wanted,
                        value,
                    }
                }
                Ok(None) => continue,
                Err(reason) => return QuotaCheck::Skipped { reason },
            }
        }
        QuotaCheck::Skipped {
            reason: format!("Service Quotas lists no quota named '{wanted}' in {}; check the instance type's name.", self.region_name()),
        }
    }
}

impl SageMaker {
    /// Pages through one Service Quotas listing for SageMaker; `Err` says why the check
    /// cannot be made.
    async fn find_quota(&self, operation: &str, wanted: &str) -> Result<Option<f64>, String> {
        let aws = self.aws();
        let url = aws.endpoint_for(
            "SERVICE_QUOTAS",
            format!("https://servicequotas.{}.amazonaws.com", aws.region()),
        ) + "/";
        let mut token: Option<String> = None;
        // SageMaker has a few hundred quotas: a handful of pages.
        for _ in 0..30 {
            let mut body = json!({ "ServiceCode": "sagemaker", "MaxResults": 100 });
            if let Some(t) = &token {
                body["NextToken"] = json!(t);
            }
            let answer = aws
                .send_signed(
                    self.http(),
                    Signed {
                        service: "servicequotas",
                        method: "POST",
                        url: &url,
                        headers: vec![
                            ("content-type".into(), "application/x-amz-json-1.1".into()),
                            (
                                "x-amz-target".into(),
                                format!("ServiceQuotasV20190624.{operation}"),
                            ),
                        ],
                        body: serde_json::to_vec(&body).unwrap_or_default().into(),
                    },
                )
                .await
                .map_err(|e| skipped_because(&e))?;
            let text = answer.text();
            let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            if !(200..300).contains(&answer.status) {
                let kind = value["__type"].as_str().unwrap_or_default();
                return Err(if aws.custom_endpoint() && !kind.contains("AccessDenied") {
                    "this AWS endpoint has no Service Quotas (a local stand-in such as moto), so the quota was not checked.".to_string()
                } else if kind.contains("AccessDenied") {
                    format!("the credentials may not read quotas (servicequotas:{operation} is not allowed). Add that permission to see whether the account may start this instance type.")
                } else {
                    format!(
                        "Service Quotas answered HTTP {}{}.",
                        answer.status,
                        if kind.is_empty() {
                            String::new()
                        } else {
                            format!(" ({kind})")
                        }
                    )
                });
            }
            if let Some(found) = value["Quotas"].as_array().and_then(|all| {
                all.iter()
                    .find(|q| q["QuotaName"].as_str() == Some(wanted))
                    .and_then(|q| q["Value"].as_f64())
            }) {
                return Ok(Some(found));
            }
            match value["NextToken"].as_str() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(None),
            }
        }
        Ok(None)
    }
}

fn skipped_because(e: &ApiError) -> String {
    match e.code {
        ErrorCode::AwsNoCredentials => e.message.clone(),
        _ => format!("Service Quotas could not be reached ({}).", e.message),
    }
}
