//! Catching up after a gap, through a fake Label Studio (`ProjectActivity`): one entry per
//! gap, only annotations whose webhooks did not arrive, a rule crossing its multiple in the
//! gap fires once, a second catch-up adds nothing, Label Studio down loses nothing, an
//! Aquarium source gets one line per gap, and a jump of the injected wall clock (a sleep)
//! triggers it, as does the tunnel coming back after an outage. `e2e/test_catch_up.py` does the same against a real Label Studio and moto.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common::fake_tunnel::FakeTunnel;
use common::manual_clock::ManualClock;
use common::{annotation_created, receiving_with, Running};
use loopline_cloud::label_studio_activity::{ProjectActivity, ProjectCounts, SeenAnnotation};
use loopline_core::{
    ApiError, CatchUp, CatchUpTrigger, Clock, Counter, CreatedSource, ErrorCode, EventSummary,
    Overlap, SourceKind, TunnelConfig, TunnelState,
};
use loopline_engine::{EngineOptions, RuleRequest, CATCH_UP_ACTION};
use tokio::sync::broadcast;

const PROJECT: i64 = 7;
const T0: i64 = 1_790_000_000_000;
const HOUR: i64 = 3_600_000;

#[derive(Default)]
struct FakeActivity {
    annotations: Mutex<Vec<SeenAnnotation>>,
    down: AtomicBool,
}

impl FakeActivity {
    /// Annotations `ids` made at `at`.
    fn annotate(&self, ids: std::ops::RangeInclusive<i64>, at: i64) {
        let mut a = self.annotations.lock().unwrap();
        for id in ids {
            a.push(SeenAnnotation {
                id,
                task_id: id,
                created_at_ms: at,
                updated_at_ms: at,
                was_cancelled: false,
            });
        }
    }

    fn useful(&self) -> i64 {
        let a = self.annotations.lock().unwrap();
        a.iter().filter(|a| !a.was_cancelled).count() as i64
    }

    fn refuse(&self) -> Result<(), ApiError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(ApiError::new(
                ErrorCode::LsUnavailable,
                "Could not reach Label Studio at http://ls.test: nothing answered at that address.",
            ));
        }
        Ok(())
    }
}

#[async_trait]
impl ProjectActivity for FakeActivity {
    async fn project_counts(&self, _project: i64) -> Result<ProjectCounts, ApiError> {
        self.refuse()?;
        Ok(ProjectCounts {
            title: "Birds".into(),
            useful_annotation_number: Some(self.useful()),
            total_annotations_number: Some(self.useful()),
        })
    }

    async fn annotations_since(
        &self,
        _project: i64,
        since_ms: i64,
    ) -> Result<Vec<SeenAnnotation>, ApiError> {
        self.refuse()?;
        let a = self.annotations.lock().unwrap();
        Ok(a.iter()
            .filter(|a| a.updated_at_ms > since_ms)
            .cloned()
            .collect())
    }
}

struct Gap {
    r: Running,
    ls: Arc<FakeActivity>,
    clock: Arc<ManualClock>,
    src: CreatedSource,
}

async fn setup() -> Gap {
    setup_with(|_| {}).await
}

