//! Aquarium's issue payloads read for review and export, as its Python client really builds
//! them: frames and crops, `sensor_data` and `label_data` as lists, geometry in pixels in
//! `attributes`. Lenient where the senders differ: nested objects sent as JSON strings,
//! camelCase keys (the REST API), the documented typo `label_coorindate_frame`, `project` or
//! `project_name`. An element with no usable frame is skipped with its reason.

use std::borrow::Cow;
use std::collections::BTreeMap;

use loopline_core::{
    AquariumIssue, ElementType, Geometry, IssueElement, IssueLabel, Keypoint, SkippedElement,
};
use serde_json::Value;

/// `snake_case` and its `camelCase` spelling.
fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in snake.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A field by its snake_case name or its camelCase one; a JSON string holding an object
/// or a list is read as that object or list. Borrowed unless it had to be parsed: a 10k
/// element issue is read without copying its elements.
fn field<'a>(v: &'a Value, name: &str) -> Cow<'a, Value> {
    match v.get(name).or_else(|| v.get(camel(name))) {
        Some(raw) => unstring(raw),
        None => Cow::Owned(Value::Null),
    }
}

fn unstring(v: &Value) -> Cow<'_, Value> {
    match v {
        Value::String(s) if s.trim_start().starts_with(['{', '[']) => {
            serde_json::from_str(s).map_or(Cow::Borrowed(v), Cow::Owned)
        }
        _ => Cow::Borrowed(v),
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|f: &f64| f.is_finite())
}

fn list(v: Cow<'_, Value>) -> Vec<Cow<'_, Value>> {
    match v {
        Cow::Borrowed(Value::Array(a)) => a.iter().map(unstring).collect(),
        Cow::Owned(Value::Array(a)) => a
            .iter()
            .map(|x| Cow::Owned(unstring(x).into_owned()))
            .collect(),
        Cow::Borrowed(Value::Object(_)) | Cow::Owned(Value::Object(_)) => vec![v],
        _ => Vec::new(),
    }
}

/// An Aquarium body as an issue; `None` when it has no `issue`.
pub fn parse_issue(body: &Value) -> Option<AquariumIssue> {
    let issue = field(body, "issue");
    if !issue.is_object() {
        return None;
    }
    let project = match &*field(body, "project") {
        Value::Object(o) => o
            .get("name")
            .and_then(text)
            .or_else(|| o.get("id").and_then(text)),
        other => text(other),
    }
    .or_else(|| text(&field(body, "project_name")));
    let mut elements = Vec::new();
    let mut skipped = Vec::new();
    for (n, raw) in list(field(&issue, "elements")).into_iter().enumerate() {
        match element(&raw) {
            Ok(es) => elements.extend(es),
            Err(reason) => {
                let element_id = text(&field(&raw, "element_id"));
                // Without an id, its place is all that tells it apart.
                let reason = match element_id {
                    Some(_) => reason,
                    None => format!("element {} of the issue: {reason}", n + 1),
                };
                skipped.push(SkippedElement { element_id, reason })
            }
        }
    }
    let name = text(&field(&issue, "name")).or_else(|| {
        list(field(&issue, "elements"))
            .iter()
            .find_map(|e| text(&field(e, "issue_name")))
    });
    Some(AquariumIssue {
        event: text(&field(body, "event")).unwrap_or_else(|| "issue-exported".into()),
        issue_id: text(&field(&issue, "id")),
        name,
        project,
        elements,
        skipped,
    })
}

/// One image sensor of a frame: `Image.to_dict()`.
struct Sensor<'a> {
    id: Option<String>,
    /// The sensor's coordinate frame id (a label may name it instead of the sensor).
    frame: Option<String>,
    raw: Cow<'a, Value>,
}

/// The frame's image sensors, in their order. Overlays (`IMAGE_OVERLAY_V0`) are drawn over
/// a base image and are not what is labelled, so they count only when nothing else has an
/// image.
fn image_sensors<'a>(frame: &'a Value) -> Vec<Sensor<'a>> {
    let all: Vec<Sensor> = list(field(frame, "sensor_data"))
        .into_iter()
        .filter(|s| text(&field(&field(s, "data_urls"), "image_url")).is_some())
        .map(|s| Sensor {
            id: text(&field(&s, "sensor_id")),
            frame: text(&field(&s, "coordinate_frame")),
            raw: s,
        })
        .collect();
    let overlay = |s: &Sensor| {
        text(&field(&s.raw, "sensor_type")).is_some_and(|t| t.to_uppercase().contains("OVERLAY"))
    };
    if all.iter().all(overlay) {
        return all;
    }
    all.into_iter().filter(|s| !overlay(s)).collect()
}

