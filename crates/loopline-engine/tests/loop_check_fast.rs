//! The loop check (`loopline setup check`) through an in-memory Label Studio, a fake
//! pipeline service and a clock the test moves: a count that never moves fails the
//! "Counted" step instead of passing it, and one check at a time holds across engines on
//! one data directory (the app and `loopline serve`), so no test annotation starts a run.
//! Against a real Label Studio and moto: e2e/test_setup_labeling.py.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use common::fake_label_studio::FakeLabelStudio;
use common::fake_pipelines::FakePipelines;
use common::manual_clock::ManualClock;
use common::{annotation_created, receiving_with, Running};
use loopline_cloud::label_studio_setup::ProjectInfo;
use loopline_core::{
    Counter, CreatedSource, ErrorCode, Overlap, PipelineParam, SetupReport, SetupStep, SetupWork,
    SourceKind, StepStatus, TunnelConfig, TunnelState, TunnelStatus,
};
use loopline_engine::{Engine, EngineOptions, RuleRequest};

const PROJECT: i64 = 7;
const T0: i64 = 1_790_000_000_000;
/// The fake's first task of a project.
const TASK: i64 = PROJECT * 1000 + 1;

struct World {
    r: Running,
    ls: Arc<FakeLabelStudio>,
    pipelines: Arc<FakePipelines>,
    clock: Arc<ManualClock>,
    src: CreatedSource,
}

async fn world() -> World {
    let ls = Arc::new(FakeLabelStudio::default());
    ls.projects.lock().unwrap().push(ProjectInfo {
        id: PROJECT,
        title: "Birds".into(),
        label_config: "<View/>".into(),
        task_number: 5,
    });
    ls.next_id.store(500, Ordering::SeqCst);
    let pipelines = Arc::new(FakePipelines::default());
    let clock = Arc::new(ManualClock::new(T0));
    let (l, p, c) = (ls.clone(), pipelines.clone(), clock.clone());
    let r = receiving_with(move |o| {
        o.labeling = Some(l);
        o.pipelines = Some(p);
        o.clock = Some(c);
    })
    .await;
    let src = r.add(SourceKind::LabelStudio, None).await;
    reachable(&r.engine, &r.base).await;
    r.engine
        .add_rule(RuleRequest {
            source_id: src.id.clone(),
            project_id: PROJECT,
            every: 4,
            pipeline: "train".into(),
            params: vec![PipelineParam {
                name: "Count".into(),
                value: "{count}".into(),
            }],
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
    let w = World {
        r,
        ls,
        pipelines,
        clock,
        src,
    };
    // Three real annotations so far: the rule stands at 3 of 4.
    w.deliver(3, 3, 1).await;
    w.r.engine.evaluate_rules().await.unwrap();
    w
}

/// The tunnel as a running keeper would have verified it. No keeper runs here (its
/// self-test needs time to pass), so its lease and status are written as it writes them.
async fn reachable(engine: &Engine, base: &str) {
    let store = engine.store();
    let config = TunnelConfig::Url {
        public_url: base.to_string(),
    };
    store
        .set_setting("tunnel.config", &serde_json::to_string(&config).unwrap())
        .await
        .unwrap();
    let lease = serde_json::json!({
        "owner": format!("{}-keeper", std::process::id()),
        "kind": "serve",
        "until_ms": i64::MAX,
    });
    store
        .set_setting("tunnel.keeper", &lease.to_string())
        .await
        .unwrap();
    let status = TunnelStatus {
        state: TunnelState::Reachable,
        public_url: Some(base.to_string()),
        note: None,
        ..TunnelStatus::stopped(Some("url"), "")
    };
    store
        .set_setting("tunnel.status", &serde_json::to_string(&status).unwrap())
        .await
        .unwrap();
}

impl World {
    /// One ANNOTATION_CREATED delivery for `annotation` on `task`, the project's useful
    /// counter at `useful`.
    async fn deliver(&self, annotation: i64, useful: i64, task: i64) {
        let mut v: serde_json::Value =
            serde_json::from_str(&annotation_created(PROJECT, useful, annotation)).unwrap();
        v["annotation"]["task"] = task.into();
        v["task"]["id"] = task.into();
        let (status, _) = self.r.post_ls(&self.src, &v.to_string()).await;
        assert_eq!(status, 200);
    }

    /// The test annotation, once the check has made it in Label Studio.
    async fn test_annotation(&self) -> (i64, i64) {
        until("the test annotation is made", || {
            !self.ls.annotations.lock().unwrap().is_empty()
        })
        .await;
        self.ls.annotations.lock().unwrap()[0]
    }

    /// The step the running check last recorded under `key` (the state `setup status` reads).
    async fn recorded(&self, key: &str) -> Option<SetupStep> {
        self.r
            .engine
            .store()
            .setting(&format!("setup.step.{key}"))
            .await
            .unwrap()
            .and_then(|j| serde_json::from_str(&j).ok())
    }

    async fn runs(&self) -> usize {
        self.r.engine.drain_outbox().await.unwrap();
        self.r.engine.list_runs(100).await.unwrap().len()
    }
}

/// Waits on state the test can see (the fakes' records), never on time alone.
async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn step<'a>(r: &'a SetupReport, key: &str) -> &'a SetupStep {
    r.steps
        .iter()
        .find(|s| s.key == key)
        .unwrap_or_else(|| panic!("no step {key}: {r:?}"))
}

