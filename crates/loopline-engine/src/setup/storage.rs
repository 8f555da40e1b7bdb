//! Storage setup (`loopline setup s3`, Setup → Storage): the bucket in the right region with
//! Block Public Access on, the layout of prefixes the other steps use, and the images folder
//! uploaded. Nothing is written for a "folder" (the preprocessing step reads every object
//! under its input prefix, so an empty marker object would be read as an image).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use loopline_cloud::aws::is_region_name;
use loopline_cloud::s3::{
    check_bucket_name, suggest_bucket_name, BucketState, Created, ObjectStore,
};
use loopline_core::{
    ApiError, ErrorCode, SetupReport, SetupStep, StepStatus, StorageLayout, StorageRequest,
};

use super::images::scan;
use super::upload::{key_for, missing, ProgressFn, Upload};
use super::StepLog;
use crate::Engine;

const LAYOUT: &str = "setup.storage";

/// The layout a request asks for, checked.
fn layout_of(req: &StorageRequest) -> Result<StorageLayout, ApiError> {
    let prefix = |given: &Option<String>, default: &str, what: &str| -> Result<String, ApiError> {
        let p = given
            .as_deref()
            .unwrap_or(default)
            .trim()
            .trim_matches('/')
            .to_string();
        if p.is_empty() || p.contains("//") || p.starts_with('.') {
            return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                format!("The {what} prefix '{}' cannot be used: give a folder name such as '{default}' (no leading dot, no empty parts).", given.as_deref().unwrap_or_default()),
            ));
        }
        Ok(p)
    };
    let layout = StorageLayout {
        bucket: req.bucket.trim().to_string(),
        region: req.region.trim().to_string(),
        images: prefix(&req.images_prefix, StorageLayout::DEFAULT_IMAGES, "images")?,
        annotations: prefix(
            &req.annotations_prefix,
            StorageLayout::DEFAULT_ANNOTATIONS,
            "annotations",
        )?,
        scripts: prefix(
            &req.scripts_prefix,
            StorageLayout::DEFAULT_SCRIPTS,
            "scripts",
        )?,
        model: prefix(&req.model_prefix, StorageLayout::DEFAULT_MODEL, "model")?,
    };
    // One prefix inside another would mix, say, model output into the images the
    // preprocessing step reads.
    let all = [
        &layout.images,
        &layout.annotations,
        &layout.scripts,
        &layout.model,
    ];
    for (i, a) in all.iter().enumerate() {
        for b in all.iter().skip(i + 1) {
            if a == b || b.starts_with(&format!("{a}/")) || a.starts_with(&format!("{b}/")) {
                return Err(ApiError::new(
                    ErrorCode::InvalidArgument,
                    format!("The prefixes '{a}' and '{b}' overlap; give each kind of data its own prefix."),
                ));
            }
        }
    }
    Ok(layout)
}

impl Engine {
    /// The storage layout the last `setup s3` saved, for the steps that follow it.
    pub async fn storage_layout(&self) -> Result<Option<StorageLayout>, ApiError> {
        Ok(self
            .store
            .setting(LAYOUT)
            .await?
            .and_then(|j| serde_json::from_str(&j).ok()))
    }

    /// `loopline setup s3`: with `plan`, says what it would do and does nothing.
    pub async fn setup_storage(
        &self,
        req: StorageRequest,
        plan: bool,
        progress: Option<ProgressFn>,
        cancel: Option<Arc<AtomicBool>>,
    ) -> Result<SetupReport, ApiError> {
        check_bucket_name(req.bucket.trim())?;
        if !is_region_name(req.region.trim()) {
            return Err(ApiError::new(
                ErrorCode::AwsBadRegion,
                format!(
                    "'{}' is not an AWS region name. Use one like us-east-1 or eu-west-1.",
                    req.region
                ),
            ));
        }
        let layout = layout_of(&req)?;
        let store = self.object_store(&layout.region).await?;
        let mut run = StorageRun {
            log: StepLog::new(self, plan),
            store: store.as_ref(),
            layout: &layout,
        };
        let Some(bucket_exists) = run.bucket().await? else {
            // Nothing else can be set up without the bucket.
            run.waits("s3.public_access", "Block Public Access");
            run.waits("s3.layout", "Layout");
            run.waits("s3.images", "Images");
            return Ok(run.report());
        };
        run.public_access(!bucket_exists).await?;
        run.layout().await?;
        match &req.images_dir {
            None => {
                let step = run.step(
                    "s3.images",
                    "Images",
                    layout.uri(&layout.images),
                    StepStatus::Skipped,
                    "No images folder was given; upload one with --images DIR (or from Setup → Storage).".into(),
                    None,
                );
                run.push(step).await?;
            }
            Some(dir) => {
                run.images(std::path::Path::new(dir), bucket_exists, progress, cancel)
                    .await?
            }
        }
        Ok(run.report())
    }
}

