#![allow(dead_code)]

pub mod aquarium_client;
pub mod fake_label_studio;
pub mod fake_pipelines;
pub mod fake_registry;
pub mod fake_roles;
pub mod fake_s3;
pub mod fake_sagemaker;
pub mod fake_tunnel;
pub mod manual_clock;
pub mod recording_target;

use std::sync::Arc;

use loopline_core::{CreatedSource, EventQuery, EventSummary, Sensitive, SourceKind};
use loopline_engine::secrets::MemorySecrets;
use loopline_engine::{Engine, EngineOptions};

pub const LS_FIXTURE: &str =
    include_str!("../../../loopline-payloads/tests/fixtures/label-studio/ANNOTATION_CREATED.json");
pub const AQUARIUM_FIXTURE: &str =
    include_str!("../../../loopline-payloads/tests/fixtures/aquarium/issue-exported.json");

pub struct Running {
    pub engine: Arc<Engine>,
    pub base: String,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
}

pub async fn running() -> Running {
    running_with(|_| {}).await
}

pub async fn running_with(tweak: impl FnOnce(&mut EngineOptions)) -> Running {
    let r = receiving_with(tweak).await;
    r.engine.start_background("serve");
    r
}

/// A receiver with no background work: the test drives rules, the outbox and the monitor
/// itself, step by step.
pub async fn receiving_with(tweak: impl FnOnce(&mut EngineOptions)) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let mut options = EngineOptions {
        data_dir: Some(dir.path().to_path_buf()),
        secrets: Some(Arc::new(MemorySecrets::default())),
        ..Default::default()
    };
    tweak(&mut options);
    let engine = Arc::new(Engine::open(options).await.unwrap());
    let addr = engine
        .start_receiver("127.0.0.1:0", false, false)
        .await
        .unwrap();
    Running {
        engine,
        base: format!("http://{addr}"),
        dir,
        http: reqwest::Client::new(),
    }
}

impl Running {
    pub async fn add(&self, kind: SourceKind, secret: Option<&str>) -> CreatedSource {
        self.engine
            .add_source(
                kind,
                "Test source",
                secret.map(|s| Sensitive::new(s.to_string())),
            )
            .await
            .unwrap()
    }

    pub async fn post(
        &self,
        source: &str,
        headers: &[(&str, &str)],
        body: impl Into<reqwest::Body>,
    ) -> (u16, serde_json::Value) {
        let (status, json, _) = self.post_full(source, headers, body).await;
        (status, json)
    }

    /// Like `post`, with the response's headers too.
    pub async fn post_full(
        &self,
        source: &str,
        headers: &[(&str, &str)],
        body: impl Into<reqwest::Body>,
    ) -> (u16, serde_json::Value, reqwest::header::HeaderMap) {
        let mut req = self
            .http
            .post(format!("{}/hooks/{source}", self.base))
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let answered = resp.headers().clone();
        (
            status,
            resp.json().await.unwrap_or(serde_json::Value::Null),
            answered,
        )
    }

    pub async fn post_ls(&self, src: &CreatedSource, body: &str) -> (u16, serde_json::Value) {
        self.post(
            &src.id,
            &[
                ("x-loopline-token", src.token.as_deref().unwrap()),
                ("content-type", "application/json"),
            ],
            body.to_string(),
        )
        .await
    }

    pub async fn events(&self) -> Vec<EventSummary> {
        self.engine
            .list_events(&EventQuery {
                limit: Some(1000),
                ..Default::default()
            })
            .await
            .unwrap()
            .events
    }
}

/// A Label Studio-shaped body that differs per call, so it is never a duplicate.
pub fn unique_body(n: usize) -> String {
    format!(
        r#"{{"action": "ANNOTATION_CREATED", "annotation": {{"id": {n}, "task": {n}}}, "project": {{"id": 1, "title": "Load"}}}}"#
    )
}

/// A Label Studio ANNOTATION_CREATED delivery for `project` whose counters say `useful`
/// useful annotations (and as many in total); `n` makes the body unique.
pub fn annotation_created(project: i64, useful: i64, n: i64) -> String {
    let mut v: serde_json::Value = serde_json::from_str(LS_FIXTURE).unwrap();
    v["project"]["id"] = project.into();
    v["project"]["useful_annotation_number"] = useful.into();
    v["project"]["total_annotations_number"] = useful.into();
    v["annotation"]["id"] = n.into();
    v["annotation"]["project"] = project.into();
    v.to_string()
}

/// A running receiver whose body limit is 1 MiB, with a Label Studio source.
pub async fn with_a_1_mib_limit() -> (Running, CreatedSource) {
    let r = running().await;
    r.engine.set_limits(loopline_engine::ReceiverLimits {
        max_body_bytes: 1024 * 1024,
        ..loopline_engine::ReceiverLimits::default()
    });
    let src = r.add(SourceKind::LabelStudio, None).await;
    (r, src)
}
