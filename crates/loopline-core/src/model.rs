//! The pipeline's model versions, as the Models section of a run and `loopline models`
//! show them: one SageMaker model package per run, its metrics, its approval, and how it
//! compares with the version approved now.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// One metric of a version, beside the approved version's value when there is one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ModelMetric {
    /// `mIOU` or `pixel_accuracy` (the algorithm's `validation:` metrics).
    pub name: String,
    pub value: f64,
    pub approved_value: Option<f64>,
    /// `value - approved_value`: higher is better for both metrics.
    pub delta: Option<f64>,
}

/// One model version (a SageMaker model package in the pipeline's group).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ModelVersion {
    pub arn: String,
    pub group: String,
    pub version: i64,
    /// `PendingManualApproval`, `Approved` or `Rejected`, as SageMaker says.
    pub status: String,
    /// The approval's note (ApprovalDescription).
    pub note: Option<String>,
    pub created_at: Option<String>,
    /// The pipeline execution that registered it (MetadataProperties.GeneratedBy), and the
    /// Loopline run that started that execution, when known.
    pub execution_arn: Option<String>,
    pub run_id: Option<i64>,
    pub metrics: Vec<ModelMetric>,
    /// Why there are no metrics, when there are none.
    pub metrics_note: Option<String>,
    /// This is the version approved now (the newest Approved one).
    pub approved_now: bool,
    /// The approved version the deltas compare with.
    pub compared_with: Option<i64>,
}

/// `loopline models list`: the pipeline's group and its newest versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ModelList {
    pub pipeline: String,
    pub group: String,
    pub group_arn: String,
    pub region: String,
    /// The version approved now, if any.
    pub approved: Option<i64>,
    pub versions: Vec<ModelVersion>,
}

/// What a person decides about a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ModelDecision {
    Approve,
    Reject,
}

impl ModelDecision {
    /// The ModelApprovalStatus it sets.
    pub fn status(self) -> &'static str {
        match self {
            ModelDecision::Approve => "Approved",
            ModelDecision::Reject => "Rejected",
        }
    }
}
