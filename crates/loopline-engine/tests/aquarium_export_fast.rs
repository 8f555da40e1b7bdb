//! Aquarium exports through the engine with Label Studio and the web faked: the tasks and
//! predictions built from the shared fixture, nothing twice on a second export, Label
//! Studio down on the first import (retried from the outbox, nothing duplicated), the
//! model version set only once predictions of it exist, and a REST endpoint's 503 retried.
//! The same flows run against a real Label Studio and real endpoints in
//! `e2e/test_aquarium_export.py`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use common::aquarium_client as client;
use common::manual_clock::ManualClock;
use common::*;
use loopline_cloud::image_hosts::{image_host, ImageHosts};
use loopline_cloud::label_studio_tasks::{ControlTag, LabelingTasks, TargetProject};
use loopline_cloud::web::{Answer, Web};
use loopline_core::{
    ApiError, ErrorCode, ExportLabels, ExportReport, ExportRequest, ExportState, ExportTarget,
    SourceKind,
};
use serde_json::{json, Value};

const ISSUE: &str = "issue-9d2ca13ffe79";
const SECRET: &str = "aquarium-fast-secret";

#[derive(Default)]
struct FakeTasks {
    /// (project, task id, task)
    tasks: Mutex<Vec<(i64, i64, Value)>>,
    model_version: Mutex<Option<String>>,
    /// Imports that fail as if Label Studio were down.
    down_for: AtomicUsize,
    imports: AtomicUsize,
    /// Model-version PATCHes that fail as if Label Studio were down.
    version_down_for: AtomicUsize,
    version_sets: AtomicUsize,
}

#[async_trait]
impl LabelingTasks for FakeTasks {
    async fn target_project(&self, id: i64) -> Result<Option<TargetProject>, ApiError> {
        let control = |name: &str, kind: &str, labels: &[&str]| ControlTag {
            name: name.into(),
            kind: kind.into(),
            to_name: "image".into(),
            data_key: Some("image".into()),
            labels: labels.iter().map(|l| l.to_string()).collect(),
        };
        Ok((id == 7).then(|| TargetProject {
            id,
            title: "Birds".into(),
            model_version: self.model_version.lock().unwrap().clone(),
            controls: vec![
                control("label", "RectangleLabels", &["Wing", "Beak", "Head"]),
                control("outline", "PolygonLabels", &["Body"]),
                control("parts", "KeyPointLabels", &["beak_tip", "left_eye", "Bird"]),
            ],
        }))
    }

    async fn tasks_of_issue(
        &self,
        project: i64,
        issue_id: &str,
    ) -> Result<Vec<(String, i64)>, ApiError> {
        Ok(self
            .tasks
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _, t)| *p == project && t["data"]["aquarium_issue_id"] == issue_id)
            .map(|(_, id, t)| {
                (
                    t["data"]["aquarium_element_id"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                    *id,
                )
            })
            .collect())
    }

    async fn import_tasks(&self, project: i64, tasks: &[Value]) -> Result<Vec<i64>, ApiError> {
        self.imports.fetch_add(1, Ordering::SeqCst);
        if self.down_for.load(Ordering::SeqCst) > 0 {
            self.down_for.fetch_sub(1, Ordering::SeqCst);
            return Err(ApiError::new(
                ErrorCode::LsUnavailable,
                "Label Studio did not answer.",
            ));
        }
        let mut all = self.tasks.lock().unwrap();
        Ok(tasks
            .iter()
            .map(|t| {
                let id = all.len() as i64 + 1;
                all.push((project, id, t.clone()));
                id
            })
            .collect())
    }

    async fn set_model_version(&self, project: i64, version: &str) -> Result<(), ApiError> {
        self.version_sets.fetch_add(1, Ordering::SeqCst);
        if self.version_down_for.load(Ordering::SeqCst) > 0 {
            self.version_down_for.fetch_sub(1, Ordering::SeqCst);
            return Err(ApiError::new(
                ErrorCode::LsUnavailable,
                "Label Studio did not answer the PATCH.",
            ));
        }
        // As Label Studio: a version is accepted only once predictions of it exist.
        let exists = self
            .tasks
            .lock()
            .unwrap()
            .iter()
            .any(|(p, _, t)| *p == project && t["predictions"][0]["model_version"] == version);
        if !exists {
            return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                "Model version doesn't exist",
            ));
        }
        *self.model_version.lock().unwrap() = Some(version.into());
        Ok(())
    }
}

/// (url, headers, body) of one POST.
type Post = (String, Vec<(String, String)>, Value);

