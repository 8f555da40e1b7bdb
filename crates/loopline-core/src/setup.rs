//! Guided setup: every step shows what it would do and the resource it touches before it
//! acts, then what it did. A second run with nothing changed reports `unchanged` and does
//! nothing.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::ApiError;

/// Setup work that waits on others (Label Studio, IAM) and that the user may cancel: the
/// loop check, the labeling setup (its storages' retries and sync) and the SageMaker setup
/// (its retries while a new role spreads through IAM). What was done is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SetupWork {
    Check,
    Labeling,
    Role,
}

/// Where one setup step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// `--plan`: this would be done (the summary says what).
    Planned,
    /// Already as wanted; nothing was done.
    Unchanged,
    Created,
    Updated,
    /// Files went up (the summary counts them).
    Uploaded,
    /// Not applicable this time (no images folder given, say).
    Skipped,
    Failed,
}

impl StepStatus {
    /// Whether the step is in its wanted state.
    pub fn is_done(self) -> bool {
        matches!(
            self,
            StepStatus::Unchanged
                | StepStatus::Created
                | StepStatus::Updated
                | StepStatus::Uploaded
        )
    }
}

/// One step of a setup, with the resource it touches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SetupStep {
    /// A stable id: `s3.bucket`, `s3.public_access`, `s3.images`, …
    pub key: String,
    pub title: String,
    /// What it touches: an `s3://` URI, an ARN, a Label Studio id.
    pub resource: String,
    pub status: StepStatus,
    /// What it would do or did, in words ("Create the bucket in eu-west-1", "312 uploaded,
    /// 1,488 already there, 3 skipped (not images)").
    pub summary: String,
    /// The exact document the step writes or found (a trust or permission policy), shown
    /// before anything is created.
    #[serde(default)]
    pub detail: Option<String>,
    pub error: Option<ApiError>,
    /// When the step last ran (RFC 3339); `None` in a plan.
    pub at: Option<String>,
}

/// What `loopline setup s3` shows or did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SetupReport {
    /// `storage` or `training`.
    pub section: String,
    /// True for `--plan`: nothing was done.
    pub planned: bool,
    pub steps: Vec<SetupStep>,
}

impl SetupReport {
    pub fn failed(&self) -> Option<&SetupStep> {
        self.steps.iter().find(|s| s.status == StepStatus::Failed)
    }
}

/// What the user asks of the storage setup. Prefixes default to the tutorial's layout.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct StorageRequest {
    pub bucket: String,
    pub region: String,
    /// A folder of images to upload; none: only the bucket and layout.
    pub images_dir: Option<String>,
    pub images_prefix: Option<String>,
    pub annotations_prefix: Option<String>,
    pub scripts_prefix: Option<String>,
    pub model_prefix: Option<String>,
}

/// A storage setup running in the background of the app: its progress, then its report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct SetupJob {
    pub running: bool,
    pub progress: Option<UploadProgress>,
    /// The outcome, once it ended.
    pub report: Option<SetupReport>,
    /// Why it could not run at all (bad input, no credentials); step failures are in the
    /// report.
    pub error: Option<ApiError>,
}

/// Which permissions the execution role gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RolePolicy {
    /// `AmazonSageMakerFullAccess`: simple; reaches only buckets named `*sagemaker*`.
    #[default]
    Managed,
    /// An inline policy for this bucket, image pulls, job logs and passing the role.
    Scoped,
}

/// What the user asks of the execution role's setup.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RoleRequest {
    pub region: String,
    /// The bucket the role reaches; the storage setup's when `None`.
    pub bucket: Option<String>,
    /// The role to create (or find) by name; `LooplineSageMakerExecution` when `None`.
    pub role: Option<String>,
    /// An existing role to use as it is (checked, never changed).
    pub role_arn: Option<String>,
    pub policy: RolePolicy,
    /// The pipeline to create or update from Loopline's template (or to use as it is, with
    /// `use_existing_pipeline`); the role alone when `None`.
    #[serde(default)]
    pub pipeline: Option<String>,
    /// The classes Label Studio annotates, in order (class 1, 2, …; background is 0). The
    /// pipeline's last labels when empty.
    #[serde(default)]
    pub labels: Vec<String>,
    /// The training instance type's default; a GPU type (`ml.p3.2xlarge`) when `None`.
    #[serde(default)]
    pub training_instance: Option<String>,
    /// Train with an existing pipeline as it is: checked and shown, never changed.
    #[serde(default)]
    pub use_existing_pipeline: bool,
}

