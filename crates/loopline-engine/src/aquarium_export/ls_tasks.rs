//! An Aquarium element as a Label Studio task: the image of the sensor its labels are drawn
//! in, Aquarium's ids in the data (how an export is traced and never duplicated; a frame
//! split across sensors is `{element_id}@{sensor_id}` there), and one prediction built from its labels, in
//! percent of the image as Label Studio wants them. Pure: the image size and the target's
//! control tags are given.

use std::collections::BTreeMap;

use loopline_cloud::label_studio_tasks::{ControlTag, ELEMENT_KEY, ISSUE_KEY};
use loopline_core::{ElementType, ExportLabels, Geometry, IssueElement, IssueLabel};
use serde_json::{json, Map, Value};

/// The model version of predictions made from ground truth (an issue without inferences).
pub const GROUND_TRUTH_VERSION: &str = "aquarium-ground-truth";
/// Label Studio's default keypoint radius, in percent of the image width.
const KEYPOINT_WIDTH: f64 = 0.6;

/// What a task is made for: the issue it came from.
pub struct IssueIds<'a> {
    pub issue_id: &'a str,
    pub project: Option<&'a str>,
}

/// A task ready to import, the model version of its prediction, and what of the element's
/// labels it does not carry (masks, lines…), for the element's line in the report.
#[derive(Debug, Clone, PartialEq)]
pub struct BuiltTask {
    pub task: Value,
    pub model_version: Option<String>,
    pub note: Option<String>,
}

/// Why an element is not sent.
#[derive(Debug, Clone, PartialEq)]
pub enum NotSent {
    /// Classes or tag types the target's labeling config lacks (also listed for the user
    /// before sending).
    Misfits(Vec<String>),
    Reason(String),
}

impl NotSent {
    pub fn reason(&self) -> String {
        match self {
            NotSent::Misfits(m) => format!("it does not fit the labeling config: {}", m.join("; ")),
            NotSent::Reason(r) => r.clone(),
        }
    }
}

/// Which labels an element's prediction is made of: a crop's own label only; a frame's
/// ground truth, inferences or both, as chosen (both by default: the labels in question
/// beside the model's opinion).
pub fn labels_to_send(e: &IssueElement, choice: ExportLabels) -> Result<Vec<&IssueLabel>, String> {
    if e.element_type == ElementType::Crop {
        let own = e.crop_label.as_deref().unwrap_or(e.element_id.as_str());
        return e
            .labels
            .iter()
            .find(|l| l.uuid == own)
            .map(|l| vec![l])
            .ok_or_else(|| format!("the crop's own label {own} is not in the payload"));
    }
    Ok(e.labels
        .iter()
        .filter(|l| choice.takes(l.inference))
        .collect())
}

/// Labels a task cannot carry as regions, grouped for the per-element note: what they are
/// ("masks") and why.
struct LeftOut {
    what: String,
    why: String,
    uuids: Vec<String>,
}

/// The Label Studio tag type a geometry needs, or (what it is, why it cannot be sent).
pub fn tag_for(g: &Geometry, label_type: &str) -> Result<&'static str, (String, String)> {
    match g {
        Geometry::Box { .. } => Ok("RectangleLabels"),
        Geometry::Polygons { .. } => Ok("PolygonLabels"),
        Geometry::Keypoints { .. } => Ok("KeyPointLabels"),
        Geometry::Classification => Ok("Choices"),
        Geometry::Mask { .. } => Err((
            "masks".into(),
            format!("{label_type}: a Label Studio prediction cannot point at a mask image"),
        )),
        Geometry::Line { .. } => Err((
            "line segments".into(),
            format!("{label_type} has no Label Studio prediction type"),
        )),
        Geometry::Other { .. } => Err((
            format!("{label_type} labels"),
            "cuboids and text tokens have no Label Studio image prediction type".into(),
        )),
    }
}

fn leave_out(groups: &mut Vec<LeftOut>, what: String, why: String, uuid: &str) {
    match groups.iter_mut().find(|g| g.what == what && g.why == why) {
        Some(g) => g.uuids.push(uuid.to_string()),
        None => groups.push(LeftOut {
            what,
            why,
            uuids: vec![uuid.to_string()],
        }),
    }
}