#[derive(Default)]
struct FakeWeb {
    posts: Mutex<Vec<Post>>,
    statuses: Mutex<Vec<u16>>,
    /// Every image read: (url, whether the hosts it was read with allow its host).
    image_reads: Mutex<Vec<(String, bool)>>,
}

impl FakeWeb {
    fn read(&self, url: &str, hosts: &ImageHosts) {
        let allowed = image_host(url).is_some_and(|h| hosts.allows(&h));
        self.image_reads
            .lock()
            .unwrap()
            .push((url.to_string(), allowed));
    }
}

/// The first bytes of a 640×480 PNG.
fn png_head() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&640u32.to_be_bytes());
    png.extend_from_slice(&480u32.to_be_bytes());
    png
}

#[async_trait]
impl Web for FakeWeb {
    async fn post_json(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &Value,
    ) -> Result<Answer, ApiError> {
        self.posts
            .lock()
            .unwrap()
            .push((url.into(), headers.to_vec(), body.clone()));
        let status = self.statuses.lock().unwrap().pop().unwrap_or(200);
        Ok(Answer {
            status,
            body: "{}".into(),
        })
    }

    async fn head_bytes(
        &self,
        url: &str,
        _limit: usize,
        hosts: &ImageHosts,
    ) -> Result<Vec<u8>, ApiError> {
        self.read(url, hosts);
        Ok(png_head())
    }

    async fn fetch(
        &self,
        url: &str,
        _limit: usize,
        hosts: &ImageHosts,
    ) -> Result<(String, Vec<u8>), ApiError> {
        self.read(url, hosts);
        Ok(("image/png".into(), png_head()))
    }
}

struct Setup {
    r: Running,
    ls: Arc<FakeTasks>,
    web: Arc<FakeWeb>,
    clock: Arc<ManualClock>,
}

async fn setup() -> Setup {
    setup_with(AQUARIUM_FIXTURE.parse().unwrap()).await
}

/// The engine with the fakes, having received `body` from an Aquarium source.
async fn setup_with(body: Value) -> Setup {
    let (ls, web) = (Arc::new(FakeTasks::default()), Arc::new(FakeWeb::default()));
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let (l, w, c) = (ls.clone(), web.clone(), clock.clone());
    let r = receiving_with(move |o| {
        o.labeling_tasks = Some(l);
        o.web = Some(w);
        o.clock = Some(c);
    })
    .await;
    let src = r.add(SourceKind::Aquarium, Some(SECRET)).await;
    let (status, _) = r
        .post(
            &src.id,
            &[
                ("x-aquarium-secret", SECRET),
                ("content-type", "application/json"),
            ],
            body.to_string(),
        )
        .await;
    assert_eq!(status, 200);
    Setup { r, ls, web, clock }
}

fn to_label_studio(elements: Option<Vec<&str>>) -> ExportRequest {
    issue_to_label_studio(ISSUE, ExportLabels::Both, elements)
}

fn issue_to_label_studio(
    issue: &str,
    labels: ExportLabels,
    elements: Option<Vec<&str>>,
) -> ExportRequest {
    ExportRequest {
        issue_id: issue.into(),
        target: ExportTarget::LabelStudio { project: 7 },
        elements: elements.map(|e| e.into_iter().map(String::from).collect()),
        labels,
    }
}

/// Exports and delivers the issue; the report, and a second export's (which must create
/// nothing).
async fn export_twice(s: &Setup, req: &ExportRequest) -> (ExportReport, ExportReport) {
    let e = &s.r.engine;
    let queued = e.export_issue(req).await.unwrap();
    e.deliver_export_now(queued.export_id).await.unwrap();
    let first = e.export_report(queued.export_id).await.unwrap();
    let tasks = s.ls.tasks.lock().unwrap().len();
    let again = e.export_issue(req).await.unwrap();
    e.deliver_export_now(again.export_id).await.unwrap();
    let again = e.export_report(again.export_id).await.unwrap();
    assert_eq!(
        again.created.len(),
        0,
        "a second export creates nothing: {again:?}"
    );
    assert_eq!(s.ls.tasks.lock().unwrap().len(), tasks);
    (first, again)
}

/// The task Label Studio holds for an element.
fn task_of(s: &Setup, element: &str) -> Value {
    s.ls.tasks
        .lock()
        .unwrap()
        .iter()
        .find(|(_, _, t)| t["data"]["aquarium_element_id"] == element)
        .unwrap_or_else(|| panic!("no task for {element}"))
        .2
        .clone()
}

