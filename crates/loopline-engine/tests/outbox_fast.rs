//! The outbox worker under the faults a laptop meets: a sleep that runs the wall clock past
//! every lease while the renewal timers stand still, a store that is busy, and one slow
//! kind of effect beside the others. Through fakes and the injected clock, in milliseconds.

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::fake_pipelines::FakePipelines;
use common::manual_clock::ManualClock;
use common::{annotation_created, receiving_with, Running, AQUARIUM_FIXTURE};
use loopline_cloud::image_hosts::ImageHosts;
use loopline_cloud::sagemaker::CallError;
use loopline_cloud::web::{Answer, Web};
use loopline_core::{
    ApiError, Counter, CreatedSource, ErrorCode, ExportLabels, ExportRequest, ExportState,
    ExportTarget, Overlap, PipelineParam, RunStatus, SourceKind,
};
use loopline_engine::secrets::MemorySecrets;
use loopline_engine::{Engine, EngineOptions, RuleRequest};
use tokio::sync::{Notify, Semaphore};

const PROJECT: i64 = 7;
const T0: i64 = 1_790_000_000_000;
const LEASE: Duration = Duration::from_millis(300);

fn rule(source: &CreatedSource) -> RuleRequest {
    RuleRequest {
        source_id: source.id.clone(),
        project_id: PROJECT,
        every: 1,
        pipeline: "train".into(),
        params: vec![PipelineParam {
            name: "Count".into(),
            value: "{count}".into(),
        }],
        counter: Counter::Useful,
        overlap: Overlap::Parallel,
        dry_run: false,
        start_time_limit_secs: 3600,
        start_count: Some(0),
        name: None,
        dataset_automation: None,
        even_if_shared: None,
    }
}

/// A receiving engine with a rule, and one annotation evaluated: one run is due to start.
async fn one_run_due(
    pipelines: Arc<FakePipelines>,
    clock: Arc<ManualClock>,
    web: Option<Arc<dyn Web>>,
) -> (Running, CreatedSource) {
    let r = receiving_with(move |o| {
        o.pipelines = Some(pipelines);
        o.clock = Some(clock);
        o.lease = Some(LEASE);
        o.web = web;
    })
    .await;
    let src = r.add(SourceKind::LabelStudio, None).await;
    r.engine.add_rule(rule(&src)).await.unwrap();
    (r, src)
}

async fn annotate(r: &Running, src: &CreatedSource, useful: i64) {
    let (status, _) = r
        .post_ls(src, &annotation_created(PROJECT, useful, useful))
        .await;
    assert_eq!(status, 200);
    r.engine.evaluate_rules().await.unwrap();
}

