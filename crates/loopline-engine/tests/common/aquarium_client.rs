//! Issue bodies shaped the way Aquarium's Python client (`aquariumlearning` 1.0.7) writes
//! its frames: `Image.to_dict()` for each sensor, `_BaseSingleCrop.to_dict()` for each label
//! (`label_coordinate_frame` is the label's `sensor_id`), keypoints as `{x, y, name}` in
//! pixels, inferences with `attributes.confidence`. The tests build their cases from these,
//! not from the shared fixture, so each shape is the client's and not a guess at it.

use serde_json::{json, Value};

/// `Image(id=sensor, image_url=url, width=, height=).to_dict()`: no size gives `{}`.
pub fn image(sensor: &str, url: &str, size: Option<(u32, u32)>) -> Value {
    let meta = match size {
        Some((w, h)) => json!({"width": w, "height": h}),
        None => json!({}),
    };
    json!({
        "coordinate_frame": sensor,
        "data_urls": {"image_url": url},
        "date_captured": null,
        "sensor_id": sensor,
        "sensor_metadata": meta,
        "sensor_type": "IMAGE_V0",
        "mirror_asset": false,
    })
}

/// A label dict; `confidence` makes it an inference (the client puts it in `attributes`).
pub fn label(
    uuid: &str,
    label_type: &str,
    class: &str,
    sensor: &str,
    mut attributes: Value,
    confidence: Option<f64>,
) -> Value {
    if let Some(c) = confidence {
        attributes["confidence"] = json!(c);
    }
    json!({
        "uuid": uuid,
        "label_type": label_type,
        "label": class,
        "class_id": null,
        "label_coordinate_frame": sensor,
        "attributes": attributes,
        "reuse_latest_embedding": false,
        "change": "ADD",
    })
}

/// `add_2d_bbox(top=, left=, width=, height=)`.
pub fn bbox(uuid: &str, class: &str, sensor: &str, ltwh: [f64; 4], conf: Option<f64>) -> Value {
    let [left, top, width, height] = ltwh;
    label(
        uuid,
        "BBOX_2D",
        class,
        sensor,
        json!({"top": top, "left": left, "width": width, "height": height}),
        conf,
    )
}

/// `add_2d_keypoints(keypoints=[{x, y, name}], ...)`, with the optional box beside it.
pub fn keypoints(uuid: &str, class: &str, sensor: &str, points: &[(f64, f64, &str)]) -> Value {
    let kps: Vec<Value> = points
        .iter()
        .map(|(x, y, n)| json!({"x": x, "y": y, "name": n}))
        .collect();
    label(
        uuid,
        "KEYPOINTS_2D",
        class,
        sensor,
        json!({"keypoints": kps, "top": 10, "left": 10, "width": 100, "height": 80}),
        None,
    )
}

/// `add_2d_semseg(mask_url=...)`: the label is `__mask`.
pub fn semseg(uuid: &str, sensor: &str, url: &str) -> Value {
    label(
        uuid,
        "SEMANTIC_LABEL_URL_2D",
        "__mask",
        sensor,
        json!({"url": url}),
        None,
    )
}

/// `LabeledFrame.to_dict()` with its labels in `label_data`.
pub fn frame(task_id: &str, sensors: Vec<Value>, labels: Vec<Value>) -> Value {
    json!({
        "task_id": task_id,
        "date_captured": "2026-12-02 10:05:15.876128",
        "device_id": null,
        "coordinate_frames": [],
        "sensor_data": sensors,
        "geo_data": {},
        "reuse_latest_embedding": false,
        "change": "ADD",
        "user_metadata_types": {},
        "user_metadata_modes": {},
        "label_data": labels,
    })
}

/// A frame element of an issue.
pub fn frame_element(id: &str, frame_data: Value) -> Value {
    json!({
        "dataset": "birds",
        "inference_set": "birds-model-v2",
        "issue_name": "client-shapes",
        "element_id": id,
        "element_type": "frame",
        "frame_id": id,
        "frame_data": frame_data,
    })
}

/// The `issue-exported` body.
pub fn issue(id: &str, elements: Vec<Value>) -> Value {
    json!({"event": "issue-exported", "project": {"name": "birds"}, "issue": {"id": id, "elements": elements}})
}
