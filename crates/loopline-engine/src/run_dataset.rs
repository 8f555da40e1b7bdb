//! A run that trains on a dataset version: when its rule names a dataset-version
//! automation, the run starts with that automation's newest version at or before the run's
//! trigger as its `DatasetManifest` parameter, so `preprocess.py` reads exactly the frozen
//! objects. The choice is made at the first attempt and stored with the run; a retry or a
//! takeover starts with the same manifest.

use loopline_core::{
    manifest_key, version_name, ApiError, AutomationAction, ErrorCode, PipelineParam,
};
use loopline_store::{OutboxRun, VersionAtEvent};

use crate::delivery_error::DeliveryError;
use crate::Engine;

/// The pipeline parameter Loopline's template reads the manifest from.
pub const DATASET_PARAM: &str = "DatasetManifest";

fn wait(message: String) -> DeliveryError {
    DeliveryError {
        error: ApiError::new(ErrorCode::TimedOut, message),
        retryable: true,
    }
}

fn refuse(message: String) -> DeliveryError {
    DeliveryError {
        error: ApiError::new(ErrorCode::InvalidArgument, message),
        retryable: false,
    }
}

/// `params` with `DatasetManifest` set to `uri` (replacing one the user gave).
pub fn with_manifest(params: &[PipelineParam], uri: &str) -> Vec<PipelineParam> {
    let mut out: Vec<PipelineParam> = params
        .iter()
        .filter(|p| p.name != DATASET_PARAM)
        .cloned()
        .collect();
    out.push(PipelineParam {
        name: DATASET_PARAM.to_string(),
        value: uri.to_string(),
    });
    out
}

impl Engine {
    /// The run as it starts: with its dataset version chosen, when its rule trains on one.
    /// Waits (a retry) while the version is not judged or not written yet.
    pub(crate) async fn run_with_dataset(
        &self,
        run: OutboxRun,
    ) -> Result<OutboxRun, DeliveryError> {
        if run.dataset_manifest.is_some() {
            return Ok(run);
        }
        let Ok(rule) = self.store.rule(&run.rule_id).await else {
            return Ok(run);
        };
        let Some(dataset) = rule.dataset_automation.as_deref() else {
            return Ok(run);
        };
        let automation = self.store.automation(dataset).await.map_err(|_| {
            refuse(format!(
                "This run trains on the dataset versions of automation {dataset}, which was removed, so it was not started. Add the dataset-version automation again, or remove --dataset from this automation, then retry the run."
            ))
        })?;
        let AutomationAction::DatasetVersion { bucket, .. } = &automation.action else {
            return Err(refuse(format!(
                "Automation '{}' makes no dataset versions, so this run has none to train on.",
                automation.name
            )));
        };
        let name = &automation.name;
        let number = match self.store.dataset_version_at(dataset, run.event_id).await? {
            VersionAtEvent::NotJudgedYet => {
                return Err(wait(format!(
                    "Waiting for '{name}' to freeze the dataset at event {}.",
                    run.event_id
                )))
            }
            VersionAtEvent::NoneYet => {
                return Err(refuse(format!(
                    "'{name}' made no dataset version at or before event {}, so this run has no dataset to train on and was not started. Its next firing makes one; retry the run after it.",
                    run.event_id
                )))
            }
            VersionAtEvent::Version { number, status, error } => match status.as_str() {
                "delivered" => number,
                "failed" => {
                    return Err(refuse(format!(
                        "Dataset version {} of '{name}' could not be written ({}), so this run was not started. Retry the run once the dataset version is written.",
                        version_name(number),
                        error.unwrap_or_else(|| "no reason recorded".into())
                    )))
                }
                _ => {
                    return Err(wait(format!(
                        "Waiting for dataset version {} of '{name}' to be written.",
                        version_name(number)
                    )))
                }
            },
        };
        let uri = format!(
            "s3://{bucket}/{}",
            manifest_key(dataset, &version_name(number))
        );
        let params: Vec<PipelineParam> = serde_json::from_str(&run.params_json)
            .map_err(|_| refuse(loopline_store::UNREADABLE_PARAMS.to_string()))?;
        let json = serde_json::to_string(&with_manifest(&params, &uri))
            .map_err(|e| DeliveryError::from(ApiError::internal(e.to_string())))?;
        self.store.set_run_dataset(run.id, &uri, &json).await?;
        tracing::info!(run = run.id, manifest = %uri, "the run trains on this dataset version");
        Ok(self.store.run_for_start(run.id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_replaces_a_dataset_parameter_the_user_gave() {
        let given = vec![
            PipelineParam {
                name: "Epochs".into(),
                value: "5".into(),
            },
            PipelineParam {
                name: DATASET_PARAM.into(),
                value: "s3://old".into(),
            },
        ];
        let out = with_manifest(&given, "s3://b/datasets/auto_1/v2/manifest.json");
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].name, "Epochs");
        assert_eq!(out[1].value, "s3://b/datasets/auto_1/v2/manifest.json");
    }
}
