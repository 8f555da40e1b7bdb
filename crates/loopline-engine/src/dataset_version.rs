//! Delivering a dataset-version firing, from the outbox: list the annotation objects, count
//! their labels, write `s3://B/datasets/<automation>/v<n>/manifest.json`, and delete the
//! manifests older than the last K (never an annotation object).
//!
//! Exactly once: the version's number is fixed when the firing is decided (the delivery's
//! rank), and a manifest already there is never written again, so a worker killed between
//! the PUT and recording it leaves a retry that only records what is there.

use std::collections::BTreeMap;

use bytes::Bytes;
use futures_util::future::join_all;
use loopline_cloud::s3::{Listed, ObjectStore};
use loopline_core::{
    annotation_labels, manifest_key, rfc3339_ms, version_name, version_number, ApiError,
    DatasetManifest, DeliveryStatus, ErrorCode, ManifestObject, ManifestProject, ManifestTrigger,
    MANIFEST_FORMAT,
};
use loopline_store::DeliveryOutcome;
use sha2::{Digest, Sha256};

use crate::annotation_reads::Reading;
use crate::delivery_error::DeliveryError;
use crate::Engine;

/// Annotation objects read at once: enough to hide S3's latency, few enough not to be
/// throttled.
const PARALLEL_GETS: usize = 16;

/// Where one dataset-version automation reads and writes.
pub(crate) struct DatasetTarget<'a> {
    pub automation_id: &'a str,
    pub bucket: &'a str,
    pub prefix: &'a str,
    pub region: &'a str,
    pub keep: i64,
}

