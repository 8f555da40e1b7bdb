//! The pipeline's model versions through in-memory SageMaker (pipelines, definitions and the
//! model registry) and S3: before the setup there is no group and the error says how to make
//! one; each run's version is found by its execution's ARN and tied to the run; its metrics
//! come from the statistics the Metrics step wrote, compared with the version approved now;
//! approve and reject set the status and the note and read it back; a version is named by
//! its number or its ARN; throttling and missing statistics are said plainly. Against moto:
//! e2e/test_models.py.

mod common;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::fake_pipelines::{throttled, FakePipelines};
use common::fake_registry::FakeRegistry;
use common::fake_roles::FakeIam;
use common::fake_s3::FakeS3;
use common::fake_sagemaker::FakeSageMaker;
use common::{annotation_created, receiving_with, Running};
use loopline_cloud::s3::ObjectStore;
use loopline_core::{
    Counter, CreatedSource, ErrorCode, ModelDecision, Overlap, RolePolicy, RoleRequest, SourceKind,
};
use loopline_engine::RuleRequest;

const BUCKET: &str = "sagemaker-birds";
const PIPELINE: &str = "birds-segmentation";
const PROJECT: i64 = 7;

struct World {
    r: Running,
    s3: Arc<FakeS3>,
    registry: Arc<FakeRegistry>,
    pipelines: Arc<FakePipelines>,
    src: CreatedSource,
    n: AtomicI64,
}

async fn world() -> World {
    let s3 = Arc::new(FakeS3::new("eu-west-1"));
    s3.create_bucket(BUCKET).await.unwrap();
    let registry = Arc::new(FakeRegistry::default());
    let pipelines = Arc::new(FakePipelines::default());
    let (s, g, p) = (s3.clone(), registry.clone(), pipelines.clone());
    let r = receiving_with(move |o| {
        o.roles = Some(Arc::new(FakeIam::default()));
        o.object_store = Some(s);
        o.pipeline_definitions = Some(Arc::new(FakeSageMaker::default()));
        o.model_registry = Some(g);
        o.pipelines = Some(p);
        o.setup_retry_delays = Some(vec![Duration::ZERO; 3]);
    })
    .await;
    let src = r.add(SourceKind::LabelStudio, None).await;
    World {
        r,
        s3,
        registry,
        pipelines,
        src,
        n: AtomicI64::new(1),
    }
}

impl World {
    async fn setup(&self) {
        let ask = RoleRequest {
            region: "eu-west-1".into(),
            bucket: Some(BUCKET.into()),
            policy: RolePolicy::Scoped,
            pipeline: Some(PIPELINE.into()),
            labels: vec!["Beak".into(), "Head".into()],
            ..Default::default()
        };
        self.r.engine.setup_role(ask, false).await.unwrap();
    }

    /// One retrain run started, as its rule would start it; returns (run id, execution ARN).
    async fn run(&self) -> (i64, String) {
        let n = self.n.fetch_add(1, Ordering::SeqCst);
        if n == 1 {
            self.r
                .engine
                .add_rule(RuleRequest {
                    source_id: self.src.id.clone(),
                    project_id: PROJECT,
                    every: 1,
                    pipeline: PIPELINE.into(),
                    params: vec![],
                    counter: Counter::Useful,
                    overlap: Overlap::Parallel,
                    dry_run: false,
                    start_time_limit_secs: 60,
                    start_count: Some(0),
                    name: None,
                    dataset_automation: None,
                    even_if_shared: None,
                })
                .await
                .unwrap();
        }
        let (status, _) = self
            .r
            .post_ls(&self.src, &annotation_created(PROJECT, n, n))
            .await;
        assert_eq!(status, 200);
        self.r.engine.evaluate_rules().await.unwrap();
        self.r.engine.drain_outbox().await.unwrap();
        let run = self.r.engine.list_runs(1).await.unwrap().remove(0);
        let arn = run.execution_arn.clone().expect("started");
        assert_eq!(self.pipelines.starts().len() as i64, n);
        (run.id, arn)
    }

    /// What the run's Metrics and RegisterModel steps would leave behind.
    async fn registered(&self, execution: &str, miou: f64, accuracy: f64) -> String {
        let id = execution.rsplit('/').next().unwrap();
        let key = format!("model/metrics/{id}/statistics.json");
        let doc = serde_json::json!({"semantic_segmentation_metrics": {
            "mIOU": {"value": miou}, "pixel_accuracy": {"value": accuracy},
        }});
        self.s3
            .put_object(
                BUCKET,
                &key,
                Bytes::from(doc.to_string()),
                "application/json",
                "",
            )
            .await
            .unwrap();
        self.registry.register(
            PIPELINE,
            Some(execution),
            Some(&format!("s3://{BUCKET}/{key}")),
            "PendingManualApproval",
        )
    }
}

fn metric(v: &loopline_core::ModelVersion, name: &str) -> loopline_core::ModelMetric {
    v.metrics.iter().find(|m| m.name == name).unwrap().clone()
}