async fn setup_with(tweak: impl FnOnce(&mut EngineOptions)) -> Gap {
    let ls = Arc::new(FakeActivity::default());
    let clock = Arc::new(ManualClock::new(T0));
    let (l, c) = (ls.clone(), clock.clone());
    let r = receiving_with(move |o| {
        o.project_activity = Some(l);
        o.clock = Some(c);
        tweak(o);
    })
    .await;
    let src = r.add(SourceKind::LabelStudio, None).await;
    r.engine
        .add_rule(RuleRequest {
            source_id: src.id.clone(),
            project_id: PROJECT,
            every: 5,
            pipeline: "train".into(),
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
    Gap { r, ls, clock, src }
}

impl Gap {
    /// A webhook that did arrive, for annotation `id`, the project counting `useful`.
    async fn delivered(&self, id: i64, useful: i64) {
        let (status, _) = self
            .r
            .post_ls(&self.src, &annotation_created(PROJECT, useful, id))
            .await;
        assert_eq!(status, 200);
    }

    /// One catch-up entry appears, and subscribers hear of the project's 5 missed.
    async fn one_gap_of_five_told(&self, found: &mut broadcast::Receiver<CatchUp>) {
        wait_until(|| async { self.catch_ups().await.len() == 1 }).await;
        let told = tokio::time::timeout(Duration::from_secs(10), found.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((told.project_id, told.missed), (Some(PROJECT), 5));
    }

    async fn catch_ups(&self) -> Vec<EventSummary> {
        self.r
            .events()
            .await
            .into_iter()
            .filter(|e| e.action.as_deref() == Some(CATCH_UP_ACTION))
            .collect()
    }
}

#[tokio::test]
async fn one_entry_per_gap_for_the_missed_ones_only_and_the_rule_fires_once() {
    let g = setup().await;
    g.ls.annotate(1..=2, T0 + 1000);
    g.delivered(1, 1).await;
    g.delivered(2, 2).await;
    g.r.engine.evaluate_rules().await.unwrap();
    // Loopline stops; five more are made while it is away (3..=7: the count crosses 5).
    g.ls.annotate(3..=7, T0 + HOUR);
    g.clock.advance_ms(14 * HOUR);
    let report =
        g.r.engine
            .catch_up(CatchUpTrigger::Start, Some(T0 + 2000))
            .await
            .unwrap();
    assert_eq!(report.projects.len(), 1);
    let p = &report.projects[0];
    assert_eq!((p.missed, p.project_title.as_deref()), (5, Some("Birds")));
    assert!(p.event_id.is_some() && p.error.is_none());
    let entries = g.catch_ups().await;
    assert_eq!(entries.len(), 1, "one timeline entry for the gap");
    assert!(
        entries[0]
            .summary
            .starts_with("5 annotations were made in 'Birds' while Loopline was not reachable ("),
        "{}",
        entries[0].summary
    );
    assert!(entries[0]
        .summary
        .ends_with("the retrain count is up to date."));
    assert_eq!(
        g.r.events().await.len(),
        3,
        "no events made for the ones that arrived"
    );

    g.r.engine.evaluate_rules().await.unwrap();
    let rules = g.r.engine.list_rules().await.unwrap();
    assert_eq!(rules[0].count, Some(7), "the rule sees the caught-up count");
    let runs = g.r.engine.list_runs(10).await.unwrap();
    assert_eq!(runs.len(), 1, "the multiple crossed in the gap fires once");
    assert_eq!(runs[0].count, 7);

    // A second start with nothing new adds nothing, and fires nothing.
    g.clock.advance_ms(HOUR);
    let again =
        g.r.engine
            .catch_up(CatchUpTrigger::Start, Some(T0 + 14 * HOUR))
            .await
            .unwrap();
    assert_eq!(
        (again.projects[0].missed, again.projects[0].event_id),
        (0, None)
    );
    g.r.engine.evaluate_rules().await.unwrap();
    assert_eq!(g.catch_ups().await.len(), 1);
    assert_eq!(g.r.engine.list_runs(10).await.unwrap().len(), 1);

    // The next gap: only what is new since, and the next multiple fires once.
    g.ls.annotate(8..=10, T0 + 16 * HOUR);
    g.clock.advance_ms(2 * HOUR);
    let third =
        g.r.engine
            .catch_up(CatchUpTrigger::Wake, Some(T0 + 15 * HOUR))
            .await
            .unwrap();
    assert_eq!(third.projects[0].missed, 3);
    g.r.engine.evaluate_rules().await.unwrap();
    assert_eq!(g.catch_ups().await.len(), 2);
    let runs = g.r.engine.list_runs(10).await.unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].count, 10);
}

#[tokio::test]
async fn label_studio_down_loses_nothing_and_says_so_once() {
    let g = setup().await;
    g.ls.annotate(1..=6, T0 + HOUR);
    g.ls.down.store(true, Ordering::SeqCst);
    g.clock.advance_ms(3 * HOUR);
    for _ in 0..2 {
        let r =
            g.r.engine
                .catch_up(CatchUpTrigger::Start, Some(T0))
                .await
                .unwrap();
        assert!(r.projects[0]
            .error
            .as_deref()
            .unwrap()
            .contains("Could not reach"));
    }
    let notes: Vec<_> =
        g.r.events()
            .await
            .into_iter()
            .filter(|e| e.action.as_deref() == Some("LOOPLINE_CATCH_UP_FAILED"))
            .collect();
    assert_eq!(notes.len(), 1, "one note while it stays down");
    assert!(
        notes[0].summary.contains("asks again"),
        "{}",
        notes[0].summary
    );
    assert!(g.catch_ups().await.is_empty());

    // Back: the next trigger finds all six (the cursor did not move while it was down).
    g.ls.down.store(false, Ordering::SeqCst);
    let r =
        g.r.engine
            .catch_up(CatchUpTrigger::TunnelBack, None)
            .await
            .unwrap();
    assert_eq!(r.projects[0].missed, 6);
    assert!(
        g.catch_ups().await[0]
            .summary
            .contains("never reached Loopline"),
        "no real gap given: the wording says the webhooks did not arrive"
    );
    g.r.engine.evaluate_rules().await.unwrap();
    assert_eq!(g.r.engine.list_runs(10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn skipped_annotations_and_ones_made_before_loopline_listened_do_not_count() {
    let g = setup().await;
    g.ls.annotate(1..=3, T0 - 24 * HOUR); // before the rule existed
    g.ls.annotate(4..=5, T0 + HOUR);
    g.ls.annotations
        .lock()
        .unwrap()
        .iter_mut()
        .filter(|a| a.id == 5)
        .for_each(|a| a.was_cancelled = true);
    g.clock.advance_ms(2 * HOUR);
    let r =
        g.r.engine
            .catch_up(CatchUpTrigger::Start, Some(T0))
            .await
            .unwrap();
    assert_eq!(r.projects[0].missed, 1);
}

#[tokio::test]
async fn an_aquarium_source_gets_one_line_per_real_gap() {
    let g = setup().await;
    let aq = g.r.add(SourceKind::Aquarium, Some("aquarium-secret")).await;
    let mut found = g.r.engine.subscribe_catch_ups();
    g.clock.advance_ms(HOUR);
    let short = g.clock.0.load(Ordering::SeqCst) - 60_000;
    g.r.engine
        .catch_up(CatchUpTrigger::Start, Some(short))
        .await
        .unwrap();
    let lines = |events: Vec<EventSummary>| {
        events
            .into_iter()
            .filter(|e| e.source_id == aq.id)
            .collect::<Vec<_>>()
    };
    assert!(lines(g.r.events().await).is_empty(), "a minute is no gap");
    for _ in 0..2 {
        g.r.engine
            .catch_up(CatchUpTrigger::Start, Some(T0 + 1000))
            .await
            .unwrap();
    }
    let got = lines(g.r.events().await);
    assert_eq!(got.len(), 1, "once per gap");
    assert!(
        got[0].summary.contains("may need to be exported again"),
        "{}",
        got[0].summary
    );
    let told = found.try_recv().unwrap();
    assert_eq!((told.source_id, told.project_id), (aq.id.clone(), None));
}

#[tokio::test]
async fn a_jump_of_the_wall_clock_is_a_wake_and_triggers_the_catch_up() {
    let g = setup().await;
    let mut found = g.r.engine.subscribe_catch_ups();
    g.r.engine
        .set_wake_check_interval(Duration::from_millis(20));
    g.r.engine.start_background("serve");
    // The start's catch-up finds nothing (the rule was just made).
    wait_until(|| async { finished(&g.r).await >= 1 }).await;
    assert!(g.catch_ups().await.is_empty());
    // The laptop sleeps for an hour; annotations are made meanwhile.
    g.ls.annotate(1..=5, T0 + 10 * 60_000);
    g.clock.advance_ms(HOUR);
    g.one_gap_of_five_told(&mut found).await;
    assert!(g.catch_ups().await[0].summary.contains("not reachable"));
    // The background rules see it: one run for the multiple crossed while asleep.
    wait_until(|| async { g.r.engine.list_runs(10).await.unwrap().len() == 1 }).await;
    g.r.engine.shutdown().await;
}

#[tokio::test]
async fn the_tunnel_back_after_an_outage_catches_up_on_the_outage() {
    let tunnel = Arc::new(FakeTunnel::default());
    let t = tunnel.clone();
    let g = setup_with(move |o| o.tunnel = Some(t)).await;
    let mut found = g.r.engine.subscribe_catch_ups();
    // No wake check within the test: only the tunnel can trigger the second catch-up.
    g.r.engine
        .set_wake_check_interval(Duration::from_secs(3600));
    g.r.engine.start_background("serve");
    wait_until(|| async { finished(&g.r).await >= 1 }).await;
    g.r.engine
        .set_tunnel(TunnelConfig::Url {
            public_url: "https://hooks.example.org/".into(),
        })
        .await
        .unwrap();
    let reachable =
        || async { g.r.engine.tunnel_status().await.unwrap().state == TunnelState::Reachable };
    wait_until(reachable).await;
    assert!(g.catch_ups().await.is_empty(), "nothing was missed yet");
    // The tunnel drops; annotations made during the outage never reach Loopline.
    tunnel.drop_now.notify_one();
    wait_until(|| async {
        g.r.engine.tunnel_status().await.unwrap().state == TunnelState::Unreachable
    })
    .await;
    g.clock.advance_ms(1_000);
    g.ls.annotate(1..=5, g.clock.now_ms());
    // The keeper retries after its backoff, on the injected clock, in steps shorter than
    // a wake's jump.
    for _ in 0..1000 {
        if tunnel.opens.load(Ordering::SeqCst) >= 2 && reachable().await {
            break;
        }
        g.clock.advance_ms(5_000);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    g.one_gap_of_five_told(&mut found).await;
    wait_until(|| async { g.r.engine.list_runs(10).await.unwrap().len() == 1 }).await;
    g.r.engine.shutdown().await;
}

async fn finished(r: &Running) -> u32 {
    r.engine
        .processes()
        .await
        .unwrap()
        .first()
        .map_or(0, |p| p.catch_ups)
}

/// Polls state (never a fixed sleep) for up to 10 s.
async fn wait_until<F, Fut>(mut ok: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..1000 {
        if ok().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the state was not reached in 10 s");
}