/// Where things live in the bucket. Every prefix is the user's to rename; none ends in `/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct StorageLayout {
    pub bucket: String,
    pub region: String,
    pub images: String,
    pub annotations: String,
    pub scripts: String,
    pub model: String,
}

impl StorageLayout {
    pub const DEFAULT_IMAGES: &'static str = "bird-images";
    pub const DEFAULT_ANNOTATIONS: &'static str = "annotations";
    pub const DEFAULT_SCRIPTS: &'static str = "script";
    pub const DEFAULT_MODEL: &'static str = "model";

    /// The default prefixes in `bucket`.
    pub fn with_defaults(bucket: &str, region: &str) -> StorageLayout {
        StorageLayout {
            bucket: bucket.to_string(),
            region: region.to_string(),
            images: Self::DEFAULT_IMAGES.into(),
            annotations: Self::DEFAULT_ANNOTATIONS.into(),
            scripts: Self::DEFAULT_SCRIPTS.into(),
            model: Self::DEFAULT_MODEL.into(),
        }
    }

    /// `s3://bucket/prefix/` for a prefix of this layout.
    pub fn uri(&self, prefix: &str) -> String {
        if prefix.is_empty() {
            format!("s3://{}/", self.bucket)
        } else {
            format!("s3://{}/{}/", self.bucket, prefix)
        }
    }
}

/// An upload under way: enough for a progress bar with a rate and the time left.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct UploadProgress {
    pub files_total: u64,
    /// Uploaded or found already there.
    pub files_done: u64,
    pub files_uploaded: u64,
    pub files_present: u64,
    /// Files that are not images, left out.
    pub files_skipped: u64,
    pub bytes_total: u64,
    pub bytes_done: u64,
    /// Bytes a second actually sent, since the upload started.
    pub bytes_per_second: u64,
    /// `None` until there is a rate to go by.
    pub seconds_left: Option<u64>,
    /// The file being sent, relative to the folder.
    pub current: Option<String>,
    pub finished: bool,
}

/// The labeling configuration a new Label Studio project starts from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum LabelTemplate {
    /// Polygons over the image: what the segmentation pipeline trains on.
    #[default]
    SemanticSegmentationPolygons,
    /// Rectangles over the image.
    BoundingBoxes,
}

/// Which AWS credentials Label Studio reads the images and writes the annotations with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum StorageCredentials {
    /// A dedicated IAM user for this bucket's two prefixes; its key goes to Label Studio
    /// once and is never kept by Loopline.
    #[default]
    ScopedUser,
    /// Keys the user gives (the secret is read from the keychain by name).
    Keys,
    /// None: Label Studio runs on AWS with a role of its own.
    None,
}

/// What the user asks of the labeling setup (`loopline setup label-studio`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LabelingRequest {
    /// Found by this exact title, or created with it.
    pub project_title: String,
    /// An existing project to use instead of finding one by title.
    #[serde(default)]
    pub project: Option<i64>,
    #[serde(default)]
    pub template: LabelTemplate,
    /// The user's own labeling config (XML), instead of a template.
    #[serde(default)]
    pub label_config: Option<String>,
    /// The template's labels; the pipeline's when empty.
    #[serde(default)]
    pub labels: Vec<String>,
    /// The storage setup's bucket, region and prefixes when `None`.
    #[serde(default)]
    pub bucket: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub images_prefix: Option<String>,
    #[serde(default)]
    pub annotations_prefix: Option<String>,
    #[serde(default)]
    pub storage_credentials: StorageCredentials,
    /// With `Keys`: the access key id, and the name of the secret holding its secret key.
    #[serde(default)]
    pub access_key_id: Option<String>,
    #[serde(default)]
    pub secret_key_secret: Option<String>,
    /// The Loopline source whose webhook the project gets; no webhook when `None`.
    #[serde(default)]
    pub source: Option<String>,
    /// Where Label Studio reaches Loopline; the verified tunnel URL when `None`.
    #[serde(default)]
    pub public_url: Option<String>,
}

/// What the last labeling setup settled on, for the loop check and the next run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LabelingChoice {
    pub project: i64,
    pub title: String,
    pub source_storage: Option<i64>,
    pub target_storage: Option<i64>,
    /// The Loopline source whose webhook the project has.
    pub source: Option<String>,
}