struct StorageRun<'a> {
    log: StepLog<'a>,
    store: &'a dyn ObjectStore,
    layout: &'a StorageLayout,
}

impl StorageRun<'_> {
    fn report(self) -> SetupReport {
        self.log.report("storage")
    }

    /// Storage steps write no documents: no detail.
    fn step(
        &self,
        key: &str,
        title: &str,
        resource: String,
        status: StepStatus,
        summary: String,
        error: Option<ApiError>,
    ) -> SetupStep {
        self.log
            .step(key, title, resource, status, summary, None, error)
    }

    async fn push(&mut self, step: SetupStep) -> Result<(), ApiError> {
        self.log.push(step).await
    }

    fn failed(&self, key: &str, title: &str, resource: String, e: ApiError) -> SetupStep {
        let summary = e.message.clone();
        self.step(key, title, resource, StepStatus::Failed, summary, Some(e))
    }

    /// A step that cannot run before the bucket exists.
    fn waits(&mut self, key: &str, title: &str) {
        self.log
            .waits(key, title, self.layout.uri(""), "the bucket");
    }

    /// `Some(true)` when the bucket exists (now or already), `Some(false)` when it would be
    /// created (plan only), `None` when it cannot be used.
    async fn bucket(&mut self) -> Result<Option<bool>, ApiError> {
        let (bucket, region) = (&self.layout.bucket, &self.layout.region);
        let uri = self.layout.uri("");
        let (key, title) = ("s3.bucket", "Bucket");
        let state = match self.store.bucket_state(bucket).await {
            Ok(s) => s,
            Err(e) => {
                let step = self.failed(key, title, uri, e);
                self.push(step).await?;
                return Ok(None);
            }
        };
        let step = match state {
            BucketState::Reachable { region: r } if &r == region => self.step(
                key,
                title,
                uri,
                StepStatus::Unchanged,
                format!("The bucket exists in {region}."),
                None,
            ),
            BucketState::Reachable { region: r } => {
                let e = ApiError::new(
                    ErrorCode::AwsBadRegion,
                    format!("The bucket '{bucket}' is in {r}, not {region}. SageMaker reads training data from its own region: run the setup with --region {r}, or choose another bucket name."),
                );
                let step = self.failed(key, title, uri, e);
                self.push(step).await?;
                return Ok(None);
            }
            BucketState::Forbidden => {
                let e = ApiError::new(
                    ErrorCode::NameTaken,
                    format!("The bucket '{bucket}' exists, but not in this AWS account (bucket names are global), or these credentials may not read it. Try '{}'.", suggest_bucket_name(bucket, self.log.engine.clock.now_ms())),
                );
                let step = self.failed(key, title, uri, e);
                self.push(step).await?;
                return Ok(None);
            }
            BucketState::Missing if self.log.plan => {
                let step = self.step(
                    key,
                    title,
                    uri,
                    StepStatus::Planned,
                    format!(
                        "Create the bucket in {region}, private (Block Public Access on).{}",
                        managed_policy_note(bucket)
                    ),
                    None,
                );
                self.push(step).await?;
                return Ok(Some(false));
            }
            BucketState::Missing => {
                let created = self.store.create_bucket(bucket).await;
                // Verify live: the bucket answers, in the region asked for.
                let verified =
                    match &created {
                        Ok(_) => self.store.bucket_state(bucket).await.map(
                            |s| matches!(s, BucketState::Reachable { region: r } if &r == region),
                        ),
                        Err(e) => Err(e.clone()),
                    };
                match (created, verified) {
                    (Ok(c), Ok(true)) => self.step(
                        key,
                        title,
                        uri,
                        if c == Created::New {
                            StepStatus::Created
                        } else {
                            StepStatus::Unchanged
                        },
                        format!("The bucket is in {region}.{}", managed_policy_note(bucket)),
                        None,
                    ),
                    (Ok(_), Ok(false)) => self.failed(
                        key,
                        title,
                        uri,
                        ApiError::new(ErrorCode::AwsError, format!("S3 accepted the bucket '{bucket}' but does not show it in {region} yet. Run the setup again in a minute.")),
                    ),
                    (Err(e), _) | (_, Err(e)) => self.failed(key, title, uri, e),
                }
            }
        };
        let ok = step.status != StepStatus::Failed;
        self.push(step).await?;
        Ok(ok.then_some(true))
    }

    async fn public_access(&mut self, bucket_is_planned: bool) -> Result<(), ApiError> {
        let (key, title) = ("s3.public_access", "Block Public Access");
        let uri = self.layout.uri("");
        let bucket = &self.layout.bucket;
        let wanted = "All four Block Public Access settings are on: nothing in the bucket can be made public.";
        // A bucket still to be created has no settings yet: they are all off.
        let blocked = if bucket_is_planned {
            Ok(false)
        } else {
            self.store.public_access_blocked(bucket).await
        };
        let step = match blocked {
            Err(e) => self.failed(key, title, uri, e),
            Ok(true) => self.step(key, title, uri, StepStatus::Unchanged, wanted.into(), None),
            Ok(false) if self.log.plan => self.step(
                key,
                title,
                uri,
                StepStatus::Planned,
                "Turn on all four Block Public Access settings.".into(),
                None,
            ),
            Ok(false) => {
                let done = match self.store.block_public_access(bucket).await {
                    Ok(()) => self.store.public_access_blocked(bucket).await,
                    Err(e) => Err(e),
                };
                match done {
                    Ok(true) => self.step(key, title, uri, StepStatus::Updated, wanted.into(), None),
                    Ok(false) => self.failed(key, title, uri, ApiError::new(ErrorCode::AwsError, "S3 accepted Block Public Access but does not report it on. Check the bucket in the S3 console, Permissions tab.")),
                    Err(e) => self.failed(key, title, uri, e),
                }
            }
        };
        self.push(step).await
    }

    async fn layout(&mut self) -> Result<(), ApiError> {
        let l = self.layout;
        let summary = format!(
            "Images under {}, Label Studio's annotations under {}, scripts under {}<name>/, model output under {}.",
            l.uri(&l.images),
            l.uri(&l.annotations),
            l.uri(&l.scripts),
            l.uri(&l.model)
        );
        let saved = self.log.engine.storage_layout().await?;
        let status = match (&saved, self.log.plan) {
            (Some(s), _) if s == l => StepStatus::Unchanged,
            (_, true) => StepStatus::Planned,
            (None, false) => StepStatus::Created,
            (Some(_), false) => StepStatus::Updated,
        };
        if !self.log.plan && status != StepStatus::Unchanged {
            let json = serde_json::to_string(l).map_err(|e| ApiError::internal(e.to_string()))?;
            self.log.engine.store.set_setting(LAYOUT, &json).await?;
        }
        let step = self.step("s3.layout", "Layout", l.uri(""), status, summary, None);
        self.push(step).await
    }

    async fn images(
        &mut self,
        dir: &std::path::Path,
        bucket_exists: bool,
        progress: Option<ProgressFn>,
        cancel: Option<Arc<AtomicBool>>,
    ) -> Result<(), ApiError> {
        let (key, title) = ("s3.images", "Images");
        let l = self.layout;
        let uri = l.uri(&l.images);
        let folder = match scan(dir) {
            Ok(f) => f,
            Err(e) => {
                let step = self.failed(key, title, uri, e);
                return self.push(step).await;
            }
        };
        let skipped = skipped_phrase(folder.skipped.len());
        if self.log.plan {
            let todo = if bucket_exists {
                match missing(self.store, &l.bucket, &l.images, &folder).await {
                    Ok(t) => t.len() as u64,
                    Err(e) => {
                        let step = self.failed(key, title, uri, e);
                        return self.push(step).await;
                    }
                }
            } else {
                folder.images.len() as u64
            };
            let bytes: u64 = folder.bytes();
            let present = folder.images.len() as u64 - todo;
            let status = if todo == 0 {
                StepStatus::Unchanged
            } else {
                StepStatus::Planned
            };
            let summary = format!(
                "Upload {} from {} ({}); {} already there{skipped}.",
                count(todo, "image"),
                dir.display(),
                human_bytes(bytes),
                thousands(present),
            );
            let step = self.step(key, title, uri, status, summary, None);
            return self.push(step).await;
        }
        let upload = Upload {
            store: self.store,
            bucket: &l.bucket,
            prefix: &l.images,
            clock: self.log.engine.clock.as_ref(),
            progress,
            cancel,
        };
        let step = match upload.run(&folder).await {
            Err(e) => self.failed(key, title, uri, e),
            Ok(done) => match self.verify_images(&folder).await {
                Err(e) => self.failed(key, title, uri, e),
                Ok(()) => self.step(
                    key,
                    title,
                    uri,
                    if done.uploaded > 0 {
                        StepStatus::Uploaded
                    } else {
                        StepStatus::Unchanged
                    },
                    format!(
                        "{} uploaded, {} already there{skipped}.",
                        thousands(done.uploaded),
                        thousands(done.present)
                    ),
                    None,
                ),
            },
        };
        self.push(step).await
    }

    /// Every image is in the bucket at its size.
    async fn verify_images(&self, folder: &super::images::Folder) -> Result<(), ApiError> {
        let l = self.layout;
        let listed: std::collections::HashMap<String, u64> = self
            .store
            .list(&l.bucket, &format!("{}/", l.images))
            .await?
            .into_iter()
            .map(|o| (o.key, o.size))
            .collect();
        let absent: Vec<&str> = folder
            .images
            .iter()
            .filter(|f| listed.get(&key_for(&l.images, &f.rel)) != Some(&f.size))
            .map(|f| f.rel.as_str())
            .collect();
        match absent.first() {
            None => Ok(()),
            Some(first) => Err(ApiError::new(
                ErrorCode::AwsError,
                format!("{} of the images are not in the bucket after the upload (the first: {first}). Run the setup again.", absent.len()),
            )),
        }
    }
}

