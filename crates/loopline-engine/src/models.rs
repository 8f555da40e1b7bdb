//! The pipeline's model versions (`loopline models …`, a run's Model section): each run's
//! RegisterModel step adds a version to the model package group named after the pipeline;
//! here they are listed with their metrics (the statistics the Metrics step wrote to S3),
//! compared with the version approved now, and approved or rejected (UpdateModelPackage).
//!
//! A version is tied to its run by the RegisterModel step's ARN where the endpoint lists an
//! execution's steps, and otherwise by `MetadataProperties.GeneratedBy`, the execution's
//! ARN that SageMaker records on a version a pipeline registered.

use std::sync::Arc;

use loopline_cloud::model_registry::{ModelRegistry, ModelVersionDetail};
use loopline_cloud::sagemaker::{CallError, SageMaker};
use loopline_core::{
    rfc3339_ms, ApiError, ErrorCode, ModelDecision, ModelList, ModelMetric, ModelVersion, Run,
};
use serde_json::Value;

use crate::setup::group_name_for;
use crate::Engine;

/// How many versions a listing shows, newest first.
pub const DEFAULT_LIMIT: usize = 20;
/// How far back a run's version is looked for by its execution's ARN.
const SEARCH_LIMIT: usize = 50;
/// The metrics shown, in this order, as the Metrics step writes them.
const METRICS: [&str; 2] = ["mIOU", "pixel_accuracy"];

/// Where the versions live: the pipeline's group, in its region.
struct Place {
    pipeline: String,
    group: String,
    region: String,
}

impl Engine {
    /// SageMaker's model registry in `region` (or the test's fake).
    pub(crate) async fn model_registry(
        &self,
        region: &str,
    ) -> Result<Arc<dyn ModelRegistry>, ApiError> {
        if let Some(r) = &self.model_registry_override {
            return Ok(r.clone());
        }
        Ok(Arc::new(SageMaker::new(self.aws_in(region).await?)?))
    }

    /// `pipeline`, or the one the training setup chose, with its group and region.
    async fn model_place(&self, pipeline: Option<&str>) -> Result<Place, ApiError> {
        let chosen = self.chosen_pipeline().await?;
        let name = match (pipeline.map(str::trim).filter(|p| !p.is_empty()), &chosen) {
            (Some(p), _) => p.to_string(),
            (None, Some(c)) => c.name.clone(),
            (None, None) => {
                return Err(ApiError::new(
                    ErrorCode::NoModelGroup,
                    "No pipeline is set up yet, so there are no model versions. Run the training setup (`loopline setup sagemaker … --pipeline NAME`, or Setup › Training), or name one with --pipeline.",
                ))
            }
        };
        let region = match &chosen {
            Some(c) if group_name_for(&c.name) == group_name_for(&name) => c.region.clone(),
            _ => self.aws().await?.region().to_string(),
        };
        Ok(Place {
            group: group_name_for(&name),
            pipeline: name,
            region,
        })
    }

    /// The group's ARN, or a sentence saying how to create it.
    async fn group_arn(
        &self,
        registry: &dyn ModelRegistry,
        place: &Place,
    ) -> Result<String, ApiError> {
        match registry.describe_group(&place.group).await {
            Ok(Some(g)) => Ok(g.arn),
            Ok(None) => Err(ApiError::new(
                ErrorCode::NoModelGroup,
                format!(
                    "The pipeline '{}' has no model package group '{}' in {} yet, so no run has registered a model. Run the training setup again (`loopline setup sagemaker … --pipeline {}`, or Setup › Training): it creates the group and updates the pipeline to register each run's model.",
                    place.pipeline, place.group, place.region, place.pipeline
                ),
            )),
            Err(e) => Err(registry_error(e)),
        }
    }

    /// `loopline models list`: the newest versions, each with its metrics and the deltas
    /// against the version approved now.
    pub async fn list_models(
        &self,
        pipeline: Option<&str>,
        limit: usize,
    ) -> Result<ModelList, ApiError> {
        let place = self.model_place(pipeline).await?;
        let registry = self.model_registry(&place.region).await?;
        let group_arn = self.group_arn(registry.as_ref(), &place).await?;
        let approved = self.approved(registry.as_ref(), &place).await?;
        let listed = registry
            .versions(&place.group, None, limit.clamp(1, 100))
            .await
            .map_err(registry_error)?;
        let mut versions = Vec::new();
        for v in listed {
            let detail = registry
                .describe_version(&v.arn)
                .await
                .map_err(registry_error)?;
            versions.push(self.shown(&place, detail, approved.as_ref()).await?);
        }
        Ok(ModelList {
            pipeline: place.pipeline,
            group: place.group,
            group_arn,
            region: place.region,
            approved: approved.as_ref().map(|a| a.version),
            versions,
        })
    }

