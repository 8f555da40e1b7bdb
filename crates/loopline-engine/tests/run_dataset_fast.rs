//! A start-a-pipeline automation that trains on a dataset-version automation's versions,
//! through the in-memory S3, Label Studio and pipeline service and the injected clock: each
//! run starts with the newest version at or before its trigger as `DatasetManifest`, waits
//! while that version is not judged or not written yet, records the manifest it started
//! with, and is refused (not started with another dataset) when there is no version.

mod common;

use std::sync::Arc;

use bytes::Bytes;
use common::fake_label_studio::FakeLabelStudio;
use common::fake_pipelines::FakePipelines;
use common::fake_s3::{Bucket, FakeS3};
use common::manual_clock::ManualClock;
use common::{annotation_created, receiving_with, Running};
use loopline_cloud::label_studio_setup::ProjectInfo;
use loopline_cloud::s3::ObjectStore;
use loopline_core::{
    manifest_key, AutomationAction, AutomationRequest, AutomationTrigger, Counter, CreatedSource,
    DatasetManifest, ErrorCode, FireMode, Overlap, RunStatus, SourceKind,
};

const T0: i64 = 1_790_000_000_000;
const BUCKET: &str = "birds-data";
const PROJECT: i64 = 7;

struct World {
    r: Running,
    src: CreatedSource,
    s3: Arc<FakeS3>,
    pipelines: Arc<FakePipelines>,
    clock: Arc<ManualClock>,
}

async fn world() -> World {
    let s3 = Arc::new(FakeS3::new("us-east-1"));
    s3.buckets.lock().unwrap().insert(
        BUCKET.into(),
        Bucket {
            region: "us-east-1".into(),
            ..Default::default()
        },
    );
    let ls = Arc::new(FakeLabelStudio::default());
    ls.projects.lock().unwrap().push(ProjectInfo {
        id: PROJECT,
        title: "Birds".into(),
        label_config: "<View><Image name=\"image\" value=\"$image\"/></View>".into(),
        task_number: 3,
    });
    let pipelines = Arc::new(FakePipelines::default());
    let clock = Arc::new(ManualClock::new(T0));
    let (store, labeling, p, c) = (s3.clone(), ls.clone(), pipelines.clone(), clock.clone());
    let r = receiving_with(move |o| {
        o.object_store = Some(store);
        o.labeling = Some(labeling);
        o.pipelines = Some(p);
        o.clock = Some(c);
    })
    .await;
    let src = r.add(SourceKind::LabelStudio, None).await;
    World {
        r,
        src,
        s3,
        pipelines,
        clock,
    }
}

fn trigger(src: &CreatedSource, project: i64, fire: FireMode) -> AutomationTrigger {
    AutomationTrigger {
        source_id: src.id.clone(),
        actions: vec!["ANNOTATION_CREATED".into()],
        project_id: Some(project),
        conditions: vec![],
        fire,
    }
}

fn request(name: &str, trigger: AutomationTrigger, action: AutomationAction) -> AutomationRequest {
    AutomationRequest {
        name: name.into(),
        trigger,
        action,
        dry_run: false,
        start_count: Some(0),
        even_if_shared: None,
    }
}

fn start_pipeline(dataset: Option<String>) -> AutomationAction {
    AutomationAction::StartPipeline {
        pipeline: "retrain-birds".into(),
        params: vec![],
        overlap: Overlap::Parallel,
        start_time_limit_secs: 900,
        dataset,
    }
}

impl World {
    async fn freeze(&self, fire: FireMode) -> String {
        let action = AutomationAction::DatasetVersion {
            bucket: BUCKET.into(),
            prefix: None,
            region: Some("us-east-1".into()),
            keep: 10,
        };
        let req = request("freeze birds", trigger(&self.src, PROJECT, fire), action);
        self.r.engine.add_automation(req).await.unwrap().id
    }

    async fn retrain_on(&self, dataset: &str) -> String {
        let every = FireMode::Every {
            n: 2,
            counter: Counter::Useful,
        };
        let req = request(
            "retrain",
            trigger(&self.src, PROJECT, every),
            start_pipeline(Some(dataset.into())),
        );
        self.r.engine.add_automation(req).await.unwrap().id
    }

    /// Annotation `id` exported to S3, then its webhook received and stored (not judged).
    async fn receive(&self, id: i64) {
        let body = serde_json::json!({"id": id, "was_cancelled": false, "result": [],
            "task": {"id": id, "data": {"image": format!("s3://{BUCKET}/bird-images/{id}.jpg")}}});
        self.s3
            .put_object(
                BUCKET,
                &format!("annotations/{id}"),
                Bytes::from(body.to_string()),
                "application/json",
                "",
            )
            .await
            .unwrap();
        let (status, _) = self
            .r
            .post_ls(&self.src, &annotation_created(PROJECT, id, id))
            .await;
        assert_eq!(status, 200);
    }

    /// Delivers what is due, then again after every retry's backoff, until nothing is left.
    async fn settle(&self) {
        for _ in 0..10 {
            self.r.engine.drain_outbox().await.unwrap();
            self.clock.advance_ms(60_000);
        }
    }

    fn manifest(&self, automation: &str, version: &str) -> DatasetManifest {
        let (body, _, _) = self
            .s3
            .object(BUCKET, &manifest_key(automation, version))
            .expect("the manifest is written");
        serde_json::from_slice(&body).unwrap()
    }
}