/// "masks not sent: lbl-1, lbl-2 (SEMANTIC_LABEL_URL_2D: …)"; groups joined by "; ".
fn note_of(groups: &[LeftOut]) -> String {
    groups
        .iter()
        .map(|g| format!("{} not sent: {} ({})", g.what, g.uuids.join(", "), g.why))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The control tag for a tag type: the first of that type in the config.
pub fn control_for<'a>(controls: &'a [ControlTag], kind: &str) -> Option<&'a ControlTag> {
    controls.iter().find(|c| c.kind == kind)
}

/// The config's spelling of a class (Label Studio labels are case-sensitive; Aquarium
/// class names often differ only in case).
pub fn class_in(control: &ControlTag, class: &str) -> Option<String> {
    control
        .labels
        .iter()
        .find(|l| *l == class)
        .or_else(|| {
            control
                .labels
                .iter()
                .find(|l| l.eq_ignore_ascii_case(class))
        })
        .cloned()
}

/// `v` pixels of `total`, in percent, clamped to the image and rounded to 1e-6 (integer
/// inputs that divide evenly stay exact: 192 of 1920 is 10, not 10.000000000000002).
fn pct(v: f64, total: f64) -> f64 {
    let p = (v.clamp(0.0, total) * 100.0) / total;
    (p * 1e6).round() / 1e6
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// The image data key the target reads: the object tag of the first image control.
pub fn data_key(controls: &[ControlTag]) -> String {
    controls
        .iter()
        .find_map(|c| c.data_key.clone())
        .unwrap_or_else(|| "image".into())
}

/// Builds the task. `size` is needed when any label has geometry. Labels that cannot be
/// sent are left out of the prediction and named in the note: a frame is still work to
/// label, so one whose labels are all masks still becomes a task with its image and no
/// prediction. A crop whose own label cannot be sent, and an element whose classes the
/// config lacks, are not sent.
pub fn build_task(
    ids: &IssueIds<'_>,
    e: &IssueElement,
    controls: &[ControlTag],
    size: Option<(u32, u32)>,
    choice: ExportLabels,
) -> Result<BuiltTask, NotSent> {
    let url = e
        .image_url
        .as_deref()
        .or(e.preview_url.as_deref())
        .ok_or_else(|| NotSent::Reason("it has no image URL".into()))?;
    let labels = labels_to_send(e, choice).map_err(NotSent::Reason)?;
    let mut results = Vec::new();
    let mut left_out: Vec<LeftOut> = Vec::new();
    let mut misfits = Vec::new();
    let mut scores = Vec::new();
    for l in &labels {
        let kind = match tag_for(&l.geometry, &l.label_type) {
            Ok(k) => k,
            Err((what, why)) => {
                leave_out(&mut left_out, what, why, &l.uuid);
                continue;
            }
        };
        let Some(control) = control_for(controls, kind) else {
            misfits.push(format!(
                "the labeling config has no {kind} tag for {}",
                l.label_type
            ));
            continue;
        };
        let class = if kind == "KeyPointLabels" {
            // Keypoints are labelled by their own names where the config lists them.
            Some(l.class.clone())
        } else {
            class_in(control, &l.class)
        };
        let Some(class) = class else {
            misfits.push(format!(
                "class '{}' is not a label of {} '{}'",
                l.class, kind, control.name
            ));
            continue;
        };
        let needs_size = kind != "Choices";
        let (w, h) = match (needs_size, size) {
            (false, _) => (0, 0),
            (true, Some(s)) if s.0 > 0 && s.1 > 0 => s,
            (true, _) => return Err(NotSent::Reason(
                "its image size is unknown (Aquarium sent none and the image could not be read)"
                    .into(),
            )),
        };
        match region_values(l, kind, &class, control, w as f64, h as f64) {
            Ok(values) => {
                for (i, (kind_lower, value)) in values.into_iter().enumerate() {
                    let mut r = json!({
                        "id": result_id(&l.uuid, i),
                        "from_name": control.name,
                        "to_name": control.to_name,
                        "type": kind_lower,
                        "value": value,
                    });
                    if needs_size {
                        r["original_width"] = json!(w);
                        r["original_height"] = json!(h);
                        r["image_rotation"] = json!(0);
                    }
                    // Ground truth has no score; an inference's is its confidence.
                    if let Some(c) = l.confidence {
                        r["score"] = json!(c);
                    }
                    results.push(r);
                }
                if let Some(c) = l.confidence {
                    scores.push(c);
                }
            }
            Err(NotSent::Misfits(m)) => misfits.extend(m),
            Err(NotSent::Reason(why)) => leave_out(&mut left_out, "regions".into(), why, &l.uuid),
        }
    }
    if !misfits.is_empty() {
        misfits.dedup();
        return Err(NotSent::Misfits(misfits));
    }
    let note = (!left_out.is_empty()).then(|| note_of(&left_out));
    if results.is_empty() && e.element_type == ElementType::Crop {
        if let Some(note) = note {
            return Err(NotSent::Reason(format!(
                "the crop's own label cannot be sent: {note}"
            )));
        }
    }
    let mut data = Map::new();
    data.insert(data_key(controls), json!(url));
    data.insert(ISSUE_KEY.into(), json!(ids.issue_id));
    data.insert(ELEMENT_KEY.into(), json!(e.element_id));
    data.insert(
        "aquarium_element_type".into(),
        json!(match e.element_type {
            ElementType::Frame => "frame",
            ElementType::Crop => "crop",
        }),
    );
    let optional: BTreeMap<&str, Option<&str>> = BTreeMap::from([
        ("aquarium_frame_id", e.frame_id.as_deref()),
        ("aquarium_dataset", e.dataset.as_deref()),
        ("aquarium_inference_set", e.inference_set.as_deref()),
        ("aquarium_project", ids.project),
        ("aquarium_sensor_id", e.sensor_id.as_deref()),
    ]);
    for (k, v) in optional {
        if let Some(v) = v {
            data.insert(k.into(), json!(v));
        }
    }
    for (k, v) in &e.user_metadata {
        data.insert(k.clone(), json!(v));
    }
    let mut task = json!({ "data": data });
    let mut model_version = None;
    if !results.is_empty() {
        let from_inference = labels.iter().any(|l| l.inference);
        let version = match (from_inference, &e.inference_set) {
            (true, Some(set)) => set.clone(),
            (true, None) => "aquarium-inferences".to_string(),
            (false, _) => GROUND_TRUTH_VERSION.to_string(),
        };
        let mut p = json!({ "model_version": version, "result": results });
        if !scores.is_empty() {
            p["score"] = json!(round6(scores.iter().sum::<f64>() / scores.len() as f64));
        }
        task["predictions"] = json!([p]);
        model_version = Some(version);
    }
    Ok(BuiltTask {
        task,
        model_version,
        note,
    })
}

fn result_id(uuid: &str, i: usize) -> String {
    // Label Studio shows region ids; keep them short and stable across exports.
    let base: String = uuid.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let tail = &base[base.len().saturating_sub(10)..];
    if i == 0 {
        tail.to_string()
    } else {
        format!("{tail}_{i}")
    }
}

/// (result type, value) for each region a label becomes.
fn region_values(
    l: &IssueLabel,
    kind: &str,
    class: &str,
    control: &ControlTag,
    w: f64,
    h: f64,
) -> Result<Vec<(&'static str, Value)>, NotSent> {
    match &l.geometry {
        Geometry::Box {
            left,
            top,
            width,
            height,
        } => {
            let (x0, x1) = (left.clamp(0.0, w), (left + width).clamp(0.0, w));
            let (y0, y1) = (top.clamp(0.0, h), (top + height).clamp(0.0, h));
            if x1 <= x0 || y1 <= y0 {
                return Err(NotSent::Reason(format!(
                    "box {} lies outside the {w}×{h} image",
                    l.uuid
                )));
            }
            Ok(vec![(
                "rectanglelabels",
                json!({
                    "x": pct(x0, w), "y": pct(y0, h),
                    "width": round6(pct(x1, w) - pct(x0, w)), "height": round6(pct(y1, h) - pct(y0, h)),
                    "rotation": 0, "rectanglelabels": [class],
                }),
            )])
        }
        Geometry::Polygons { polygons } => {
            let out: Vec<_> = polygons
                .iter()
                .filter(|p| p.len() >= 3)
                .map(|p| {
                    let points: Vec<[f64; 2]> =
                        p.iter().map(|[x, y]| [pct(*x, w), pct(*y, h)]).collect();
                    (
                        "polygonlabels",
                        json!({ "points": points, "closed": true, "polygonlabels": [class] }),
                    )
                })
                .collect();
            if out.is_empty() {
                return Err(NotSent::Reason(format!(
                    "polygon {} has no ring of 3 or more vertices",
                    l.uuid
                )));
            }
            Ok(out)
        }
        Geometry::Keypoints { points } => {
            if points.is_empty() {
                return Err(NotSent::Reason(format!(
                    "keypoints {} has no points",
                    l.uuid
                )));
            }
            points
                .iter()
                .map(|p| {
                    // A point is labelled by its own name where the config lists it.
                    let name = p
                        .name
                        .as_deref()
                        .and_then(|n| class_in(control, n))
                        .or_else(|| class_in(control, class))
                        .ok_or_else(|| {
                            NotSent::Misfits(vec![format!(
                                "keypoint '{}' is not a label of {kind} '{}'",
                                p.name.as_deref().unwrap_or(class),
                                control.name
                            )])
                        })?;
                    Ok(("keypointlabels", json!({ "x": pct(p.x, w), "y": pct(p.y, h), "width": KEYPOINT_WIDTH, "keypointlabels": [name] })))
                })
                .collect()
        }
        Geometry::Classification => Ok(vec![("choices", json!({ "choices": [class] }))]),
        _ => Err(NotSent::Reason(format!(
            "{} labels are not sent",
            l.label_type
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use loopline_payloads::aquarium_issue::parse_issue;

    /// A label dict as `aquariumlearning` 1.0.7's `to_dict()` writes it.
    fn client_label(uuid: &str, t: &str, class: &str, sensor: &str, attrs: Value) -> Value {
        json!({"uuid": uuid, "label_type": t, "label": class, "class_id": null,
               "label_coordinate_frame": sensor, "attributes": attrs,
               "reuse_latest_embedding": false, "change": "ADD"})
    }

    /// `Image(id=sensor, image_url=url, width=w, height=h).to_dict()`.
    fn client_image(sensor: &str, url: &str, w: u32, h: u32) -> Value {
        json!({"coordinate_frame": sensor, "data_urls": {"image_url": url}, "date_captured": null,
               "sensor_id": sensor, "sensor_metadata": {"width": w, "height": h},
               "sensor_type": "IMAGE_V0", "mirror_asset": false})
    }

    /// The issue's elements, parsed as the receiver parses them.
    fn elements_of(sensors: Vec<Value>, labels: Vec<Value>) -> Vec<IssueElement> {
        let body = json!({"event": "issue-exported", "issue": {"id": "i", "elements": [{
            "element_id": "f", "element_type": "frame", "inference_set": "m1",
            "frame_data": {"task_id": "f", "sensor_data": sensors, "label_data": labels,
                           "coordinate_frames": [], "geo_data": {}}}]}});
        parse_issue(&body).unwrap().elements
    }

    fn control(name: &str, kind: &str, labels: &[&str]) -> ControlTag {
        ControlTag {
            name: name.into(),
            kind: kind.into(),
            to_name: "image".into(),
            data_key: Some("image".into()),
            labels: labels.iter().map(|l| l.to_string()).collect(),
        }
    }

    fn controls() -> Vec<ControlTag> {
        vec![
            control("label", "RectangleLabels", &["Wing"]),
            control("parts", "KeyPointLabels", &["beak_tip", "left_eye", "Bird"]),
        ]
    }

    const IDS: IssueIds<'static> = IssueIds {
        issue_id: "i",
        project: None,
    };

    fn regions(task: &Value) -> Vec<Value> {
        task["predictions"][0]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn ground_truth_has_no_score_and_inferences_keep_their_confidence() {
        let box_at = |x: f64, conf: Option<f64>| {
            let mut a = json!({"top": 10, "left": x, "width": 50, "height": 20});
            if let Some(c) = conf {
                a["confidence"] = json!(c);
            }
            a
        };
        let e = &elements_of(
            vec![client_image("DEFAULT", "https://x/a.jpg", 500, 200)],
            vec![
                client_label("g", "BBOX_2D", "Wing", "DEFAULT", box_at(10.0, None)),
                client_label("m", "BBOX_2D", "Wing", "DEFAULT", box_at(12.0, Some(0.7))),
            ],
        )[0];
        let size = Some((500, 200));
        let both = build_task(&IDS, e, &controls(), size, ExportLabels::Both).unwrap();
        let r = regions(&both.task);
        assert_eq!(r.len(), 2);
        assert!(r[0].get("score").is_none());
        assert_eq!(r[1]["score"], 0.7);
        assert_eq!(both.model_version.as_deref(), Some("m1"));
        let gt = build_task(&IDS, e, &controls(), size, ExportLabels::GroundTruth).unwrap();
        assert_eq!(regions(&gt.task).len(), 1);
        assert_eq!(gt.model_version.as_deref(), Some(GROUND_TRUTH_VERSION));
        let inf = build_task(&IDS, e, &controls(), size, ExportLabels::Inferences).unwrap();
        assert_eq!(regions(&inf.task)[0]["id"], "m");
    }

    #[test]
    fn keypoints_are_one_region_each_named_as_the_config_spells_them() {
        let kps = json!({"keypoints": [
            {"x": 100, "y": 50, "name": "Beak_Tip"},
            {"x": 0, "y": 200, "name": "wing_root"}
        ], "top": 0, "left": 0, "width": 150, "height": 200});
        let e = &elements_of(
            vec![client_image("DEFAULT", "https://x/k.jpg", 400, 200)],
            vec![client_label("k", "KEYPOINTS_2D", "bird", "DEFAULT", kps)],
        )[0];
        let t = build_task(&IDS, e, &controls(), Some((400, 200)), ExportLabels::Both).unwrap();
        let r = regions(&t.task);
        assert_eq!(r.len(), 2);
        assert_eq!(
            r[0]["value"],
            json!({"x": 25.0, "y": 25.0, "width": KEYPOINT_WIDTH, "keypointlabels": ["beak_tip"]})
        );
        assert_eq!(
            r[1]["value"]["keypointlabels"],
            json!(["Bird"]),
            "the class when the name is not listed"
        );
        assert_eq!(
            (r[1]["value"]["x"].as_f64(), r[1]["value"]["y"].as_f64()),
            (Some(0.0), Some(100.0))
        );
        assert_eq!(
            (r[0]["id"].as_str(), r[1]["id"].as_str()),
            (Some("k"), Some("k_1"))
        );
        assert_eq!(r[0]["original_width"], 400);
        // Neither the name nor the class in the config: said before sending.
        let odd = json!({"keypoints": [{"x": 1, "y": 1, "name": "tail"}]});
        let e = &elements_of(
            vec![client_image("DEFAULT", "https://x/k.jpg", 400, 200)],
            vec![client_label("k", "KEYPOINTS_2D", "fish", "DEFAULT", odd)],
        )[0];
        let err =
            build_task(&IDS, e, &controls(), Some((400, 200)), ExportLabels::Both).unwrap_err();
        assert!(err.reason().contains("'tail'"), "{}", err.reason());
    }

    #[test]
    fn a_frame_of_masks_is_a_task_without_a_prediction_and_a_crop_of_one_is_not_sent() {
        let mask = |u: &str| {
            client_label(
                u,
                "SEMANTIC_LABEL_URL_2D",
                "__mask",
                "DEFAULT",
                json!({"url": "https://x/m.png"}),
            )
        };
        let line = client_label(
            "l",
            "LINE_SEGMENT_2D",
            "edge",
            "DEFAULT",
            json!({"x1": 0, "y1": 0, "x2": 1, "y2": 1}),
        );
        let e = &elements_of(
            vec![client_image("DEFAULT", "https://x/f.jpg", 10, 10)],
            vec![mask("a"), mask("b"), line],
        )[0];
        let t = build_task(&IDS, e, &controls(), Some((10, 10)), ExportLabels::Both).unwrap();
        assert!(t.task.get("predictions").is_none());
        assert_eq!(t.model_version, None);
        assert_eq!(t.task["data"]["image"], "https://x/f.jpg");
        let note = t.note.unwrap();
        assert!(
            note.starts_with("masks not sent: a, b (SEMANTIC_LABEL_URL_2D: "),
            "{note}"
        );
        assert!(note.contains("; line segments not sent: l ("), "{note}");

        let mut crop = e.clone();
        crop.element_type = ElementType::Crop;
        crop.crop_label = Some("a".into());
        let err =
            build_task(&IDS, &crop, &controls(), Some((10, 10)), ExportLabels::Both).unwrap_err();
        assert!(
            err.reason().contains("masks not sent: a"),
            "{}",
            err.reason()
        );
    }
}