    /// The version run `id` registered, or `None` when none is known (the run has not
    /// reached its RegisterModel step, or its pipeline registers none).
    pub async fn run_model(&self, id: i64) -> Result<Option<ModelVersion>, ApiError> {
        let run = self.store.run(id).await?;
        let Some(execution) = run.execution_arn.clone() else {
            return Ok(None);
        };
        let place = self.model_place(Some(&run.pipeline)).await?;
        let registry = self.model_registry(&place.region).await?;
        self.group_arn(registry.as_ref(), &place).await?;
        let detail = match &run.model_package_arn {
            Some(arn) => Some(
                registry
                    .describe_version(arn)
                    .await
                    .map_err(registry_error)?,
            ),
            None => find_by_execution(registry.as_ref(), &place.group, &execution).await?,
        };
        let Some(detail) = detail else {
            return Ok(None);
        };
        let approved = self.approved(registry.as_ref(), &place).await?;
        self.shown(&place, detail, approved.as_ref())
            .await
            .map(Some)
    }

    /// `loopline models approve|reject`: sets the version's approval status (with the
    /// note, if any) and reads it back.
    pub async fn decide_model(
        &self,
        version: &str,
        decision: ModelDecision,
        note: Option<&str>,
        pipeline: Option<&str>,
    ) -> Result<ModelVersion, ApiError> {
        let place = self.model_place(pipeline).await?;
        let registry = self.model_registry(&place.region).await?;
        let arn = self.version_arn(registry.as_ref(), &place, version).await?;
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        if note.is_some_and(|n| n.chars().count() > 1024) {
            return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                "The note is over SageMaker's 1,024 characters for an approval description; shorten it.",
            ));
        }
        registry
            .set_approval(&arn, decision.status(), note)
            .await
            .map_err(registry_error)?;
        let detail = registry
            .describe_version(&arn)
            .await
            .map_err(registry_error)?;
        if detail.approval != decision.status() {
            return Err(ApiError::new(
                ErrorCode::AwsError,
                format!(
                    "SageMaker accepted the change but version {} reads back as {}. Run the command again.",
                    detail.version, detail.approval
                ),
            ));
        }
        let approved = self.approved(registry.as_ref(), &place).await?;
        self.runs_changed();
        self.shown(&place, detail, approved.as_ref()).await
    }

    /// A version named by its ARN or its number in the group.
    async fn version_arn(
        &self,
        registry: &dyn ModelRegistry,
        place: &Place,
        version: &str,
    ) -> Result<String, ApiError> {
        let version = version.trim();
        if version.starts_with("arn:") {
            return Ok(version.to_string());
        }
        let number: i64 = version.trim_start_matches('v').parse().map_err(|_| {
            ApiError::new(
                ErrorCode::InvalidArgument,
                format!("'{version}' names no model version: give its number (as `loopline models list` shows it) or its ARN."),
            )
        })?;
        self.group_arn(registry, place).await?;
        let all = registry
            .versions(&place.group, None, 100)
            .await
            .map_err(registry_error)?;
        all.into_iter()
            .find(|v| v.version == number)
            .map(|v| v.arn)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    format!(
                        "The group '{}' has no version {number} among its newest 100. `loopline models list` shows the versions there are; an older one can be named by its ARN.",
                        place.group
                    ),
                )
            })
    }

    /// The version approved now, in full, with its metrics.
    async fn approved(
        &self,
        registry: &dyn ModelRegistry,
        place: &Place,
    ) -> Result<Option<Approved>, ApiError> {
        let newest = registry
            .versions(&place.group, Some("Approved"), 1)
            .await
            .map_err(registry_error)?;
        let Some(v) = newest.into_iter().next() else {
            return Ok(None);
        };
        let detail = registry
            .describe_version(&v.arn)
            .await
            .map_err(registry_error)?;
        let (metrics, _) = self.read_metrics(&place.region, &detail).await;
        Ok(Some(Approved {
            arn: detail.arn,
            version: detail.version,
            metrics,
        }))
    }

    async fn shown(
        &self,
        place: &Place,
        detail: ModelVersionDetail,
        approved: Option<&Approved>,
    ) -> Result<ModelVersion, ApiError> {
        let (values, metrics_note) = self.read_metrics(&place.region, &detail).await;
        let run = self.run_of_version(&detail).await?;
        let approved_now = approved.is_some_and(|a| a.arn == detail.arn);
        // A version is compared with the approved one, unless it is that one.
        let against = approved.filter(|_| !approved_now);
        Ok(ModelVersion {
            metrics: compare(&values, against.map(|a| a.metrics.as_slice())),
            compared_with: against.map(|a| a.version),
            approved_now,
            metrics_note,
            run_id: run.map(|r| r.id),
            execution_arn: detail.generated_by.clone(),
            created_at: detail.created_ms.map(rfc3339_ms),
            note: detail.approval_note,
            status: detail.approval,
            version: detail.version,
            group: if detail.group.is_empty() {
                place.group.clone()
            } else {
                detail.group
            },
            arn: detail.arn,
        })
    }

    /// The run that registered a version; the tie is kept on the run once found.
    async fn run_of_version(&self, detail: &ModelVersionDetail) -> Result<Option<Run>, ApiError> {
        let Some(execution) = detail.generated_by.as_deref() else {
            return Ok(None);
        };
        let Some(run) = self.store.run_of_execution(execution).await? else {
            return Ok(None);
        };
        if run.model_package_arn.is_none()
            && self
                .store
                .set_run_model_package(run.id, &detail.arn)
                .await?
        {
            self.runs_changed();
        }
        Ok(Some(run))
    }

    /// The statistics the Metrics step wrote, or why they cannot be shown. Never an error:
    /// a version without readable metrics is still listed and can still be decided on.
    async fn read_metrics(
        &self,
        region: &str,
        detail: &ModelVersionDetail,
    ) -> (Vec<(String, f64)>, Option<String>) {
        let Some(uri) = detail.statistics_uri.as_deref() else {
            return (
                Vec::new(),
                Some("This version carries no model-quality statistics.".into()),
            );
        };
        let Some((bucket, key)) = uri
            .strip_prefix("s3://")
            .and_then(|rest| rest.split_once('/'))
        else {
            return (
                Vec::new(),
                Some(format!(
                    "Its statistics are at {uri}, which is not an S3 URI."
                )),
            );
        };
        let store = match self.object_store(region).await {
            Ok(s) => s,
            Err(e) => return (Vec::new(), Some(e.message)),
        };
        match store.get_object(bucket, key).await {
            Ok(Some(body)) => match serde_json::from_slice::<Value>(&body) {
                Ok(doc) => {
                    let values = metric_values(&doc);
                    let note = values
                        .is_empty()
                        .then(|| format!("{uri} holds no metric Loopline knows."));
                    (values, note)
                }
                Err(_) => (Vec::new(), Some(format!("{uri} is not JSON."))),
            },
            Ok(None) => (
                Vec::new(),
                Some(format!(
                    "{uri} is not there (its Metrics step may not have finished, or it was deleted)."
                )),
            ),
            Err(e) => (
                Vec::new(),
                Some(format!("{uri} could not be read: {}", e.message)),
            ),
        }
    }
}