#[tokio::test]
async fn before_the_setup_there_is_no_group_and_the_error_says_how_to_make_one() {
    let w = world().await;
    let e = w.r.engine.list_models(None, 20).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NoModelGroup);
    assert!(e.message.contains("training setup"), "{}", e.message);
    // A pipeline the setup chose, whose group was deleted since.
    w.setup().await;
    w.registry.groups.lock().unwrap().clear();
    let e = w.r.engine.list_models(None, 20).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NoModelGroup);
    assert!(
        e.message
            .contains("no model package group 'birds-segmentation' in eu-west-1"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn each_runs_version_is_shown_with_its_metrics_against_the_approved_one() {
    let w = world().await;
    w.setup().await;
    let empty = w.r.engine.list_models(None, 20).await.unwrap();
    assert_eq!(
        (empty.group.as_str(), empty.versions.len(), empty.approved),
        (PIPELINE, 0, None)
    );
    assert!(empty
        .group_arn
        .ends_with(":model-package-group/birds-segmentation"));

    let (run1, exec1) = w.run().await;
    assert_eq!(
        w.r.engine.run_model(run1).await.unwrap(),
        None,
        "not registered yet"
    );
    let v1_arn = w.registered(&exec1, 0.5, 0.9).await;
    let v1 =
        w.r.engine
            .run_model(run1)
            .await
            .unwrap()
            .expect("found by GeneratedBy");
    assert_eq!((v1.version, v1.run_id), (1, Some(run1)));
    assert_eq!(v1.status, "PendingManualApproval");
    assert_eq!(metric(&v1, "mIOU").value, 0.5);
    assert_eq!(
        metric(&v1, "mIOU").delta,
        None,
        "nothing approved to compare with"
    );
    assert_eq!(
        w.r.engine
            .run(run1)
            .await
            .unwrap()
            .model_package_arn
            .as_deref(),
        Some(v1_arn.as_str()),
        "the tie is kept on the run"
    );

    let approved =
        w.r.engine
            .decide_model("1", ModelDecision::Approve, Some("  looks right  "), None)
            .await
            .unwrap();
    assert_eq!(approved.status, "Approved");
    assert!(approved.approved_now);
    assert_eq!(approved.note.as_deref(), Some("looks right"));
    assert_eq!(
        w.registry.updates.lock().unwrap()[0],
        (
            v1_arn.clone(),
            "Approved".into(),
            Some("looks right".into())
        )
    );

    let (run2, exec2) = w.run().await;
    let v2_arn = w.registered(&exec2, 0.625, 0.875).await;
    let list = w.r.engine.list_models(None, 20).await.unwrap();
    assert_eq!(list.approved, Some(1));
    let versions: Vec<i64> = list.versions.iter().map(|v| v.version).collect();
    assert_eq!(versions, vec![2, 1], "newest first");
    let v2 = &list.versions[0];
    assert_eq!(
        (v2.run_id, v2.compared_with, v2.approved_now),
        (Some(run2), Some(1), false)
    );
    assert_eq!(metric(v2, "mIOU").delta, Some(0.125));
    assert_eq!(metric(v2, "pixel_accuracy").approved_value, Some(0.9));
    assert_eq!(metric(v2, "pixel_accuracy").delta, Some(0.875 - 0.9));
    let v1 = &list.versions[1];
    assert!(v1.approved_now);
    assert_eq!(
        v1.compared_with, None,
        "the approved one is not compared with itself"
    );

    let rejected =
        w.r.engine
            .decide_model(&v2_arn, ModelDecision::Reject, None, Some(PIPELINE))
            .await
            .unwrap();
    assert_eq!(
        (rejected.status.as_str(), rejected.note),
        ("Rejected", None)
    );
    let shown = w.r.engine.run_model(run2).await.unwrap().unwrap();
    assert_eq!(shown.status, "Rejected");
    assert_eq!(shown.compared_with, Some(1));
}

#[tokio::test]
async fn versions_are_named_by_number_or_arn_and_failures_are_said_plainly() {
    let w = world().await;
    w.setup().await;
    let (_, exec) = w.run().await;
    w.registered(&exec, 0.5, 0.9).await;
    for (name, code) in [
        ("9", ErrorCode::NotFound),
        ("latest", ErrorCode::InvalidArgument),
    ] {
        let e =
            w.r.engine
                .decide_model(name, ModelDecision::Approve, None, None)
                .await
                .unwrap_err();
        assert_eq!(e.code, code, "{name}: {}", e.message);
        assert!(e.message.contains("loopline models list"), "{}", e.message);
    }
    assert!(w.registry.updates.lock().unwrap().is_empty());
    let long = "n".repeat(1025);
    let e =
        w.r.engine
            .decide_model("v1", ModelDecision::Approve, Some(&long), None)
            .await
            .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidArgument);

    w.registry.failures.lock().unwrap().push_back(throttled());
    let e = w.r.engine.list_models(None, 20).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::AwsThrottled);
    assert!(e.message.contains("try again"), "{}", e.message);

    // A version whose statistics are gone is still listed, and says why it has no metrics.
    let id = exec.rsplit('/').next().unwrap();
    w.s3.delete_object(BUCKET, &format!("model/metrics/{id}/statistics.json"))
        .await
        .unwrap();
    w.registry
        .register(PIPELINE, None, None, "PendingManualApproval");
    let list = w.r.engine.list_models(None, 20).await.unwrap();
    let note = |v: i64| {
        list.versions
            .iter()
            .find(|x| x.version == v)
            .unwrap()
            .metrics_note
            .clone()
            .unwrap_or_default()
    };
    assert!(note(1).contains("is not there"), "{}", note(1));
    assert!(
        note(2).contains("no model-quality statistics"),
        "{}",
        note(2)
    );
    assert_eq!(
        list.versions[0].run_id, None,
        "registered by no run of Loopline's"
    );
}