/// `s3://bucket/key`.
pub fn s3_uri(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

/// The folder under which the annotations are listed: `prefix/`, so `annotations` never
/// takes in `annotations-old/`.
fn folder(prefix: &str) -> String {
    let p = prefix.trim_matches('/');
    if p.is_empty() {
        String::new()
    } else {
        format!("{p}/")
    }
}

/// The annotation a Label Studio event is about, when it names one that must be in S3.
fn triggering_annotation(action: Option<&str>, body: &[u8]) -> Option<i64> {
    if !matches!(action, Some("ANNOTATION_CREATED" | "ANNOTATION_UPDATED")) {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v.get("annotation")?.get("id")?.as_i64()
}

fn not_yet(message: String) -> DeliveryError {
    DeliveryError {
        error: ApiError::new(ErrorCode::TargetUnavailable, message),
        retryable: true,
    }
}

impl Engine {
    pub(crate) async fn write_dataset_version(
        &self,
        delivery_id: i64,
        event_id: i64,
        target: &DatasetTarget<'_>,
    ) -> Result<(), DeliveryError> {
        let Some((_, number)) = self.store.delivery_number(delivery_id).await? else {
            return Ok(());
        };
        let version = version_name(number);
        let key = manifest_key(target.automation_id, &version);
        let uri = s3_uri(target.bucket, &key);
        let s3 = self.object_store(target.region).await?;
        if let Err(e) = self
            .write_manifest_once(s3.as_ref(), event_id, target, &version, &key, &uri)
            .await
        {
            // Kept on the delivery, so the page says what it waits for.
            let outcome = DeliveryOutcome {
                status: DeliveryStatus::Pending,
                http_status: None,
                response: None,
                error: Some(&e.error.message),
                now_ms: self.clock.now_ms(),
            };
            self.store.record_delivery(delivery_id, &outcome).await?;
            return Err(e);
        }
        let outcome = DeliveryOutcome {
            status: DeliveryStatus::Delivered,
            http_status: None,
            response: Some(&uri),
            error: None,
            now_ms: self.clock.now_ms(),
        };
        self.store.record_delivery(delivery_id, &outcome).await?;
        // Pruning is housekeeping: a failure here must not undo a written version, and the
        // next version prunes again.
        if let Err(e) = self.prune_versions(s3.as_ref(), target, number).await {
            tracing::warn!(
                code = e.code.as_str(),
                "dataset versions not pruned: {}",
                e.message
            );
        }
        self.runs_changed();
        Ok(())
    }

    async fn write_manifest_once(
        &self,
        s3: &dyn ObjectStore,
        event_id: i64,
        target: &DatasetTarget<'_>,
        version: &str,
        key: &str,
        uri: &str,
    ) -> Result<(), DeliveryError> {
        if s3.head_object(target.bucket, key).await?.is_some() {
            return Ok(());
        }
        let manifest = self
            .build_manifest(s3, event_id, target, version, uri)
            .await?;
        let body = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| ApiError::internal(format!("The manifest could not be written: {e}")))?;
        let sha = format!("{:x}", Sha256::digest(&body));
        s3.put_object(
            target.bucket,
            key,
            Bytes::from(body),
            "application/json",
            &sha,
        )
        .await?;
        Ok(())
    }

    async fn build_manifest(
        &self,
        s3: &dyn ObjectStore,
        event_id: i64,
        target: &DatasetTarget<'_>,
        version: &str,
        uri: &str,
    ) -> Result<DatasetManifest, DeliveryError> {
        let event = self.store.event(event_id).await?;
        let summary = &event.summary;
        let folder = folder(target.prefix);
        let listed: Vec<Listed> = s3
            .list(target.bucket, &folder)
            .await?
            .into_iter()
            // Folder markers some tools write are not annotations.
            .filter(|o| !o.key.ends_with('/'))
            .collect();
        if let Some(id) = triggering_annotation(summary.action.as_deref(), &event.body) {
            let name = id.to_string();
            let present = listed
                .iter()
                .any(|o| o.key.rsplit('/').next() == Some(name.as_str()));
            if !present {
                // Label Studio's export storage writes the object as the annotation is saved;
                // the webhook can arrive first. A version without the annotation that made it
                // would not be what the trigger saw.
                return Err(not_yet(format!(
                    "Annotation {id} is not in s3://{}/{folder} yet. Check that the project's \
                     target storage syncs annotations there; Loopline tries again.",
                    target.bucket
                )));
            }
        }
        let readings = self.read_annotations(s3, target.bucket, &listed).await?;
        let mut labels: BTreeMap<String, i64> = BTreeMap::new();
        let mut unreadable = Vec::new();
        let mut cancelled = 0;
        for (o, reading) in listed.iter().zip(readings) {
            match reading {
                None => unreadable.push(o.key.clone()),
                Some((true, _)) => cancelled += 1,
                Some((false, found)) => {
                    for l in found {
                        *labels.entry(l).or_default() += 1;
                    }
                }
            }
        }
        let project = match summary.project_id {
            None => None,
            Some(id) => {
                let projects = self.labeling().await?;
                let info = projects.project(id).await?.ok_or_else(|| DeliveryError {
                    error: ApiError::new(
                        ErrorCode::NotFound,
                        format!("Label Studio has no project {id} any more, so its label config cannot be recorded."),
                    ),
                    retryable: false,
                })?;
                Some(ManifestProject {
                    id,
                    label_config_sha256: format!(
                        "{:x}",
                        Sha256::digest(info.label_config.as_bytes())
                    ),
                })
            }
        };
        Ok(DatasetManifest {
            format: MANIFEST_FORMAT.into(),
            automation_id: target.automation_id.into(),
            version: version.into(),
            uri: uri.into(),
            created_at: rfc3339_ms(self.clock.now_ms()),
            trigger: ManifestTrigger {
                event_id,
                source_id: summary.source_id.clone(),
                action: summary.action.clone(),
                project_id: summary.project_id,
                received_at: summary.received_at.clone(),
            },
            project,
            bucket: target.bucket.into(),
            prefix: folder,
            objects: listed
                .into_iter()
                .map(|o| ManifestObject {
                    key: o.key,
                    etag: o.etag,
                    size: o.size,
                })
                .collect(),
            labels,
            unreadable,
            cancelled,
        })
    }

    /// What each listed object says, in the listing's order: read from S3 only for the
    /// objects (and ETags) not read before.
    async fn read_annotations(
        &self,
        s3: &dyn ObjectStore,
        bucket: &str,
        listed: &[Listed],
    ) -> Result<Vec<Reading>, DeliveryError> {
        let reads = &self.annotation_reads;
        let mut readings: Vec<Option<Reading>> = listed
            .iter()
            .map(|o| reads.get(bucket, &o.key, &o.etag))
            .collect();
        let unread: Vec<&Listed> = listed
            .iter()
            .zip(&readings)
            .filter(|(_, r)| r.is_none())
            .map(|(o, _)| o)
            .collect();
        let mut fresh = Vec::with_capacity(unread.len());
        // In chunks rather than a buffered stream: the stream's borrowed closures trip
        // rustc's Send inference for the outbox's boxed future.
        for chunk in unread.chunks(PARALLEL_GETS) {
            let got = join_all(chunk.iter().map(|o| s3.get_object(bucket, &o.key))).await;
            for (o, body) in chunk.iter().zip(got) {
                let body = body?;
                let reading = body
                    .as_ref()
                    .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
                    .and_then(|v| annotation_labels(&v));
                // An object gone since the listing is unreadable this time, not remembered.
                if body.is_some() {
                    reads.remember(bucket, &o.key, &o.etag, reading.clone());
                }
                fresh.push(reading);
            }
        }
        let mut fresh = fresh.into_iter();
        for r in readings.iter_mut().filter(|r| r.is_none()) {
            *r = fresh.next();
        }
        Ok(readings.into_iter().map(|r| r.flatten()).collect())
    }

    /// Deletes the manifests of versions older than the last `keep`, counted from `newest`.
    async fn prune_versions(
        &self,
        s3: &dyn ObjectStore,
        target: &DatasetTarget<'_>,
        newest: i64,
    ) -> Result<(), ApiError> {
        let folder = format!("datasets/{}/", target.automation_id);
        for o in s3.list(target.bucket, &folder).await? {
            let Some((v, "manifest.json")) = o.key[folder.len()..].split_once('/') else {
                continue;
            };
            if version_number(v).is_some_and(|n| n <= newest - target.keep) {
                s3.delete_object(target.bucket, &o.key).await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folder_is_the_prefix_with_one_slash() {
        assert_eq!(folder("annotations"), "annotations/");
        assert_eq!(folder("/a/b/"), "a/b/");
        assert_eq!(folder(""), "");
    }

    #[test]
    fn only_created_and_updated_annotations_must_be_present() {
        let body = br#"{"action":"ANNOTATION_CREATED","annotation":{"id":42}}"#;
        assert_eq!(
            triggering_annotation(Some("ANNOTATION_CREATED"), body),
            Some(42)
        );
        assert_eq!(
            triggering_annotation(Some("ANNOTATION_UPDATED"), body),
            Some(42)
        );
        assert_eq!(
            triggering_annotation(Some("ANNOTATIONS_DELETED"), body),
            None
        );
        assert_eq!(triggering_annotation(Some("PROJECT_CREATED"), b"{}"), None);
    }
}