/// SageMaker's answer as the user's sentence; a call that may succeed later says so.
fn registry_error(e: CallError) -> ApiError {
    if !e.retryable || e.error.message.to_lowercase().contains("try again") {
        return e.error;
    }
    ApiError::new(
        e.error.code,
        format!(
            "{} The model registry could not answer now; try again in a minute.",
            e.error.message
        ),
    )
}

struct Approved {
    arn: String,
    version: i64,
    metrics: Vec<(String, f64)>,
}

/// The version a pipeline execution registered, among the group's newest.
async fn find_by_execution(
    registry: &dyn ModelRegistry,
    group: &str,
    execution: &str,
) -> Result<Option<ModelVersionDetail>, ApiError> {
    let listed = registry
        .versions(group, None, SEARCH_LIMIT)
        .await
        .map_err(registry_error)?;
    for v in listed {
        let d = registry
            .describe_version(&v.arn)
            .await
            .map_err(registry_error)?;
        if d.generated_by.as_deref() == Some(execution) {
            return Ok(Some(d));
        }
    }
    Ok(None)
}

/// The metrics of a statistics document (`{<kind>_metrics: {name: {value}}}`), in the
/// order Loopline shows them.
pub fn metric_values(doc: &Value) -> Vec<(String, f64)> {
    let Some(all) = doc.as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (kind, metrics) in all {
        if !kind.ends_with("_metrics") {
            continue;
        }
        for name in METRICS {
            if let Some(v) = metrics[name]["value"].as_f64() {
                out.push((name.to_string(), v));
            }
        }
    }
    out
}

/// Each metric beside the approved version's, with the difference (higher is better).
pub fn compare(values: &[(String, f64)], approved: Option<&[(String, f64)]>) -> Vec<ModelMetric> {
    values
        .iter()
        .map(|(name, value)| {
            let approved_value = approved
                .and_then(|a| a.iter().find(|(n, _)| n == name))
                .map(|(_, v)| *v);
            ModelMetric {
                name: name.clone(),
                value: *value,
                approved_value,
                delta: approved_value.map(|a| value - a),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metrics_are_read_from_the_statistics_and_compared() {
        let doc = json!({
            "format": "loopline.model-metrics/1",
            "semantic_segmentation_metrics": {
                "pixel_accuracy": {"value": 0.9},
                "mIOU": {"value": 0.5},
                "other": {"value": 3},
            },
        });
        let values = metric_values(&doc);
        assert_eq!(
            values,
            vec![
                ("mIOU".to_string(), 0.5),
                ("pixel_accuracy".to_string(), 0.9)
            ]
        );
        let approved = vec![("mIOU".to_string(), 0.25)];
        let m = compare(&values, Some(&approved));
        assert_eq!(m[0].delta, Some(0.25));
        assert_eq!(m[1].approved_value, None);
        assert_eq!(m[1].delta, None);
        assert!(compare(&values, None).iter().all(|m| m.delta.is_none()));
        assert!(metric_values(&json!([1])).is_empty());
    }
}