#[tokio::test]
async fn tasks_carry_predictions_in_percent_and_a_second_export_creates_nothing() {
    let s = setup().await;
    let e = &s.r.engine;
    let preview = e.preview_export(&to_label_studio(None)).await.unwrap();
    assert_eq!(preview.sending, 3);
    assert_eq!(
        s.ls.imports.load(Ordering::SeqCst),
        0,
        "a preview sends nothing"
    );

    let queued = e.export_issue(&to_label_studio(None)).await.unwrap();
    assert_eq!((queued.state, queued.pending), (ExportState::Pending, 3));
    assert!(e.deliver_export_now(queued.export_id).await.unwrap());
    let done = e.export_report(queued.export_id).await.unwrap();
    assert_eq!(
        (done.state, done.created.len()),
        (ExportState::Done, 3),
        "{done:?}"
    );
    assert_eq!(s.ls.imports.load(Ordering::SeqCst), 1, "one batched import");
    assert_eq!(
        s.ls.model_version.lock().unwrap().as_deref(),
        Some("resnet50-v3")
    );

    let tasks = s.ls.tasks.lock().unwrap().clone();
    let frame = &tasks
        .iter()
        .find(|(_, _, t)| t["data"]["aquarium_element_id"] == "frame_000001")
        .unwrap()
        .2;
    let result = &frame["predictions"][0]["result"];
    assert_eq!(
        result.as_array().unwrap().len(),
        2,
        "the ground truth and the inference beside it"
    );
    // 118/1024, 84/768, 205/1024, 140/768 in percent, rounded to 1e-6.
    assert_eq!(
        result[1]["value"],
        json!({"x": 11.523438, "y": 10.9375, "width": 20.019531, "height": 18.229167, "rotation": 0, "rectanglelabels": ["Wing"]})
    );
    let crop = &tasks
        .iter()
        .find(|(_, _, t)| t["data"]["aquarium_element_id"] == "lbl-73ab7734d7c1")
        .unwrap()
        .2;
    assert_eq!(
        crop["predictions"][0]["result"].as_array().unwrap().len(),
        1,
        "a crop sends its own region"
    );

    let again = e.export_issue(&to_label_studio(None)).await.unwrap();
    assert_eq!(
        (again.state, again.created.len(), again.skipped.len()),
        (ExportState::Done, 0, 3)
    );
    assert_eq!(s.ls.tasks.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn label_studio_down_is_retried_from_the_outbox_without_duplicates() {
    let s = setup().await;
    let e = &s.r.engine;
    s.ls.down_for.store(1, Ordering::SeqCst);
    let queued = e
        .export_issue(&to_label_studio(Some(vec!["frame_000001", "frame_000002"])))
        .await
        .unwrap();
    assert!(!e.deliver_export_now(queued.export_id).await.unwrap());
    let waiting = e.export_report(queued.export_id).await.unwrap();
    assert_eq!(waiting.state, ExportState::Pending);
    assert!(
        waiting
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("did not answer"),
        "{waiting:?}"
    );

    s.clock.advance_ms(60_000);
    e.drain_outbox().await.unwrap();
    let done = e.export_report(queued.export_id).await.unwrap();
    assert_eq!(
        (done.state, done.created.len(), done.last_error),
        (ExportState::Done, 2, None)
    );
    assert_eq!(s.ls.tasks.lock().unwrap().len(), 2);

    // The rest of the issue later: only the crop is added.
    let rest = e.export_issue(&to_label_studio(None)).await.unwrap();
    e.deliver_export_now(rest.export_id).await.unwrap();
    let rest = e.export_report(rest.export_id).await.unwrap();
    assert_eq!(
        rest.created
            .iter()
            .map(|c| c.element_id.as_str())
            .collect::<Vec<_>>(),
        ["lbl-73ab7734d7c1"]
    );
    assert_eq!(s.ls.tasks.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn the_model_version_is_set_on_a_retry_after_every_import_landed() {
    let s = setup().await;
    let e = &s.r.engine;
    s.ls.version_down_for.store(1, Ordering::SeqCst);
    let queued = e.export_issue(&to_label_studio(None)).await.unwrap();
    assert!(!e.deliver_export_now(queued.export_id).await.unwrap());
    let waiting = e.export_report(queued.export_id).await.unwrap();
    assert_eq!(
        (waiting.state, waiting.created.len()),
        (ExportState::Pending, 3),
        "every task landed, the version did not: {waiting:?}"
    );
    assert!(
        waiting
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("did not answer the PATCH"),
        "{waiting:?}"
    );
    assert_eq!(*s.ls.model_version.lock().unwrap(), None);

    s.clock.advance_ms(60_000);
    e.drain_outbox().await.unwrap();
    let done = e.export_report(queued.export_id).await.unwrap();
    assert_eq!(
        (done.state, done.created.len(), done.last_error),
        (ExportState::Done, 3, None)
    );
    assert!(s.ls.model_version.lock().unwrap().is_some());
    assert_eq!(
        s.ls.imports.load(Ordering::SeqCst),
        1,
        "no task imported twice"
    );
    assert_eq!(s.ls.tasks.lock().unwrap().len(), 3);
    assert_eq!(s.ls.version_sets.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_rest_endpoint_gets_the_default_body_and_its_503_is_retried() {
    let s = setup().await;
    let e = &s.r.engine;
    s.web.statuses.lock().unwrap().push(503);
    let req = ExportRequest {
        issue_id: ISSUE.into(),
        target: ExportTarget::Rest {
            url: "https://labeling.example.com/tasks".into(),
            body_template: None,
            auth_secret: None,
        },
        elements: None,
        labels: ExportLabels::Both,
    };
    let queued = e.export_issue(&req).await.unwrap();
    assert!(!e.deliver_export_now(queued.export_id).await.unwrap());
    s.clock.advance_ms(60_000);
    e.drain_outbox().await.unwrap();
    let done = e.export_report(queued.export_id).await.unwrap();
    assert_eq!((done.state, done.created.len()), (ExportState::Done, 3));
    let posts = s.web.posts.lock().unwrap().clone();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].2, posts[1].2, "the retry sends the same body");
    let body = &posts[1].2;
    assert_eq!(
        (body["project"].as_str(), body["issue_id"].as_str()),
        (Some("bird-parts"), Some(ISSUE))
    );
    assert_eq!(body["frames"].as_array().unwrap().len(), 3);
    let key = |i: usize| {
        posts[i]
            .1
            .iter()
            .find(|(k, _)| k == "Idempotency-Key")
            .map(|(_, v)| v.clone())
    };
    assert!(key(0).is_some() && key(0) == key(1));
    let again = e.export_issue(&req).await.unwrap();
    assert_eq!(again.created.len(), 0);
    assert_eq!(
        s.web.posts.lock().unwrap().len(),
        2,
        "a second export sends nothing"
    );
}

/// Issue 23.1: a frame with ground truth and the model's boxes sends both, in one
/// prediction of the inference set's version: ground truth without a score, inferences
/// with their confidence. `--labels` picks one side.
#[tokio::test]
async fn ground_truth_and_inferences_are_both_sent_by_default() {
    let sensor = "DEFAULT";
    let url = "https://img.example.com/gt-inf.jpg";
    let labels = vec![
        client::bbox("gt-1", "Wing", sensor, [100.0, 50.0, 200.0, 100.0], None),
        client::bbox("gt-2", "Beak", sensor, [400.0, 300.0, 40.0, 20.0], None),
        client::bbox(
            "inf-1",
            "Wing",
            sensor,
            [104.0, 48.0, 196.0, 104.0],
            Some(0.9),
        ),
        client::bbox(
            "inf-2",
            "Beak",
            sensor,
            [398.0, 302.0, 44.0, 18.0],
            Some(0.4),
        ),
    ];
    let frame = client::frame(
        "t1",
        vec![client::image(sensor, url, Some((1000, 500)))],
        labels,
    );
    let body = client::issue("gt-inf", vec![client::frame_element("f1", frame)]);
    let s = setup_with(body).await;
    let e = &s.r.engine;

    let only = |labels| async move {
        let p = e
            .preview_export(&issue_to_label_studio("gt-inf", labels, None))
            .await
            .unwrap();
        let result = p.requests[0].body[0]["predictions"][0]["result"].clone();
        result
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(only(ExportLabels::GroundTruth).await, ["gt1", "gt2"]);
    assert_eq!(only(ExportLabels::Inferences).await, ["inf1", "inf2"]);

    let (first, _) = export_twice(
        &s,
        &issue_to_label_studio("gt-inf", ExportLabels::Both, None),
    )
    .await;
    assert_eq!(first.created.len(), 1, "{first:?}");
    let task = task_of(&s, "f1");
    let p = &task["predictions"][0];
    assert_eq!(
        p["model_version"], "birds-model-v2",
        "the version is the inference set's, as before"
    );
    let result = p["result"].as_array().unwrap();
    assert_eq!(result.len(), 4, "{result:?}");
    let by_id = |id: &str| result.iter().find(|r| r["id"] == id).unwrap();
    assert!(
        by_id("gt1").get("score").is_none(),
        "ground truth has no score"
    );
    assert!(by_id("gt2").get("score").is_none());
    assert_eq!(by_id("inf1")["score"], 0.9);
    assert_eq!(by_id("inf2")["score"], 0.4);
    assert_eq!(
        by_id("gt1")["value"],
        json!({"x": 10.0, "y": 10.0, "width": 20.0, "height": 20.0, "rotation": 0, "rectanglelabels": ["Wing"]})
    );
    assert_eq!(
        p["score"], 0.65,
        "the prediction's score is the inferences' mean"
    );
    assert_eq!(
        s.ls.model_version.lock().unwrap().as_deref(),
        Some("birds-model-v2")
    );
}

/// Issue 23.2: a `KEYPOINTS_2D` label as the client writes it (`attributes.keypoints` of
/// `{x, y, name}` in pixels, a box beside them) becomes one `keypointlabels` region per
/// point, in percent, labelled by the point's name where the config lists it, else by the
/// label's class. The model's box beside it (which used to crowd the ground truth out) goes
/// too.
#[tokio::test]
async fn each_keypoint_becomes_a_keypointlabels_region() {
    let sensor = "DEFAULT";
    let kp = client::keypoints(
        "kp-1",
        "Bird",
        sensor,
        &[
            (200.0, 100.0, "beak_tip"),
            (300.0, 150.0, "left_eye"),
            (50.0, 25.0, "tail"),
        ],
    );
    let frame = client::frame(
        "t1",
        vec![client::image(
            sensor,
            "https://img.example.com/kp.jpg",
            Some((800, 400)),
        )],
        vec![
            kp,
            client::bbox("inf-b", "Head", sensor, [80.0, 40.0, 80.0, 40.0], Some(0.8)),
        ],
    );
    let s = setup_with(client::issue(
        "kp",
        vec![client::frame_element("f1", frame)],
    ))
    .await;
    let (first, _) = export_twice(&s, &issue_to_label_studio("kp", ExportLabels::Both, None)).await;
    assert_eq!(first.created.len(), 1, "{first:?}");
    let task = task_of(&s, "f1");
    let mut result = task["predictions"][0]["result"].as_array().unwrap().clone();
    assert_eq!(result.len(), 4, "{result:?}");
    let model = result.pop().unwrap();
    assert_eq!(
        (model["type"].as_str(), model["score"].as_f64()),
        (Some("rectanglelabels"), Some(0.8))
    );
    for r in &result {
        assert_eq!(
            (r["type"].as_str(), r["from_name"].as_str()),
            (Some("keypointlabels"), Some("parts"))
        );
        assert_eq!(
            (r["original_width"].as_u64(), r["original_height"].as_u64()),
            (Some(800), Some(400))
        );
        let w = r["value"]["width"].as_f64().unwrap();
        assert!(
            (0.5..=1.0).contains(&w),
            "a keypoint's width is a small percent of the image: {w}"
        );
    }
    let point = |i: usize| {
        let v = &result[i]["value"];
        (
            v["x"].as_f64().unwrap(),
            v["y"].as_f64().unwrap(),
            v["keypointlabels"].clone(),
        )
    };
    assert_eq!(point(0), (25.0, 25.0, json!(["beak_tip"])));
    assert_eq!(point(1), (37.5, 37.5, json!(["left_eye"])));
    assert_eq!(
        point(2),
        (6.25, 6.25, json!(["Bird"])),
        "a name the config lacks falls back to the class"
    );
    assert!(
        result.iter().all(|r| r.get("score").is_none()),
        "ground truth has no score"
    );
    assert_eq!(task["predictions"][0]["model_version"], "birds-model-v2");
}

/// Issue 23.3: a frame whose only labels are masks (`add_2d_semseg`) is still work to
/// label: it becomes a task with its image and no prediction, and the report says per
/// element what was not sent. A box beside a mask goes, the mask is named.
#[tokio::test]
async fn a_masks_only_frame_becomes_a_task_without_a_prediction() {
    let sensor = "DEFAULT";
    let img = |n: &str| {
        client::image(
            sensor,
            &format!("https://img.example.com/{n}.jpg"),
            Some((640, 480)),
        )
    };
    let masks = client::frame(
        "t1",
        vec![img("masks")],
        vec![
            client::semseg("m-1", sensor, "https://img.example.com/m1.png"),
            client::semseg("m-2", sensor, "https://img.example.com/m2.png"),
        ],
    );
    let mixed = client::frame(
        "t2",
        vec![img("mixed")],
        vec![
            client::bbox("b-1", "Wing", sensor, [64.0, 48.0, 64.0, 48.0], None),
            client::semseg("m-3", sensor, "https://img.example.com/m3.png"),
        ],
    );
    let body = client::issue(
        "masks",
        vec![
            client::frame_element("f-masks", masks),
            client::frame_element("f-mixed", mixed),
        ],
    );
    let s = setup_with(body).await;
    let (first, again) = export_twice(
        &s,
        &issue_to_label_studio("masks", ExportLabels::Both, None),
    )
    .await;
    assert_eq!(first.created.len(), 2, "{first:?}");
    assert!(first.skipped.is_empty(), "{first:?}");
    let created = |id: &str| {
        first
            .created
            .iter()
            .find(|c| c.element_id == id)
            .unwrap()
            .clone()
    };
    let m = created("f-masks");
    let note = m.note.as_deref().unwrap_or_default();
    assert!(
        note.starts_with("masks not sent: m-1, m-2 (SEMANTIC_LABEL_URL_2D"),
        "{note}"
    );
    assert!(m.task_id.is_some());
    let task = task_of(&s, "f-masks");
    assert_eq!(task["data"]["image"], "https://img.example.com/masks.jpg");
    assert!(
        task.get("predictions").is_none(),
        "no prediction for the masks: {task}"
    );
    let mixed = created("f-mixed");
    assert!(
        mixed
            .note
            .as_deref()
            .unwrap_or_default()
            .starts_with("masks not sent: m-3"),
        "{mixed:?}"
    );
    assert_eq!(
        task_of(&s, "f-mixed")["predictions"][0]["result"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(again.skipped.len(), 2, "already there: {again:?}");
}

/// Issue 23.4: a frame with several `Image` sensors. Its labels' `label_coordinate_frame`
/// (`coordinate_frame` in some versions) names the sensor they are drawn in: the task shows
/// that sensor's image, at its size. Labels spanning two sensors make a task per sensor,
/// found again by a second export.
#[tokio::test]
async fn each_label_goes_on_the_image_of_its_own_sensor() {
    let sensors = || {
        vec![
            client::image(
                "cam_left",
                "https://img.example.com/left.jpg",
                Some((1000, 500)),
            ),
            client::image(
                "cam_right",
                "https://img.example.com/right.jpg",
                Some((800, 400)),
            ),
        ]
    };
    let right_only = client::frame(
        "t1",
        sensors(),
        vec![client::bbox(
            "r-1",
            "Wing",
            "cam_right",
            [80.0, 40.0, 80.0, 40.0],
            None,
        )],
    );
    let mut old_key = client::bbox(
        "l-2",
        "Beak",
        "cam_left",
        [100.0, 50.0, 100.0, 50.0],
        Some(0.5),
    );
    let frame = old_key["label_coordinate_frame"].take();
    old_key
        .as_object_mut()
        .unwrap()
        .remove("label_coordinate_frame");
    old_key["coordinate_frame"] = frame;
    let both = client::frame(
        "t2",
        sensors(),
        vec![
            client::bbox("r-2", "Wing", "cam_right", [0.0, 0.0, 400.0, 200.0], None),
            old_key,
        ],
    );
    let body = client::issue(
        "sensors",
        vec![
            client::frame_element("f-right", right_only),
            client::frame_element("f-both", both),
        ],
    );
    let s = setup_with(body).await;
    let req = issue_to_label_studio("sensors", ExportLabels::Both, None);
    let (first, again) = export_twice(&s, &req).await;
    let mut created: Vec<&str> = first
        .created
        .iter()
        .map(|c| c.element_id.as_str())
        .collect();
    created.sort();
    assert_eq!(
        created,
        ["f-both@cam_left", "f-both@cam_right", "f-right"],
        "{first:?}"
    );
    assert_eq!(again.skipped.len(), 3);

    let region = |t: &Value| t["predictions"][0]["result"][0].clone();
    let t = task_of(&s, "f-right");
    assert_eq!(t["data"]["image"], "https://img.example.com/right.jpg");
    assert_eq!(t["data"]["aquarium_sensor_id"], "cam_right");
    let r = region(&t);
    assert_eq!(
        (r["original_width"].as_u64(), r["original_height"].as_u64()),
        (Some(800), Some(400))
    );
    assert_eq!(r["value"]["x"], 10.0, "80 of the right camera's 800 pixels");

    let left = task_of(&s, "f-both@cam_left");
    assert_eq!(left["data"]["image"], "https://img.example.com/left.jpg");
    assert_eq!(region(&left)["value"]["rectanglelabels"], json!(["Beak"]));
    assert_eq!(region(&left)["value"]["width"], 10.0);
    let right = task_of(&s, "f-both@cam_right");
    assert_eq!(right["data"]["image"], "https://img.example.com/right.jpg");
    assert_eq!(right["data"]["aquarium_frame_id"], "f-both");
    assert_eq!(region(&right)["value"]["width"], 50.0);

    // Aquarium's own id of the split frame chooses both of its tasks.
    let e = &s.r.engine;
    let mut only = req.clone();
    only.elements = Some(vec!["f-both".into()]);
    let p = e.preview_export(&only).await.unwrap();
    assert_eq!((p.sending, p.skipped.len()), (0, 2), "{p:?}");
}

/// Issue 23.5: elements with no usable frame (`frame_data: null`, none at all, only a
/// point cloud sensor, no `element_id`) are in the report as skipped with why, beside the
/// frame that was created; to REST endpoints too.
#[tokio::test]
async fn every_element_of_the_issue_is_in_the_report() {
    let good = client::frame(
        "t1",
        vec![client::image(
            "DEFAULT",
            "https://img.example.com/ok.jpg",
            Some((100, 100)),
        )],
        vec![client::bbox(
            "b",
            "Wing",
            "DEFAULT",
            [10.0, 10.0, 10.0, 10.0],
            None,
        )],
    );
    let mut null_frame = client::frame_element("f-null", Value::Null);
    null_frame["frame_data"] = Value::Null;
    let mut no_frame = client::frame_element("f-missing", Value::Null);
    no_frame.as_object_mut().unwrap().remove("frame_data");
    // `PointCloudPCD(...).to_dict()`: a lidar only, no image to label.
    let lidar = json!({"coordinate_frame": "world", "data_urls": {"pcd_url": "https://img.example.com/a.pcd"},
        "date_captured": null, "sensor_id": "lidar", "sensor_metadata": {}, "sensor_type": "POINTCLOUD_PCD_V0", "mirror_asset": false});
    let lidar_only = client::frame_element("f-lidar", client::frame("t3", vec![lidar], vec![]));
    let mut unnamed = client::frame_element("x", good.clone());
    unnamed.as_object_mut().unwrap().remove("element_id");
    let body = client::issue(
        "unusable",
        vec![
            client::frame_element("f-ok", good),
            null_frame,
            no_frame,
            lidar_only,
            unnamed,
        ],
    );
    let s = setup_with(body).await;
    let (first, again) = export_twice(
        &s,
        &issue_to_label_studio("unusable", ExportLabels::Both, None),
    )
    .await;
    assert_eq!(
        first
            .created
            .iter()
            .map(|c| c.element_id.as_str())
            .collect::<Vec<_>>(),
        ["f-ok"]
    );
    let why: std::collections::BTreeMap<&str, &str> = first
        .skipped
        .iter()
        .map(|k| (k.element_id.as_str(), k.reason.as_str()))
        .collect();
    assert_eq!(why.len(), 4, "{why:?}");
    assert!(
        why["f-null"].contains("frame_data is missing or null"),
        "{why:?}"
    );
    assert!(why["f-missing"].contains("frame_data is missing or null"));
    assert!(why["f-lidar"].contains("no image sensor"));
    assert_eq!(
        why["(unnamed 4)"],
        "not usable: element 5 of the issue: no element_id"
    );
    assert_eq!(again.skipped.len(), 5, "{again:?}");

    // A chosen unusable element is said too, not refused as unknown.
    let e = &s.r.engine;
    let mut one = issue_to_label_studio("unusable", ExportLabels::Both, Some(vec!["f-null"]));
    let p = e.preview_export(&one).await.unwrap();
    assert_eq!((p.sending, p.skipped.len()), (0, 1));
    one.target = ExportTarget::Rest {
        url: "https://labeling.example.com/t".into(),
        body_template: None,
        auth_secret: None,
    };
    one.elements = None;
    let rest = e.export_issue(&one).await.unwrap();
    e.deliver_export_now(rest.export_id).await.unwrap();
    let rest = e.export_report(rest.export_id).await.unwrap();
    assert_eq!((rest.created.len(), rest.skipped.len()), (1, 4), "{rest:?}");
}

/// Issue 22.15: a bearer secret never goes over plain HTTP to another machine. The plan
/// refuses it (preview and export alike) before anything is sent; https, and http to this
/// machine, are accepted.
#[tokio::test]
async fn a_bearer_secret_is_never_sent_over_plain_http_to_another_machine() {
    let s = setup().await;
    let e = &s.r.engine;
    let req = |url: &str| ExportRequest {
        issue_id: ISSUE.into(),
        target: ExportTarget::Rest {
            url: url.into(),
            body_template: None,
            auth_secret: Some("labeling-api-key".into()),
        },
        elements: None,
        labels: ExportLabels::Both,
    };
    for url in [
        "http://labeling.example.com/tasks",
        "http://10.0.0.7:8080/tasks",
        "http://[2001:db8::1]/tasks",
    ] {
        let refused = e.preview_export(&req(url)).await.unwrap_err();
        assert_eq!(refused.code, ErrorCode::InvalidArgument, "{url}");
        assert!(
            refused.message.contains("plain HTTP") && refused.message.contains("https://"),
            "{url}: {}",
            refused.message
        );
        let refused = e.export_issue(&req(url)).await.unwrap_err();
        assert_eq!(refused.code, ErrorCode::InvalidArgument, "{url}");
    }
    assert!(s.web.posts.lock().unwrap().is_empty(), "nothing was sent");
    for url in [
        "https://labeling.example.com/tasks",
        "http://127.0.0.1:9000/tasks",
        "http://localhost:9000/tasks",
    ] {
        e.preview_export(&req(url)).await.unwrap();
    }
    // Without a secret there is nothing to protect in the header: plain http is the user's call.
    let mut open = req("http://labeling.example.com/tasks");
    if let ExportTarget::Rest { auth_secret, .. } = &mut open.target {
        *auth_secret = None;
    }
    e.preview_export(&open).await.unwrap();
}

/// A frame without a size whose image is at `url`, with one box.
fn sizeless_frame(id: &str, url: &str) -> Value {
    json!({"element_id": id, "element_type": "frame", "frame_id": id, "frame_data": {
        "sensor_data": [{"sensor_id": "cam0", "coordinate_frame": "cam0",
            "data_urls": {"image_url": url}, "sensor_metadata": {}}],
        "label_data": [{"uuid": format!("{id}-box"), "label_type": "BBOX_2D", "label": "Wing",
            "label_coordinate_frame": "cam0",
            "attributes": {"top": 10, "left": 20, "width": 64, "height": 48}}]}})
}

#[tokio::test]
async fn image_sizes_are_read_only_from_allowed_hosts_and_refusals_are_said_per_element() {
    let body = json!({"event": "issue-exported", "project": "birds", "issue": {"id": "issue-ssrf",
    "elements": [
        sizeless_frame("f-metadata", "http://169.254.169.254/latest/meta-data/a.png"),
        sizeless_frame("f-s3", "s3://private-birds/a.png"),
        sizeless_frame("f-ok", "https://images.example.org/a.png"),
    ]}});
    let s = setup_with(body).await;
    let e = &s.r.engine;
    e.allow_image_host("images.example.org", true)
        .await
        .unwrap();
    let req = issue_to_label_studio("issue-ssrf", ExportLabels::Both, None);

    let preview = e.preview_export(&req).await.unwrap();
    assert_eq!(preview.sending, 1, "{preview:?}");
    let reasons: std::collections::HashMap<_, _> = preview
        .skipped
        .iter()
        .map(|k| (k.element_id.as_str(), k.reason.as_str()))
        .collect();
    assert!(
        reasons["f-metadata"].contains("image host 169.254.169.254 is not allowed: `loopline aquarium hosts --allow 169.254.169.254`"),
        "{reasons:?}"
    );
    // Refused before anything is presigned with the user's AWS credentials (this engine has
    // none: an attempt would fail with an AWS error instead).
    assert!(
        reasons["f-s3"].contains(
            "image host s3://private-birds is not allowed: `loopline aquarium hosts --allow s3://private-birds`"
        ),
        "{reasons:?}"
    );
    assert_eq!(
        *s.web.image_reads.lock().unwrap(),
        [("https://images.example.org/a.png".to_string(), true)],
        "only the allowed host's image is read, with the allowed hosts"
    );

    // The export files the refusals per element and still sends the rest.
    let queued = e.export_issue(&req).await.unwrap();
    e.deliver_export_now(queued.export_id).await.unwrap();
    let done = e.export_report(queued.export_id).await.unwrap();
    assert_eq!(done.state, ExportState::Done, "{done:?}");
    assert_eq!(done.created.len(), 1, "{done:?}");
    let failed: Vec<(&str, &str)> = done
        .failed
        .iter()
        .map(|f| (f.element_id.as_str(), f.message.as_str()))
        .collect();
    assert_eq!(failed.len(), 2, "{done:?}");
    assert!(failed
        .iter()
        .all(|(_, r)| r.contains("is not allowed: `loopline aquarium hosts --allow")));

    // Thumbnails: refused the same way, read from an allowed host.
    let refused = e
        .thumbnail("http://169.254.169.254/latest/meta-data/a.png")
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::Unauthorized);
    assert!(
        refused.message.contains("--allow 169.254.169.254"),
        "{}",
        refused.message
    );
    assert!(e
        .thumbnail("https://images.example.org/b.png")
        .await
        .unwrap()
        .starts_with("data:image/png;base64,"));
    assert_eq!(s.web.image_reads.lock().unwrap().len(), 2);
    assert!(s.web.image_reads.lock().unwrap().iter().all(|(_, ok)| *ok));
}
