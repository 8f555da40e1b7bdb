//! The dataset versions API, for `loopline dataset list|show|diff` and the page: versions
//! are listed from the store (each delivered firing of a dataset-version automation) and
//! read from their manifests in S3, the record a run trains on.

use loopline_cloud::s3::check_bucket_name;
use loopline_core::{
    dataset_diff, manifest_key, rfc3339_ms, version_name, version_number, ApiError, Automation,
    AutomationAction, DatasetDiff, DatasetManifest, DatasetVersion, ErrorCode, StorageLayout,
    MANIFEST_FORMAT,
};

use crate::dataset_version::s3_uri;
use crate::Engine;

fn invalid(message: String) -> ApiError {
    ApiError::new(ErrorCode::InvalidArgument, message)
}

/// Where a dataset-version automation's manifests are.
struct Located {
    automation: Automation,
    bucket: String,
    region: String,
    keep: i64,
}

impl Engine {
    /// Fills a dataset-version action's prefix and region from the storage setup when the
    /// bucket is its bucket, so the automation is complete when it is stored.
    pub(crate) async fn resolve_dataset_target(
        &self,
        action: &mut AutomationAction,
    ) -> Result<(), ApiError> {
        let AutomationAction::DatasetVersion {
            bucket,
            prefix,
            region,
            ..
        } = action
        else {
            return Ok(());
        };
        *bucket = bucket.trim().to_string();
        check_bucket_name(bucket)?;
        let layout = self.storage_layout().await?.filter(|l| &l.bucket == bucket);
        if prefix.as_deref().is_none_or(|p| p.trim().is_empty()) {
            *prefix = Some(
                layout
                    .as_ref()
                    .map(|l| l.annotations.clone())
                    .unwrap_or_else(|| StorageLayout::DEFAULT_ANNOTATIONS.to_string()),
            );
        }
        if region.as_deref().is_none_or(|r| r.trim().is_empty()) {
            *region = Some(match layout {
                Some(l) => l.region,
                None => {
                    return Err(invalid(format!(
                        "Loopline does not know which region s3://{bucket} is in: it is not the \
                         bucket Setup created. Give it with --region."
                    )))
                }
            });
        }
        Ok(())
    }

    /// Every version, oldest first (of one automation, when `automation_id` is given).
    pub async fn list_dataset_versions(
        &self,
        automation_id: Option<&str>,
    ) -> Result<Vec<DatasetVersion>, ApiError> {
        let mut out = Vec::new();
        for a in self.store.list_automations().await? {
            if automation_id.is_some_and(|id| id != a.id) {
                continue;
            }
            let AutomationAction::DatasetVersion { bucket, keep, .. } = &a.action else {
                continue;
            };
            let rows = self.store.dataset_versions(&a.id).await?;
            let newest = rows.last().map(|r| r.number).unwrap_or(0);
            for r in rows {
                let version = version_name(r.number);
                out.push(DatasetVersion {
                    automation_id: a.id.clone(),
                    automation_name: a.name.clone(),
                    uri: s3_uri(bucket, &manifest_key(&a.id, &version)),
                    version,
                    event_id: r.event_id,
                    created_at: rfc3339_ms(r.delivered_at_ms),
                    kept: r.number > newest - keep,
                });
            }
        }
        if let Some(id) = automation_id {
            if !out.iter().any(|v| v.automation_id == id) {
                // Either no such automation or one without versions: say which.
                let a = self.store.automation(id).await?;
                if !matches!(a.action, AutomationAction::DatasetVersion { .. }) {
                    return Err(invalid(format!(
                        "Automation '{id}' does not make dataset versions ({}).",
                        a.action.summary()
                    )));
                }
            }
        }
        Ok(out)
    }

    /// A version's manifest, read from S3. `version` is `v3`, or `AUTOMATION/v3` when more
    /// than one automation makes versions.
    pub async fn dataset_manifest(&self, version: &str) -> Result<DatasetManifest, ApiError> {
        let (located, name) = self.locate_version(version).await?;
        let key = manifest_key(&located.automation.id, &name);
        let uri = s3_uri(&located.bucket, &key);
        let s3 = self.object_store(&located.region).await?;
        let Some(body) = s3.get_object(&located.bucket, &key).await? else {
            let newest = self
                .store
                .dataset_versions(&located.automation.id)
                .await?
                .last()
                .map(|r| r.number)
                .unwrap_or(0);
            let why = if version_number(&name).is_some_and(|n| n <= newest - located.keep) {
                format!(
                    "it is older than the last {} versions this automation keeps, so its manifest was deleted",
                    located.keep
                )
            } else {
                "it is not in the bucket (deleted by hand, or never written)".to_string()
            };
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("{uri} cannot be read: {why}. `loopline dataset list` shows the versions there are."),
            ));
        };
        let manifest: DatasetManifest = serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                ErrorCode::InvalidArgument,
                format!("{uri} is not a Loopline dataset manifest ({e})."),
            )
        })?;
        if manifest.format != MANIFEST_FORMAT {
            return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                format!(
                    "{uri} is in format '{}', which this version of Loopline does not read.",
                    manifest.format
                ),
            ));
        }
        Ok(manifest)
    }

    /// What changed between two versions.
    pub async fn dataset_diff(&self, from: &str, to: &str) -> Result<DatasetDiff, ApiError> {
        let a = self.dataset_manifest(from).await?;
        let b = self.dataset_manifest(to).await?;
        Ok(dataset_diff(&a, &b))
    }

    async fn locate_version(&self, version: &str) -> Result<(Located, String), ApiError> {
        let (wanted, name) = match version.trim().split_once('/') {
            Some((a, v)) => (Some(a.to_string()), v.to_string()),
            None => (None, version.trim().to_string()),
        };
        if version_number(&name).is_none() {
            return Err(invalid(format!(
                "'{version}' is not a dataset version: versions are named v1, v2, … (`loopline dataset list`)."
            )));
        }
        let mut found: Vec<Located> = Vec::new();
        for a in self.store.list_automations().await? {
            if wanted.as_deref().is_some_and(|w| w != a.id) {
                continue;
            }
            if let AutomationAction::DatasetVersion {
                bucket,
                region,
                keep,
                ..
            } = &a.action
            {
                found.push(Located {
                    bucket: bucket.clone(),
                    region: region.clone().unwrap_or_default(),
                    keep: *keep,
                    automation: a.clone(),
                });
            }
        }
        match found.len() {
            1 => Ok((found.remove(0), name)),
            0 => Err(ApiError::new(
                ErrorCode::NotFound,
                match wanted {
                    Some(w) => format!("No dataset-version automation '{w}'. `loopline automation list` shows them."),
                    None => "No automation makes dataset versions. Add one with `loopline automation add … --do dataset-version --bucket B`.".to_string(),
                },
            )),
            _ => Err(invalid(format!(
                "More than one automation makes dataset versions; name one: {}.",
                found
                    .iter()
                    .map(|l| format!("{}/{name}", l.automation.id))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}
