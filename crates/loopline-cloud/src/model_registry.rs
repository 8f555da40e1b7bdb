//! SageMaker's model registry, as a trait: the pipeline's model package group (created by
//! the training setup), the versions its RegisterModel step adds, and their approval.
//! SageMaker's JSON API in production (moto has these calls too); a fake in the engine's
//! fast tests.

use async_trait::async_trait;
use loopline_core::{parse_rfc3339_ms, ApiError, ErrorCode};
use serde_json::{json, Value};

use crate::sagemaker::{CallError, SageMaker};

/// A model package group as DescribeModelPackageGroup shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelGroup {
    pub name: String,
    pub arn: String,
    /// `Completed` once usable; `Pending`, `InProgress`, `Failed`, `Deleting`, ….
    pub status: String,
}

/// One version of a group, as ListModelPackages lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelVersionSummary {
    pub arn: String,
    pub version: i64,
    /// `PendingManualApproval`, `Approved` or `Rejected`.
    pub approval: String,
    pub created_ms: Option<i64>,
}

/// One version in full, as DescribeModelPackage shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelVersionDetail {
    pub arn: String,
    pub group: String,
    pub version: i64,
    pub approval: String,
    pub approval_note: Option<String>,
    pub description: Option<String>,
    pub created_ms: Option<i64>,
    /// `MetadataProperties.GeneratedBy`: the pipeline execution's ARN when a pipeline's
    /// RegisterModel step created it.
    pub generated_by: Option<String>,
    /// `ModelMetrics.ModelQuality.Statistics.S3Uri`.
    pub statistics_uri: Option<String>,
    pub model_data_url: Option<String>,
}

#[async_trait]
pub trait ModelRegistry: Send + Sync {
    /// DescribeModelPackageGroup; `Ok(None)` when there is no group by that name.
    async fn describe_group(&self, name: &str) -> Result<Option<ModelGroup>, CallError>;

    /// CreateModelPackageGroup. Returns the ARN.
    async fn create_group(&self, name: &str, description: &str) -> Result<String, CallError>;

    /// ListModelPackages of the group, newest first (at most `limit`), optionally only
    /// those with one approval status.
    async fn versions(
        &self,
        group: &str,
        approval: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ModelVersionSummary>, CallError>;

    /// DescribeModelPackage.
    async fn describe_version(&self, arn: &str) -> Result<ModelVersionDetail, CallError>;

    /// UpdateModelPackage: the approval status, and the note that says why.
    async fn set_approval(
        &self,
        arn: &str,
        approval: &str,
        note: Option<&str>,
    ) -> Result<(), CallError>;
}

/// The JSON protocol's timestamps are epoch seconds; some endpoints write ISO strings.
fn time_ms(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_f64().map(|s| (s * 1000.0).round() as i64),
        Value::String(s) => parse_rfc3339_ms(s),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_string)
}

/// `…:model-package/<group>/<version>` → the version, for answers without the number.
fn version_of(arn: &str) -> i64 {
    arn.rsplit('/')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[async_trait]
impl ModelRegistry for SageMaker {
    async fn describe_group(&self, name: &str) -> Result<Option<ModelGroup>, CallError> {
        let out = self
            .call_or_missing(
                "DescribeModelPackageGroup",
                &json!({ "ModelPackageGroupName": name }),
                None,
                true,
            )
            .await?;
        Ok(out.map(|v| ModelGroup {
            name: text(&v["ModelPackageGroupName"]).unwrap_or_else(|| name.to_string()),
            arn: text(&v["ModelPackageGroupArn"]).unwrap_or_default(),
            status: text(&v["ModelPackageGroupStatus"]).unwrap_or_else(|| "Completed".into()),
        }))
    }

    async fn create_group(&self, name: &str, description: &str) -> Result<String, CallError> {
        let out = self
            .call(
                "CreateModelPackageGroup",
                &json!({
                    "ModelPackageGroupName": name,
                    "ModelPackageGroupDescription": description,
                }),
                None,
            )
            .await?;
        Ok(text(&out["ModelPackageGroupArn"]).unwrap_or_default())
    }

    async fn versions(
        &self,
        group: &str,
        approval: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ModelVersionSummary>, CallError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        while out.len() < limit {
            let mut body = json!({
                "ModelPackageGroupName": group,
                "ModelPackageType": "Versioned",
                "SortBy": "CreationTime",
                "SortOrder": "Descending",
                "MaxResults": (limit - out.len()).min(100),
            });
            if let Some(a) = approval {
                body["ModelApprovalStatus"] = json!(a);
            }
            if let Some(t) = &token {
                body["NextToken"] = json!(t);
            }
            let page = self.call("ListModelPackages", &body, None).await?;
            for p in page["ModelPackageSummaryList"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let Some(arn) = text(&p["ModelPackageArn"]) else {
                    continue;
                };
                out.push(ModelVersionSummary {
                    version: p["ModelPackageVersion"]
                        .as_i64()
                        .unwrap_or_else(|| version_of(&arn)),
                    approval: text(&p["ModelApprovalStatus"]).unwrap_or_default(),
                    created_ms: time_ms(&p["CreationTime"]),
                    arn,
                });
            }
            match text(&page["NextToken"]) {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        out.truncate(limit);
        Ok(out)
    }

    async fn describe_version(&self, arn: &str) -> Result<ModelVersionDetail, CallError> {
        let v = self
            .call(
                "DescribeModelPackage",
                &json!({ "ModelPackageName": arn }),
                None,
            )
            .await?;
        let found = text(&v["ModelPackageArn"]).ok_or_else(|| CallError {
            error: ApiError::new(
                ErrorCode::AwsError,
                format!("SageMaker described no model version {arn}."),
            ),
            retryable: false,
            status: None,
            aws_error: false,
        })?;
        Ok(ModelVersionDetail {
            version: v["ModelPackageVersion"]
                .as_i64()
                .unwrap_or_else(|| version_of(&found)),
            group: text(&v["ModelPackageGroupName"]).unwrap_or_default(),
            approval: text(&v["ModelApprovalStatus"]).unwrap_or_default(),
            approval_note: text(&v["ApprovalDescription"]),
            description: text(&v["ModelPackageDescription"]),
            created_ms: time_ms(&v["CreationTime"]),
            generated_by: text(&v["MetadataProperties"]["GeneratedBy"]),
            statistics_uri: text(&v["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]),
            model_data_url: text(&v["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]),
            arn: found,
        })
    }

    async fn set_approval(
        &self,
        arn: &str,
        approval: &str,
        note: Option<&str>,
    ) -> Result<(), CallError> {
        let mut body = json!({ "ModelPackageArn": arn, "ModelApprovalStatus": approval });
        if let Some(n) = note.filter(|n| !n.is_empty()) {
            body["ApprovalDescription"] = json!(n);
        }
        self.call("UpdateModelPackage", &body, None).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_versions_are_read_from_either_form() {
        assert_eq!(time_ms(&json!(1_765_000_000.25)), Some(1_765_000_000_250));
        assert_eq!(
            time_ms(&json!("2026-12-07T14:52:07.000Z")),
            parse_rfc3339_ms("2026-12-07T14:52:07.000Z")
        );
        assert_eq!(time_ms(&Value::Null), None);
        assert_eq!(
            version_of("arn:aws:sagemaker:eu-west-1:1:model-package/birds/12"),
            12
        );
        assert_eq!(
            version_of("arn:aws:sagemaker:eu-west-1:1:model-package/x"),
            0
        );
    }
}
