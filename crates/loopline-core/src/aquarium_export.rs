//! Sending an Aquarium issue's elements somewhere: a Label Studio project, a REST endpoint or
//! a GraphQL endpoint. What the user asks for, what a preview shows before anything is sent,
//! and what each element became. Shared with the UI.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Where an export goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExportTarget {
    /// A project on the connected Label Studio: one task per element, with predictions.
    LabelStudio { project: i64 },
    /// One POST of a JSON body built from a template (Aquarium's REST sample, done right).
    Rest {
        url: String,
        /// A JSON template; `None` for the default body (name, project, frames).
        body_template: Option<String>,
        /// The keychain secret sent as `Authorization: Bearer …`.
        auth_secret: Option<String>,
    },
    /// One GraphQL mutation with variables built from a template.
    Graphql {
        url: String,
        query: String,
        /// A JSON template; `None` for `{issueId, labelIds}`.
        variables_template: Option<String>,
        auth_secret: Option<String>,
    },
}

impl ExportTarget {
    /// The words and key an export is filed under: the same issue sent to the same target
    /// twice is recognised by this.
    pub fn key(&self) -> String {
        match self {
            ExportTarget::LabelStudio { project } => format!("label-studio:{project}"),
            ExportTarget::Rest { url, .. } => format!("rest:{url}"),
            ExportTarget::Graphql { url, .. } => format!("graphql:{url}"),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            ExportTarget::LabelStudio { project } => format!("Label Studio project {project}"),
            ExportTarget::Rest { url, .. } => format!("REST {url}"),
            ExportTarget::Graphql { url, .. } => format!("GraphQL {url}"),
        }
    }
}

/// Which of a frame's labels go into its Label Studio prediction (or an endpoint's body).
/// An Aquarium issue exists to fix labels, so by default the annotator sees the labels in
/// question (ground truth, no score) beside the model's opinion (inferences, with their
/// confidence). A crop always sends its own label.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportLabels {
    GroundTruth,
    Inferences,
    #[default]
    Both,
}

impl ExportLabels {
    /// Whether a label (ground truth or an inference) is sent.
    pub fn takes(self, inference: bool) -> bool {
        match self {
            ExportLabels::GroundTruth => !inference,
            ExportLabels::Inferences => inference,
            ExportLabels::Both => true,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            ExportLabels::GroundTruth => "ground truth",
            ExportLabels::Inferences => "inferences",
            ExportLabels::Both => "ground truth and inferences",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExportRequest {
    pub issue_id: String,
    pub target: ExportTarget,
    /// The chosen elements; `None` for all of them.
    pub elements: Option<Vec<String>>,
    /// Which labels are sent; both when left out.
    #[serde(default)]
    pub labels: ExportLabels,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExportCreated {
    pub element_id: String,
    /// The Label Studio task (none for REST and GraphQL targets).
    pub task_id: Option<i64>,
    /// What of the element the task does not carry ("masks not sent: …").
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExportSkipped {
    pub element_id: String,
    pub reason: String,
    /// Already at the target: the task that holds it.
    pub task_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExportFailed {
    pub element_id: String,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportState {
    /// Queued or being sent (resumed after a crash).
    Pending,
    /// Every element has its result (some may have failed).
    Done,
    /// The whole export gave up (target unreachable past its deadline, refused).
    Failed,
}

/// One export and what each element became.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExportReport {
    pub export_id: i64,
    pub issue_id: String,
    pub target: String,
    pub state: ExportState,
    pub created_at: String,
    pub created: Vec<ExportCreated>,
    pub skipped: Vec<ExportSkipped>,
    pub failed: Vec<ExportFailed>,
    /// Elements not sent yet.
    pub pending: u32,
    /// The last error in words, while retrying or after giving up.
    pub last_error: Option<String>,
}

/// An export in the issue list: where it went and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExportBrief {
    pub export_id: i64,
    pub target: String,
    pub state: ExportState,
    pub created: u32,
    pub skipped: u32,
    pub failed: u32,
    pub pending: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PreviewHeader {
    pub name: String,
    /// Secrets are masked.
    pub value: String,
}

/// One request exactly as it would be sent (secrets masked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PreviewRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<PreviewHeader>,
    #[ts(type = "unknown")]
    pub body: serde_json::Value,
}

/// What an export would do: the requests, the elements it would skip and why, and what in
/// the issue does not fit the target (classes missing from a labeling config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ExportPreview {
    pub target: String,
    /// Elements that would be sent.
    pub sending: u32,
    pub requests: Vec<PreviewRequest>,
    pub skipped: Vec<ExportSkipped>,
    pub misfits: Vec<String>,
}