#[tokio::test]
async fn a_count_that_never_moves_fails_the_counted_step() {
    let w = world().await;
    let mut notices = w.r.engine.subscribe_notices();
    let (engine, src) = (w.r.engine.clone(), w.src.id.clone());
    let check = tokio::spawn(async move { engine.check_loop(&src, PROJECT).await });
    let (annotation, task) = w.test_annotation().await;
    assert_eq!(task, TASK);
    // The webhook arrives, but Label Studio's counter did not move (still 3).
    w.deliver(annotation, 3, task).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let received = w.recorded("check.received").await;
        if received.is_some_and(|s| s.status == StepStatus::Unchanged) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never received");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A minute passes, in steps, until the check gives up on the count.
    while !check.is_finished() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the check never ended"
        );
        w.clock.advance_ms(61_000);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let report = check.await.unwrap().unwrap();
    let counted = step(&report, "check.counted");
    assert_eq!(counted.status, StepStatus::Failed, "{report:?}");
    let e = counted.error.as_ref().unwrap();
    assert_eq!(e.code, ErrorCode::TimedOut);
    assert!(
        e.message.contains("did not count it within 60 s")
            && e.message.contains("still stands at 3")
            && e.message.contains("webhook sends its payload"),
        "{}",
        e.message
    );
    assert_eq!(step(&report, "check.loop").status, StepStatus::Failed);
    assert_eq!(step(&report, "check.cleaned").status, StepStatus::Unchanged);
    assert!(w.ls.annotations.lock().unwrap().is_empty(), "cleaned up");
    assert_eq!(w.runs().await, 0);
    // The window may be hidden while a check waits: a failure also notifies.
    let notice = notices.try_recv().expect("a failed check notifies");
    assert_eq!(notice.kind, loopline_core::NoticeKind::LoopCheckFailed);
    assert!(
        notice.body.contains(&format!("project {PROJECT}")),
        "{notice:?}"
    );
}

