//! Domain types shared by every Loopline crate and, through generated bindings, by the UI.
//!
//! No I/O lives here: this crate must stay cheap to depend on and trivial to test.

mod activity;
mod aquarium;
mod aquarium_export;
mod automation;
mod aws;
mod bindings;
mod catch_up;
mod clock;
mod companion;
mod condition;
mod connection;
mod database;
mod dataset;
mod delivery_state;
mod error;
mod event;
pub mod forward_template;
pub mod json_template;
mod model;
mod receiver;
mod retrain;
mod secret;
pub mod secret_names;
mod sensitive;
mod setup;
mod source;
mod time;
mod tunnel;

pub use activity::{ProcessStatus, Quiescence, TaskState, TaskStatus};
pub use aquarium::{
    AquariumIssue, AquariumIssueSummary, ElementType, Geometry, IssueElement, IssueLabel, Keypoint,
    SkippedElement,
};
pub use aquarium_export::{
    ExportBrief, ExportCreated, ExportFailed, ExportLabels, ExportPreview, ExportReport,
    ExportRequest, ExportSkipped, ExportState, ExportTarget, PreviewHeader, PreviewRequest,
};
pub use automation::{
    Automation, AutomationAction, AutomationDelivery, AutomationDetail, AutomationPreview,
    AutomationRequest, AutomationTrigger, DeliveryStatus, FireMode,
};
pub use aws::{AwsIdentity, AwsMode, AwsSettings};
pub use bindings::{typescript_bindings, BINDINGS_HEADER};
pub use catch_up::{CatchUp, CatchUpReport, CatchUpTrigger};
pub use clock::{Clock, Entropy};
pub use companion::{
    AutostartStatus, CloseAction, CompanionLevel, CompanionPrefs, CompanionStatus, Notice,
    NoticeKind, NotificationPrefs, QuitPlan,
};
pub use condition::{
    check_message, render_message, render_message_with, Condition, ConditionField, ConditionOp,
    ConditionValue, EventFacts, Fact, FieldType, CONDITION_FIELDS,
};
pub use connection::{LabelStudioIdentity, TokenKind};
pub use database::{DbBackup, DbCheck, DbRestore};
pub use dataset::{
    annotation_labels, diff as dataset_diff, manifest_key, version_name, version_number,
    DatasetDiff, DatasetManifest, DatasetVersion, LabelCounts, ManifestObject, ManifestProject,
    ManifestTrigger, MANIFEST_FORMAT,
};
pub use delivery_state::{ElementState, OutboxState};
pub use error::{ApiError, ErrorCode};
pub use event::{
    EventDetail, EventKind, EventPage, EventQuery, EventStatus, EventSummary, Header,
    ReplayOutcome, RetentionPolicy, TimelineChanged, TimelineStats,
};
pub use model::{ModelDecision, ModelList, ModelMetric, ModelVersion};
pub use receiver::{AppInfo, Diagnostics, Health, ReceiverState, ReceiverStatus};
pub use retrain::{
    CountPoint, Counter, DeletedHookPolicy, HookRegistration, Overlap, PipelineParam, RetrainRule,
    RuleHistory, RuleRequest, Run, RunStatus, RunStep,
};
pub use secret::SecretInfo;
pub use sensitive::Sensitive;
pub use setup::{
    LabelTemplate, LabelingChoice, LabelingRequest, RolePolicy, RoleRequest, SetupJob, SetupReport,
    SetupStep, SetupWork, StepStatus, StorageCredentials, StorageLayout, StorageRequest,
    UploadProgress,
};
pub use source::{CreatedSource, Source, SourceKind};
pub use time::{parse_rfc3339_ms, rfc3339_ms};
pub use tunnel::{NamedTunnel, TunnelConfig, TunnelState, TunnelStatus, TunnelTest};

/// The version every binary reports, taken from the workspace.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
