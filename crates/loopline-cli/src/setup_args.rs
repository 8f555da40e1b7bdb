//! The arguments of `loopline setup …`, apart from the rest of the CLI's so each file keeps
//! one concern.

use clap::{Args, Subcommand};

use crate::global_args::JsonFlag;

#[derive(Debug, Subcommand)]
pub enum SetupCommand {
    /// The S3 bucket (created in --region, private), the prefix layout, and the images
    /// folder uploaded (resumable: a rerun uploads only what is missing or changed).
    S3(SetupS3),
    /// The SageMaker execution role: trusted by SageMaker for this account only, with the
    /// managed policy or one scoped to the bucket (shown with --plan before it is created).
    Sagemaker(SetupSagemaker),
    /// The Label Studio project (labeling config from a template or your own), the source
    /// storage of images (synced into tasks), the target storage for annotations, the
    /// credentials Label Studio reaches the bucket with, and Loopline's webhook.
    LabelStudio(Box<SetupLabelStudio>),
    /// The first run's last step: one test annotation through the public URL, end to end
    /// (stored, parsed, counted, exported by Label Studio), then deleted with its export.
    Check(SetupCheck),
    /// Every setup step: done, to do, or failed with the reason.
    Status(JsonFlag),
}

#[derive(Debug, Args)]
pub struct SetupS3 {
    #[arg(long)]
    pub bucket: String,
    #[arg(long)]
    pub region: String,
    /// A folder of images to upload (nested folders too; other files are skipped).
    #[arg(long)]
    pub images: Option<std::path::PathBuf>,
    /// Where the images go in the bucket.
    #[arg(long, default_value = "bird-images")]
    pub prefix_images: String,
    /// Where Label Studio writes annotations.
    #[arg(long, default_value = "annotations")]
    pub prefix_annotations: String,
    /// Where the pipeline's scripts go (one prefix per script under it).
    #[arg(long, default_value = "script")]
    pub prefix_scripts: String,
    /// Where training writes the model.
    #[arg(long, default_value = "model")]
    pub prefix_model: String,
    /// Show what would be done, with the resources, and do nothing.
    #[arg(long)]
    pub plan: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SetupSagemaker {
    #[arg(long)]
    pub region: String,
    /// The bucket the role may reach; the one `setup s3` set up when left out.
    #[arg(long)]
    pub bucket: Option<String>,
    /// The role to create, or to find by name (LooplineSageMakerExecution by default).
    #[arg(long, conflicts_with = "role_arn")]
    pub role: Option<String>,
    /// An existing role to use as it is: checked, never changed.
    #[arg(long)]
    pub role_arn: Option<String>,
    /// managed: AmazonSageMakerFullAccess (buckets named *sagemaker* only); scoped: an
    /// inline policy for this bucket, image pulls, job logs and passing this role.
    #[arg(long, value_parser = ["managed", "scoped"], default_value = "managed")]
    pub policy: String,
    /// The SageMaker pipeline to create or update from Loopline's template (preprocess,
    /// train, cleanup); the role alone when left out.
    #[arg(long)]
    pub pipeline: Option<String>,
    /// The classes Label Studio annotates, in order (background is added as class 0). The
    /// pipeline's last labels when left out.
    #[arg(long, value_delimiter = ',')]
    pub labels: Vec<String>,
    /// The training instance type's default (the pipeline's TrainingInstanceType
    /// parameter); a GPU type, ml.p3.2xlarge, when left out.
    #[arg(long)]
    pub training_instance: Option<String>,
    /// Train with the existing pipeline named by --pipeline as it is: checked and its
    /// parameters shown, never changed.
    #[arg(long, requires = "pipeline")]
    pub use_existing_pipeline: bool,
    #[arg(long)]
    pub plan: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SetupLabelStudio {
    /// Found by this exact title (titles are not unique in Label Studio), or created.
    #[arg(long, required_unless_present = "project", default_value = "")]
    pub project_title: String,
    /// An existing project to use, by id.
    #[arg(long)]
    pub project: Option<i64>,
    #[arg(long, value_parser = ["semantic-segmentation-polygons", "bounding-boxes"], default_value = "semantic-segmentation-polygons", conflicts_with = "label_config")]
    pub template: String,
    /// Your own labeling config (XML) instead of a template.
    #[arg(long)]
    pub label_config: Option<std::path::PathBuf>,
    /// The template's labels; the pipeline's when left out.
    #[arg(long, value_delimiter = ',')]
    pub labels: Vec<String>,
    /// The storage setup's bucket and region when left out.
    #[arg(long)]
    pub bucket: Option<String>,
    #[arg(long)]
    pub region: Option<String>,
    #[arg(long)]
    pub images_prefix: Option<String>,
    #[arg(long)]
    pub annotations_prefix: Option<String>,
    /// scoped-user: a dedicated IAM user for this bucket's two prefixes (its key goes to
    /// Label Studio once and is never kept); keys: --access-key-id and --secret-key-secret;
    /// none: Label Studio runs on AWS with its own role.
    #[arg(long, value_parser = ["scoped-user", "keys", "none"], default_value = "scoped-user")]
    pub storage_credentials: String,
    #[arg(long)]
    pub access_key_id: Option<String>,
    /// The keychain secret holding the secret access key (`loopline secret set NAME`).
    #[arg(long)]
    pub secret_key_secret: Option<String>,
    /// The Loopline source whose webhook the project gets.
    #[arg(long)]
    pub source: String,
    /// Where Label Studio reaches Loopline; the verified tunnel URL when left out.
    #[arg(long)]
    pub public_url: Option<String>,
    #[arg(long)]
    pub plan: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SetupCheck {
    /// The Loopline source whose webhook the project has.
    #[arg(long)]
    pub source: String,
    /// The Label Studio project.
    #[arg(long)]
    pub project: i64,
    #[arg(long)]
    pub json: bool,
}