/// The sensor a label is drawn in: its `label_coordinate_frame` names the sensor (the
/// client writes `sensor_id`), or else the sensor's coordinate frame.
fn sensor_of(sensors: &[Sensor], label: &IssueLabel) -> Option<usize> {
    let f = label.coordinate_frame.as_deref()?;
    sensors
        .iter()
        .position(|s| s.id.as_deref() == Some(f))
        .or_else(|| sensors.iter().position(|s| s.frame.as_deref() == Some(f)))
}

/// An element as one `IssueElement` per image sensor its labels are drawn in: each with
/// that sensor's image and size. A frame whose labels span several sensors becomes one
/// element per sensor, `{element_id}@{sensor_id}` (stable, so a second export finds each);
/// labels naming no image sensor stay with the first. A crop is its own label's sensor.
fn element(e: &Value) -> Result<Vec<IssueElement>, String> {
    if !e.is_object() {
        return Err("not an element object".into());
    }
    let element_id = text(&field(e, "element_id")).ok_or("no element_id")?;
    let crop_data = field(e, "crop_data");
    let element_type = match text(&field(e, "element_type")).map(|t| t.to_lowercase()) {
        Some(t) if t == "crop" => ElementType::Crop,
        Some(t) if t == "frame" => ElementType::Frame,
        Some(t) => return Err(format!("element type '{t}' is neither frame nor crop")),
        None if crop_data.is_object() => ElementType::Crop,
        None => ElementType::Frame,
    };
    let frame = field(e, "frame_data");
    if !frame.is_object() {
        return Err("no frame data (frame_data is missing or null)".into());
    }
    let sensors = image_sensors(&frame);
    if sensors.is_empty() {
        return Err("no image URL in the frame's sensor_data (no image sensor)".into());
    }

    let mut labels: Vec<IssueLabel> = list(field(&frame, "label_data"))
        .iter()
        .filter_map(|l| label(l, false))
        .collect();
    labels.extend(
        list(field(&frame, "inference_data"))
            .iter()
            .filter_map(|l| label(l, true)),
    );
    // A crop's own label may come only in crop_data.
    if let Some(own) = label(&crop_data, false) {
        if !labels.iter().any(|l| l.uuid == own.uuid) {
            labels.push(own);
        }
    }
    let mut user_metadata = BTreeMap::new();
    for source in [e, &*frame] {
        if let Some(o) = source.as_object() {
            for (k, v) in o {
                if let Some(name) = k.strip_prefix("user__") {
                    let shown = text(v).unwrap_or_else(|| v.to_string());
                    user_metadata.insert(name.to_string(), shown);
                }
            }
        }
    }

    // Which sensor's image each element shows, and its labels.
    let mut groups: BTreeMap<usize, Vec<IssueLabel>> = BTreeMap::new();
    if element_type == ElementType::Crop {
        let at = labels
            .iter()
            .find(|l| l.uuid == element_id)
            .and_then(|l| sensor_of(&sensors, l))
            .unwrap_or(0);
        groups.insert(at, labels);
    } else {
        let mut unplaced = Vec::new();
        for l in labels {
            match sensor_of(&sensors, &l) {
                Some(i) => groups.entry(i).or_default().push(l),
                None => unplaced.push(l),
            }
        }
        let first = groups.keys().next().copied().unwrap_or(0);
        groups.entry(first).or_default().extend(unplaced);
    }
    let split = groups.len() > 1;
    let frame_id = text(&field(e, "frame_id")).or_else(|| text(&field(&frame, "frame_id")));
    Ok(groups
        .into_iter()
        .map(|(i, labels)| {
            let sensor = &sensors[i];
            let urls = field(&sensor.raw, "data_urls");
            let meta = field(&sensor.raw, "sensor_metadata");
            let size = |k: &str| {
                number(&field(&meta, k))
                    .filter(|n| *n >= 1.0)
                    .map(|n| n as u32)
            };
            let sensor_id = sensor.id.clone();
            let id = match (split, &sensor_id) {
                (true, Some(s)) => format!("{element_id}@{s}"),
                (true, None) => format!("{element_id}@sensor{i}"),
                (false, _) => element_id.clone(),
            };
            IssueElement {
                crop_label: (element_type == ElementType::Crop).then(|| element_id.clone()),
                element_id: id,
                element_type,
                frame_id: frame_id.clone(),
                dataset: text(&field(e, "dataset")),
                inference_set: text(&field(e, "inference_set")),
                image_url: text(&field(&urls, "image_url")),
                preview_url: text(&field(&urls, "preview_url")),
                width: size("width"),
                height: size("height"),
                sensor_id,
                labels,
                user_metadata: user_metadata.clone(),
            }
        })
        .collect())
}