/// Waits on state: `check` becomes true (polling the engine, never sleeping for "long enough").
async fn until<F: std::future::Future<Output = bool>>(what: &str, check: impl Fn() -> F) {
    for _ in 0..3000 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Issue 22.4: the laptop slept with a start in flight. The wall clock ran past the lease,
/// so the other process (`serve` beside the app) took the item over and started the run.
/// The first worker's next renewal finds the item is no longer its own: its call is
/// cancelled, it settles nothing, and the run is started exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_whose_lease_ran_out_in_a_sleep_cancels_its_call_and_settles_nothing() {
    let clock = Arc::new(ManualClock::new(T0));
    let app_aws = Arc::new(FakePipelines::default());
    let held = Arc::new(Semaphore::new(0));
    *app_aws.hold.lock().unwrap() = Some(held.clone());
    let (app, src) = one_run_due(app_aws.clone(), clock.clone(), None).await;
    annotate(&app, &src, 1).await;

    let serve_aws = Arc::new(FakePipelines::default());
    let serve = Engine::open(EngineOptions {
        data_dir: Some(app.dir.path().to_path_buf()),
        secrets: Some(Arc::new(MemorySecrets::default())),
        pipelines: Some(serve_aws.clone()),
        clock: Some(clock.clone()),
        lease: Some(LEASE),
        ..Default::default()
    })
    .await
    .unwrap();

    let delivering = {
        let engine = app.engine.clone();
        tokio::spawn(async move { engine.drain_outbox().await })
    };
    app_aws.entered.notified().await;
    // The sleep: hours pass on the wall clock, no renewal timer fires.
    clock.advance_ms(3 * 3_600_000);
    assert_eq!(
        serve.drain_outbox().await.unwrap(),
        1,
        "serve takes the item over"
    );
    let run = serve.list_runs(1).await.unwrap().remove(0);
    assert_eq!(run.status, RunStatus::Executing);

    // The app's worker wakes to a renewal that fails: its call is dropped, not finished.
    let delivered = tokio::time::timeout(Duration::from_secs(30), delivering)
        .await
        .expect("the app's call was cancelled when its lease turned out lost")
        .unwrap()
        .unwrap();
    assert_eq!(delivered, 0, "the app settled nothing");
    assert_eq!(
        held.available_permits(),
        0,
        "the held call was never let through"
    );
    assert!(app_aws.starts().is_empty(), "the app never started it");
    assert_eq!(serve_aws.starts().len(), 1, "started exactly once");
    let after = app.engine.run(run.id).await.unwrap();
    assert_eq!(after.status, RunStatus::Executing);
    assert_eq!(after.execution_arn, run.execution_arn);
    serve.shutdown().await;
}

/// Issue 22.4, in the store: a settle is fenced by the lease. A worker whose item was taken
/// over cannot mark it done (or failed) behind the new owner's back.
#[tokio::test]
async fn a_settle_by_a_worker_that_lost_the_lease_changes_nothing() {
    let clock = Arc::new(ManualClock::new(T0));
    let aws = Arc::new(FakePipelines::default());
    let (r, src) = one_run_due(aws.clone(), clock.clone(), None).await;
    annotate(&r, &src, 1).await;
    let store = loopline_store::Store::open(
        std::path::Path::new(&r.engine.info().await.unwrap().db_path),
        &Default::default(),
    )
    .await
    .unwrap();
    let id = store.due_outbox(T0, &[]).await.unwrap()[0];
    store
        .claim_outbox(id, "app", T0, T0 + 1_000, &[])
        .await
        .unwrap()
        .unwrap();
    let later = T0 + 10_000;
    let taken = store
        .claim_outbox(id, "serve", later, later + 1_000, &[])
        .await
        .unwrap()
        .expect("the expired lease is taken over");
    assert!(taken.taken_over);
    let failed = loopline_store::Settle::Failed {
        now_ms: later,
        error: "late failure",
    };
    let run = r.engine.list_runs(1).await.unwrap().remove(0).id;
    assert!(
        !store
            .settle_outbox(id, "app", &failed, Some(run))
            .await
            .unwrap(),
        "the old owner is refused"
    );
    assert_eq!(
        r.engine.run(run).await.unwrap().status,
        RunStatus::Pending,
        "and the run's state is untouched"
    );
    assert!(store
        .settle_outbox(
            id,
            "serve",
            &loopline_store::Settle::Done { now_ms: later },
            Some(run)
        )
        .await
        .unwrap());
    assert!(store
        .due_outbox(later + 100_000, &[])
        .await
        .unwrap()
        .is_empty());
    store.close().await;
}

/// Issue 22.5: "database is locked" under ingest load is this machine's store being busy,
/// not a refusal: the start is retried, never failed for good.
#[tokio::test]
async fn a_busy_store_during_a_start_is_retried_not_failed() {
    let clock = Arc::new(ManualClock::new(T0));
    let aws = Arc::new(FakePipelines::default());
    aws.start_failures
        .lock()
        .unwrap()
        .push_back(CallError::from(ApiError::new(
            ErrorCode::DbLocked,
            "The database is busy (database is locked).",
        )));
    let (r, src) = one_run_due(aws.clone(), clock.clone(), None).await;
    annotate(&r, &src, 1).await;
    assert_eq!(r.engine.drain_outbox().await.unwrap(), 0);
    let run = r.engine.list_runs(1).await.unwrap().remove(0);
    assert_eq!(run.status, RunStatus::Pending, "{:?}", run.error);
    assert!(run.error.as_deref().unwrap().contains("Retrying in"));
    clock.advance_ms(60_000);
    assert_eq!(r.engine.drain_outbox().await.unwrap(), 1);
    assert_eq!(
        r.engine.run(run.id).await.unwrap().status,
        RunStatus::Executing
    );
    assert_eq!(aws.starts().len(), 1);
}