/// The managed `AmazonSageMakerFullAccess` policy reaches only buckets whose name contains
/// `sagemaker`; say so where it matters.
fn managed_policy_note(bucket: &str) -> &'static str {
    if bucket.contains("sagemaker") {
        ""
    } else {
        " Its name has no 'sagemaker' in it, so a role with only the managed AmazonSageMakerFullAccess policy cannot read it; choose the scoped policy in the training step, or a name starting with 'sagemaker-'."
    }
}

fn skipped_phrase(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(", {} skipped (not images)", thousands(n as u64))
    }
}

pub(crate) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn count(n: u64, what: &str) -> String {
    format!("{} {what}{}", thousands(n), if n == 1 { "" } else { "s" })
}

pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_a_person_writes_them() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1488), "1,488");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(104_857_600), "104.9 MB");
        assert_eq!(skipped_phrase(3), ", 3 skipped (not images)");
    }

    #[test]
    fn prefixes_default_to_the_tutorial_layout_and_must_not_overlap() {
        let req = StorageRequest {
            bucket: "sagemaker-birds".into(),
            region: "eu-west-1".into(),
            images_prefix: Some("/photos/".into()),
            ..Default::default()
        };
        let l = layout_of(&req).unwrap();
        assert_eq!(l.images, "photos");
        assert_eq!(l.annotations, "annotations");
        assert_eq!(l.uri(&l.model), "s3://sagemaker-birds/model/");
        let bad = StorageRequest {
            images_prefix: Some("data".into()),
            model_prefix: Some("data/model".into()),
            ..req.clone()
        };
        assert!(layout_of(&bad).is_err());
        let empty = StorageRequest {
            images_prefix: Some("/".into()),
            ..req
        };
        assert!(layout_of(&empty).is_err());
    }
}