fn label(l: &Value, inference_list: bool) -> Option<IssueLabel> {
    if !l.is_object() {
        return None;
    }
    let uuid = text(&field(l, "uuid")).or_else(|| text(&field(l, "id")))?;
    let label_type = text(&field(l, "label_type"))
        .unwrap_or_default()
        .to_uppercase();
    let attrs = field(l, "attributes");
    let confidence =
        number(&field(&attrs, "confidence")).or_else(|| number(&field(l, "confidence")));
    let n = |k: &str| number(&field(&attrs, k));
    let geometry = match label_type.as_str() {
        "BBOX_2D" => match (n("left"), n("top"), n("width"), n("height")) {
            (Some(left), Some(top), Some(width), Some(height)) => Geometry::Box {
                left,
                top,
                width,
                height,
            },
            _ => Geometry::Other {
                label_type: label_type.clone(),
            },
        },
        "POLYGON_LIST_2D" => Geometry::Polygons {
            polygons: list(field(&attrs, "polygons"))
                .iter()
                .map(|p| {
                    list(field(p, "vertices"))
                        .iter()
                        .filter_map(|v| match &**v {
                            Value::Array(xy) if xy.len() >= 2 => {
                                Some([number(&xy[0])?, number(&xy[1])?])
                            }
                            Value::Object(_) => {
                                Some([number(&field(v, "x"))?, number(&field(v, "y"))?])
                            }
                            _ => None,
                        })
                        .collect()
                })
                .collect(),
        },
        "KEYPOINTS_2D" => Geometry::Keypoints {
            points: list(field(&attrs, "keypoints"))
                .iter()
                .filter_map(|k| {
                    Some(Keypoint {
                        x: number(&field(k, "x"))?,
                        y: number(&field(k, "y"))?,
                        name: text(&field(k, "name")),
                    })
                })
                .collect(),
        },
        "LINE_SEGMENT_2D" => match (n("x1"), n("y1"), n("x2"), n("y2")) {
            (Some(x1), Some(y1), Some(x2), Some(y2)) => Geometry::Line { x1, y1, x2, y2 },
            _ => Geometry::Other {
                label_type: label_type.clone(),
            },
        },
        "CLASSIFICATION_2D" => Geometry::Classification,
        "SEMANTIC_LABEL_URL_2D" | "INSTANCE_LABEL_URL_2D" => Geometry::Mask {
            url: text(&field(&attrs, "url")),
        },
        _ => Geometry::Other {
            label_type: label_type.clone(),
        },
    };
    Some(IssueLabel {
        uuid,
        class: text(&field(l, "label"))
            .or_else(|| text(&field(l, "class_name")))
            .unwrap_or_default(),
        confidence,
        inference: inference_list || confidence.is_some(),
        geometry,
        coordinate_frame: text(&field(l, "label_coordinate_frame"))
            .or_else(|| text(&field(l, "label_coorindate_frame")))
            .or_else(|| text(&field(l, "coordinate_frame"))),
        label_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FIXTURE: &str = include_str!("../tests/fixtures/aquarium/issue-exported.json");

    #[test]
    fn the_shared_fixture_reads_with_every_element() {
        let issue = parse_issue(&serde_json::from_str(FIXTURE).unwrap()).unwrap();
        assert_eq!(issue.project.as_deref(), Some("bird-parts"));
        assert_eq!(issue.name.as_deref(), Some("wing-confusion"));
        assert_eq!(issue.elements.len(), 3, "{:?}", issue.skipped);
        let first = &issue.elements[0];
        assert_eq!((first.width, first.height), (Some(1024), Some(768)));
        assert_eq!(first.labels.len(), 2);
        assert!(!first.labels[0].inference && first.labels[1].inference);
        assert_eq!(
            first.labels[0].geometry,
            Geometry::Box {
                left: 120.0,
                top: 80.0,
                width: 200.0,
                height: 150.0
            }
        );
        assert_eq!(
            first.user_metadata.get("site").map(String::as_str),
            Some("Horicon Marsh")
        );
        let crop = &issue.elements[2];
        assert_eq!(crop.element_type, ElementType::Crop);
        assert_eq!(crop.crop_label.as_deref(), Some("lbl-73ab7734d7c1"));
        assert!(
            matches!(issue.elements[1].labels[0].geometry, Geometry::Polygons { ref polygons } if polygons[0].len() == 4)
        );
    }

    #[test]
    fn strings_camel_case_the_typo_and_project_name_are_accepted() {
        let body = json!({
            "event": "issue-exported",
            "project_name": "p",
            "issue": {"id": 7, "elements": [{
                "elementId": "f1", "elementType": "frame",
                "frameData": {
                    "sensorData": [{"sensorId": "cam", "dataUrls": {"imageUrl": "https://x/a.jpg"}, "sensorMetadata": "{\"width\": 640, \"height\": \"480\"}"}],
                    "labelData": "[{\"uuid\": \"l1\", \"label_type\": \"KEYPOINTS_2D\", \"label\": \"Head\", \"label_coorindate_frame\": \"cam\", \"attributes\": \"{\\\"keypoints\\\": [{\\\"x\\\": 1, \\\"y\\\": 2, \\\"name\\\": \\\"eye\\\"}]}\"}]"
                }
            }]}
        });
        let issue = parse_issue(&body).unwrap();
        assert_eq!(issue.project.as_deref(), Some("p"));
        assert_eq!(issue.issue_id.as_deref(), Some("7"));
        let e = &issue.elements[0];
        assert_eq!((e.width, e.height), (Some(640), Some(480)));
        assert_eq!(e.labels[0].coordinate_frame.as_deref(), Some("cam"));
        assert_eq!(
            e.labels[0].geometry,
            Geometry::Keypoints {
                points: vec![Keypoint {
                    x: 1.0,
                    y: 2.0,
                    name: Some("eye".into())
                }]
            }
        );
    }

    #[test]
    fn unusable_elements_are_skipped_with_their_reason_and_the_rest_kept() {
        let body = json!({"event": "issue-exported", "project": {"name": "p"}, "issue": {"id": "i", "elements": [
            {"element_id": "a", "element_type": "frame", "frame_data": null},
            {"element_id": "b", "element_type": "frame", "frame_data": {"sensor_data": [{"sensor_metadata": {}}]}},
            {"element_id": "c", "element_type": "frame", "frame_data": {"sensor_data": [{"data_urls": {"image_url": "s3://b/c.jpg"}, "sensor_metadata": {}}],
             "label_data": [{"uuid": "m", "label_type": "SEMANTIC_LABEL_URL_2D", "label": "__mask", "attributes": {"url": "s3://b/m.png"}},
                            {"uuid": "k", "label_type": "CUBOID_3D", "label": "car", "attributes": {}}]}}
        ]}});
        let issue = parse_issue(&body).unwrap();
        assert_eq!(issue.elements.len(), 1);
        assert_eq!(issue.skipped.len(), 2);
        assert!(issue.skipped[0].reason.contains("no frame data"));
        assert!(issue.skipped[1].reason.contains("no image URL"));
        let c = &issue.elements[0];
        assert_eq!(
            (c.width, c.height),
            (None, None),
            "a missing size stays unknown"
        );
        assert!(matches!(c.labels[0].geometry, Geometry::Mask { .. }));
        assert!(matches!(c.labels[1].geometry, Geometry::Other { .. }));
        let empty =
            parse_issue(&json!({"event": "issue-exported", "issue": {"id": "e", "elements": []}}))
                .unwrap();
        assert!(empty.elements.is_empty() && empty.skipped.is_empty());
        assert!(parse_issue(&json!({"event": "dataset-complete"})).is_none());
    }

    #[test]
    fn every_label_type_has_its_geometry() {
        let label = |uuid: &str, t: &str, attrs: serde_json::Value| json!({"uuid": uuid, "label_type": t, "label": "x", "attributes": attrs});
        let body = json!({"event": "issue-exported", "issue": {"id": "i", "elements": [{
        "element_id": "f", "element_type": "frame", "frame_data": {
            "sensor_data": [{"data_urls": {"image_url": "https://x/f.jpg"}}],
            "label_data": [
                label("b", "BBOX_2D", json!({"left": 1, "top": 2, "width": 3, "height": 4})),
                label("p", "POLYGON_LIST_2D", json!({"polygons": [{"vertices": [[0, 0], [1, 0], [1, 1]]}], "center": [0.5, 0.5]})),
                label("k", "KEYPOINTS_2D", json!({"keypoints": [{"x": 5, "y": 6, "name": "eye"}]})),
                label("l", "LINE_SEGMENT_2D", json!({"x1": 0, "y1": 1, "x2": 2, "y2": 3})),
                label("c", "CLASSIFICATION_2D", json!({})),
                label("s", "SEMANTIC_LABEL_URL_2D", json!({"url": "https://x/s.png"})),
                label("n", "INSTANCE_LABEL_URL_2D", json!({"url": "https://x/n.png"})),
                label("q", "CUBOID_3D", json!({"pos": [0, 0, 0]})),
                label("t", "TEXT_TOKEN", json!({}))
            ],
            "inference_data": [label("i", "BBOX_2D", json!({"left": 1, "top": 1, "width": 1, "height": 1}))]
        }}]}});
        let issue = parse_issue(&body).unwrap();
        let kinds: Vec<(&str, &str, bool)> = issue.elements[0]
            .labels
            .iter()
            .map(|l| {
                let kind = match &l.geometry {
                    Geometry::Box { .. } => "box",
                    Geometry::Polygons { .. } => "polygons",
                    Geometry::Keypoints { .. } => "keypoints",
                    Geometry::Line { .. } => "line",
                    Geometry::Classification => "classification",
                    Geometry::Mask { .. } => "mask",
                    Geometry::Other { .. } => "other",
                };
                (l.uuid.as_str(), kind, l.inference)
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("b", "box", false),
                ("p", "polygons", false),
                ("k", "keypoints", false),
                ("l", "line", false),
                ("c", "classification", false),
                ("s", "mask", false),
                ("n", "mask", false),
                ("q", "other", false),
                ("t", "other", false),
                ("i", "box", true)
            ],
            "labels from inference_data are inferences even without a confidence"
        );
    }

    #[test]
    fn labels_go_with_the_sensor_they_are_drawn_in() {
        // `Image(id=..., width=, height=).to_dict()` for two cameras and an overlay.
        let image = |id: &str, w: u32, t: &str| {
            json!({"coordinate_frame": format!("cf-{id}"), "data_urls": {"image_url": format!("https://x/{id}.jpg")},
            "date_captured": null, "sensor_id": id, "sensor_metadata": {"width": w, "height": w / 2}, "sensor_type": t, "mirror_asset": false})
        };
        let sensors = json!([
            image("ov", 50, "IMAGE_OVERLAY_V0"),
            image("a", 100, "IMAGE_V0"),
            image("b", 200, "IMAGE_V0")
        ]);
        let lbl = |uuid: &str, key: &str, frame: &str| {
            json!({"uuid": uuid, "label_type": "BBOX_2D", "label": "x", key: frame,
            "attributes": {"top": 1, "left": 1, "width": 2, "height": 2}})
        };
        let body = json!({"event": "issue-exported", "issue": {"id": "i", "elements": [
            {"element_id": "one", "element_type": "frame", "frame_data": {"sensor_data": sensors, "label_data": [lbl("1", "label_coordinate_frame", "b")]}},
            {"element_id": "two", "element_type": "frame", "frame_data": {"sensor_data": sensors, "label_data": [
                lbl("2", "label_coordinate_frame", "b"), lbl("3", "coordinate_frame", "cf-a"), lbl("4", "label_coordinate_frame", "lidar")]}},
            {"element_id": "none", "element_type": "frame", "frame_data": {"sensor_data": sensors, "label_data": []}}
        ]}});
        let issue = parse_issue(&body).unwrap();
        type Seen<'a> = (&'a str, Option<&'a str>, Option<u32>, Vec<&'a str>);
        let seen: Vec<Seen> = issue
            .elements
            .iter()
            .map(|e| {
                (
                    e.element_id.as_str(),
                    e.sensor_id.as_deref(),
                    e.width,
                    e.labels.iter().map(|l| l.uuid.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("one", Some("b"), Some(200), vec!["1"]),
                ("two@a", Some("a"), Some(100), vec!["3", "4"]),
                ("two@b", Some("b"), Some(200), vec!["2"]),
                ("none", Some("a"), Some(100), vec![]),
            ],
            "overlays are not the image labelled; a label of no image sensor stays with the first"
        );
        assert_eq!(
            issue.elements[1].image_url.as_deref(),
            Some("https://x/a.jpg")
        );
    }
}