/// An export target that takes its time: each post waits for a permit.
struct SlowEndpoint {
    permits: Semaphore,
    entered: Notify,
}

impl Default for SlowEndpoint {
    fn default() -> Self {
        SlowEndpoint {
            permits: Semaphore::new(0),
            entered: Notify::new(),
        }
    }
}

#[async_trait]
impl Web for SlowEndpoint {
    async fn post_json(
        &self,
        _url: &str,
        _headers: &[(String, String)],
        _body: &serde_json::Value,
    ) -> Result<Answer, ApiError> {
        self.entered.notify_one();
        let _permit = self.permits.acquire().await;
        Ok(Answer {
            status: 200,
            body: "{}".into(),
        })
    }

    async fn head_bytes(
        &self,
        _url: &str,
        _limit: usize,
        _hosts: &ImageHosts,
    ) -> Result<Vec<u8>, ApiError> {
        Err(ApiError::new(ErrorCode::NotFound, "no image here"))
    }

    async fn fetch(
        &self,
        _url: &str,
        _limit: usize,
        _hosts: &ImageHosts,
    ) -> Result<(String, Vec<u8>), ApiError> {
        Err(ApiError::new(ErrorCode::NotFound, "no image here"))
    }
}

/// Issue 22.12: an export to an endpoint that does not answer holds up only its own kind.
/// The retrain start queued behind it is delivered while the export is still in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_export_does_not_hold_up_a_retrain_start() {
    let clock = Arc::new(ManualClock::new(T0));
    let aws = Arc::new(FakePipelines::default());
    let endpoint = Arc::new(SlowEndpoint::default());
    let (r, src) = one_run_due(aws.clone(), clock.clone(), Some(endpoint.clone())).await;

    // The export first, so it is ahead of the start in the queue.
    let aquarium = r.add(SourceKind::Aquarium, Some("s3cr3t")).await;
    let (status, _) = r
        .post(
            &aquarium.id,
            &[
                ("x-aquarium-secret", "s3cr3t"),
                ("content-type", "application/json"),
            ],
            AQUARIUM_FIXTURE.to_string(),
        )
        .await;
    assert_eq!(status, 200);
    let issue = r.engine.aquarium_issues().await.unwrap().remove(0).issue_id;
    let export = r
        .engine
        .export_issue(&ExportRequest {
            issue_id: issue,
            target: ExportTarget::Rest {
                url: "https://labeling.example.com/tasks".into(),
                body_template: None,
                auth_secret: None,
            },
            elements: None,
            labels: ExportLabels::Both,
        })
        .await
        .unwrap();
    annotate(&r, &src, 1).await;

    let draining = {
        let engine = r.engine.clone();
        tokio::spawn(async move { engine.drain_outbox().await })
    };
    endpoint.entered.notified().await;
    let engine = r.engine.clone();
    until("the run started while the export waits", || {
        let engine = engine.clone();
        async move { engine.list_runs(1).await.unwrap()[0].status == RunStatus::Executing }
    })
    .await;
    assert_eq!(
        r.engine
            .export_report(export.export_id)
            .await
            .unwrap()
            .state,
        ExportState::Pending,
        "the export is still in flight"
    );
    endpoint.permits.add_permits(100);
    assert_eq!(draining.await.unwrap().unwrap(), 2);
    assert_eq!(
        r.engine
            .export_report(export.export_id)
            .await
            .unwrap()
            .state,
        ExportState::Done
    );
}