#[tokio::test]
async fn a_second_check_is_refused_in_this_process_and_another_and_starts_no_run() {
    let w = world().await;
    let (engine, src) = (w.r.engine.clone(), w.src.id.clone());
    let first = tokio::spawn(async move { engine.check_loop(&src, PROJECT).await });
    let (annotation, task) = w.test_annotation().await;

    // The same engine (a second click), and another engine on the same data directory (the
    // CLI while the app runs): both refused at once, before they annotate anything.
    let again = tokio::time::timeout(
        Duration::from_secs(5),
        w.r.engine.check_loop(&w.src.id, PROJECT),
    )
    .await
    .expect("a second check must be refused at once, not run beside the first");
    let e = again.unwrap_err();
    assert_eq!(e.code, ErrorCode::AlreadyRunning);
    assert!(
        e.message
            .contains("already running in this Loopline process"),
        "{}",
        e.message
    );
    let other = Engine::open(EngineOptions {
        data_dir: Some(w.r.dir.path().to_path_buf()),
        clock: Some(w.clock.clone()),
        labeling: Some(w.ls.clone()),
        pipelines: Some(w.pipelines.clone()),
        ..Default::default()
    })
    .await
    .unwrap();
    let e = tokio::time::timeout(Duration::from_secs(5), other.check_loop(&w.src.id, PROJECT))
        .await
        .expect("refused at once from another engine too")
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::AlreadyRunning);
    assert!(
        e.message.contains("another Loopline process") && e.message.contains("project 7"),
        "{}",
        e.message
    );
    assert_eq!(
        w.ls.annotations.lock().unwrap().len(),
        1,
        "only the first check annotated"
    );

    // The first check's annotation crosses the rule's multiple (4 of 4), and starts no run.
    w.deliver(annotation, 4, task).await;
    let report = first.await.unwrap().unwrap();
    assert_eq!(step(&report, "check.counted").status, StepStatus::Unchanged);
    assert_eq!(step(&report, "check.loop").status, StepStatus::Unchanged);
    assert_eq!(w.runs().await, 0, "the test annotation starts no run");
    assert!(w.pipelines.starts().is_empty());
    assert_eq!(
        w.r.engine
            .store()
            .setting("setup.loop_check")
            .await
            .unwrap(),
        None,
        "the claim is released"
    );

    // Once it ended, a real annotation that crosses the next multiple does start one.
    w.deliver(900, 8, TASK + 1).await;
    w.r.engine.evaluate_rules().await.unwrap();
    assert_eq!(w.runs().await, 1);
}

#[tokio::test]
async fn a_cancelled_check_stops_waiting_removes_its_annotation_and_says_so() {
    let w = world().await;
    let mut notices = w.r.engine.subscribe_notices();
    let (engine, src) = (w.r.engine.clone(), w.src.id.clone());
    let check = tokio::spawn(async move { engine.check_loop(&src, PROJECT).await });
    w.test_annotation().await;
    // The webhook never comes and the clock stands still: only Cancel ends the wait.
    assert!(w.r.engine.cancel_setup(SetupWork::Check), "the check runs");
    let report = tokio::time::timeout(Duration::from_secs(10), check)
        .await
        .expect("Cancel ends the check at once")
        .unwrap()
        .unwrap();
    let received = step(&report, "check.received");
    assert_eq!(received.status, StepStatus::Failed);
    let e = received.error.as_ref().unwrap();
    assert_eq!(e.code, ErrorCode::Cancelled);
    assert!(
        e.message
            .contains("waiting for the test annotation's webhook"),
        "{}",
        e.message
    );
    assert_eq!(
        step(&report, "check.annotation").status,
        StepStatus::Created,
        "what was done is kept"
    );
    assert_eq!(step(&report, "check.cleaned").status, StepStatus::Unchanged);
    assert!(
        w.ls.annotations.lock().unwrap().is_empty(),
        "the test annotation is removed"
    );
    let last = step(&report, "check.loop");
    assert_eq!(last.status, StepStatus::Failed);
    assert_eq!(last.error.as_ref().unwrap().code, ErrorCode::Cancelled);
    assert!(last.summary.contains("was cancelled"), "{}", last.summary);
    assert!(
        notices.try_recv().is_err(),
        "the user cancelled it: no notice"
    );
    assert_eq!(
        w.r.engine
            .store()
            .setting("setup.loop_check")
            .await
            .unwrap(),
        None
    );
    assert!(
        !w.r.engine.cancel_setup(SetupWork::Check),
        "nothing runs any more"
    );
}
