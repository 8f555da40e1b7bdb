//! An Aquarium issue as the review and export need it: each element with its image, its
//! size when known, and its labels (ground truth and inferences) with their geometry in
//! pixels. Shared with the UI.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Frames are whole images; a crop is one label's region of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ElementType {
    Frame,
    Crop,
}

/// A label's shape, in pixels with the origin at the top left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Geometry {
    Box {
        left: f64,
        top: f64,
        width: f64,
        height: f64,
    },
    /// Each polygon's vertices as `[x, y]`.
    Polygons {
        polygons: Vec<Vec<[f64; 2]>>,
    },
    Keypoints {
        points: Vec<Keypoint>,
    },
    Line {
        x1: f64,
        y1: f64,
        x2: f64,
        y2: f64,
    },
    Classification,
    /// A mask image (semantic or instance): not drawn, not exported as a region.
    Mask {
        url: Option<String>,
    },
    /// A shape Loopline does not draw (cuboids, text tokens), by its label type.
    Other {
        label_type: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Keypoint {
    pub x: f64,
    pub y: f64,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct IssueLabel {
    pub uuid: String,
    /// Aquarium's `label_type` (`BBOX_2D`, `POLYGON_LIST_2D`, …).
    pub label_type: String,
    pub class: String,
    /// Inferences carry a confidence (0 to 1); ground truth does not.
    pub confidence: Option<f64>,
    pub inference: bool,
    pub geometry: Geometry,
    /// The sensor it belongs to (`label_coordinate_frame`).
    pub coordinate_frame: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct IssueElement {
    pub element_id: String,
    pub element_type: ElementType,
    pub frame_id: Option<String>,
    pub dataset: Option<String>,
    pub inference_set: Option<String>,
    pub image_url: Option<String>,
    pub preview_url: Option<String>,
    /// From `sensor_metadata` when the uploader gave it.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// The image sensor shown: the one the labels are drawn in. A frame whose labels span
    /// several sensors is one element per sensor, `{element_id}@{sensor_id}`.
    #[serde(default)]
    pub sensor_id: Option<String>,
    pub labels: Vec<IssueLabel>,
    /// A crop's own label (its `element_id`).
    pub crop_label: Option<String>,
    /// `user__` fields, without the prefix, as text.
    #[ts(type = "Record<string, string>")]
    pub user_metadata: BTreeMap<String, String>,
}

/// An element that could not be used, and why; the others still go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SkippedElement {
    pub element_id: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AquariumIssue {
    pub event: String,
    pub issue_id: Option<String>,
    pub name: Option<String>,
    pub project: Option<String>,
    pub elements: Vec<IssueElement>,
    pub skipped: Vec<SkippedElement>,
}

/// A received issue in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AquariumIssueSummary {
    pub issue_id: String,
    pub project: Option<String>,
    pub name: Option<String>,
    pub elements: u32,
    /// Elements that cannot be reviewed or exported (each with its reason in the issue).
    pub skipped: u32,
    pub received_at: String,
    /// The newest delivery's event, for the timeline.
    pub event_id: i64,
    /// Each export of this issue, newest first.
    pub exports: Vec<crate::ExportBrief>,
}