fn manifest_param(start: &common::fake_pipelines::FakeExecution) -> Option<String> {
    start
        .params
        .iter()
        .find(|p| p.name == "DatasetManifest")
        .map(|p| p.value.clone())
}

#[tokio::test]
async fn each_run_starts_with_the_dataset_version_of_its_trigger() {
    let w = world().await;
    let freeze = w.freeze(FireMode::Each).await;
    let retrain = w.retrain_on(&freeze).await;
    for id in 1..=4 {
        w.receive(id).await;
        w.r.engine.evaluate_rules().await.unwrap();
        w.r.engine.evaluate_automations().await.unwrap();
        w.settle().await;
    }
    let starts = w.pipelines.starts();
    assert_eq!(starts.len(), 2, "at 2 and at 4");
    let uri = |v: &str| format!("s3://{BUCKET}/{}", manifest_key(&freeze, v));
    assert_eq!(manifest_param(&starts[0]), Some(uri("v2")));
    assert_eq!(manifest_param(&starts[1]), Some(uri("v4")));
    // v2 holds exactly what was there at the run's trigger.
    let keys: Vec<String> = w
        .manifest(&freeze, "v2")
        .objects
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert_eq!(keys, ["annotations/1", "annotations/2"]);
    let runs = w.r.engine.list_runs(10).await.unwrap();
    assert!(runs.iter().all(|r| r.rule_id == retrain));
    let mut chosen: Vec<Option<String>> = runs.iter().map(|r| r.dataset_manifest.clone()).collect();
    chosen.sort();
    assert_eq!(chosen, [Some(uri("v2")), Some(uri("v4"))]);
    let shown = w.r.engine.automation_detail(&retrain).await.unwrap();
    assert!(matches!(
        shown.automation.action,
        AutomationAction::StartPipeline { dataset: Some(ref d), .. } if *d == freeze
    ));
}

#[tokio::test]
async fn a_run_waits_for_its_version_to_be_judged_and_written() {
    let w = world().await;
    let freeze = w.freeze(FireMode::Each).await;
    w.retrain_on(&freeze).await;
    w.receive(1).await;
    w.receive(2).await;
    // The rules decide the run before the automations have judged its event.
    w.r.engine.evaluate_rules().await.unwrap();
    w.settle().await;
    assert!(
        w.pipelines.starts().is_empty(),
        "not started without its dataset"
    );
    let waiting = &w.r.engine.list_runs(10).await.unwrap()[0];
    assert_eq!(waiting.status, RunStatus::Pending);
    assert!(
        waiting
            .error
            .as_deref()
            .is_some_and(|e| e.contains("Waiting for 'freeze birds'")),
        "{:?}",
        waiting.error
    );
    w.r.engine.evaluate_automations().await.unwrap();
    w.settle().await;
    let starts = w.pipelines.starts();
    assert_eq!(starts.len(), 1);
    assert_eq!(
        manifest_param(&starts[0]),
        Some(format!("s3://{BUCKET}/{}", manifest_key(&freeze, "v2")))
    );
}

#[tokio::test]
async fn without_a_version_at_its_trigger_the_run_is_refused_not_started_on_other_data() {
    let w = world().await;
    let freeze = w
        .freeze(FireMode::Every {
            n: 10,
            counter: Counter::Useful,
        })
        .await;
    w.retrain_on(&freeze).await;
    for id in 1..=2 {
        w.receive(id).await;
        w.r.engine.evaluate_rules().await.unwrap();
        w.r.engine.evaluate_automations().await.unwrap();
        w.settle().await;
    }
    assert!(w.pipelines.starts().is_empty());
    let run = &w.r.engine.list_runs(10).await.unwrap()[0];
    assert_eq!(run.status, RunStatus::StartFailed);
    assert!(
        run.error
            .as_deref()
            .is_some_and(|e| e.contains("made no dataset version")),
        "{:?}",
        run.error
    );
}

#[tokio::test]
async fn the_dataset_must_be_a_dataset_version_automation_of_the_same_project() {
    let w = world().await;
    let forward =
        w.r.engine
            .add_automation(request(
                "to the db",
                trigger(&w.src, PROJECT, FireMode::Each),
                AutomationAction::Forward {
                    url: "http://127.0.0.1:9/hook".into(),
                    secret_name: None,
                    body_template: None,
                },
            ))
            .await
            .unwrap()
            .id;
    let elsewhere =
        w.r.engine
            .add_automation(request(
                "freeze cells",
                trigger(&w.src, 8, FireMode::Each),
                AutomationAction::DatasetVersion {
                    bucket: BUCKET.into(),
                    prefix: None,
                    region: Some("us-east-1".into()),
                    keep: 3,
                },
            ))
            .await
            .unwrap()
            .id;
    let every = FireMode::Every {
        n: 2,
        counter: Counter::Useful,
    };
    for (dataset, says) in [
        (forward, "does not make dataset versions"),
        (elsewhere, "another source's or project's"),
        ("auto_missing".to_string(), "no such automation"),
    ] {
        let e =
            w.r.engine
                .add_automation(request(
                    "retrain",
                    trigger(&w.src, PROJECT, every.clone()),
                    start_pipeline(Some(dataset)),
                ))
                .await
                .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
        assert!(e.message.contains(says), "{}", e.message);
    }
    assert!(w.r.engine.list_rules().await.unwrap().is_empty());
}
