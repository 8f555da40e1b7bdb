//! The retrain state machine through a fake pipeline service: rule passes, overlap
//! policies, held follow-ups, reconcile after a crash, deadlines and retries, in
//! milliseconds and without a network. The desktop journeys and `e2e/test_retrain_*.py`
//! cover the same against moto and a real Label Studio.

mod common;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::fake_pipelines::{no_such_pipeline, throttled, FakePipelines};
use common::manual_clock::ManualClock;
use common::{annotation_created, receiving_with, running_with, Running};
use loopline_core::{
    Counter, CreatedSource, Overlap, PipelineParam, RetrainRule, RunStatus, SourceKind,
};
use loopline_engine::RuleRequest;

const PROJECT: i64 = 7;
const T0: i64 = 1_790_000_000_000;

struct Loop {
    r: Running,
    fake: Arc<FakePipelines>,
    clock: Arc<ManualClock>,
    src: CreatedSource,
    n: AtomicI64,
}

async fn setup() -> Loop {
    let fake = Arc::new(FakePipelines::default());
    let clock = Arc::new(ManualClock::new(T0));
    let (f, c) = (fake.clone(), clock.clone());
    let r = receiving_with(move |o| {
        o.pipelines = Some(f);
        o.clock = Some(c);
    })
    .await;
    let src = r.add(SourceKind::LabelStudio, None).await;
    Loop {
        r,
        fake,
        clock,
        src,
        n: AtomicI64::new(1),
    }
}

fn request(source: &str, every: i64, overlap: Overlap) -> RuleRequest {
    RuleRequest {
        source_id: source.to_string(),
        project_id: PROJECT,
        every,
        pipeline: "train".into(),
        params: vec![PipelineParam {
            name: "Count".into(),
            value: "{count}".into(),
        }],
        counter: Counter::Useful,
        overlap,
        dry_run: false,
        start_time_limit_secs: 60,
        // No Label Studio here: the count it would report for a new project.
        start_count: Some(0),
        name: None,
        dataset_automation: None,
        even_if_shared: None,
    }
}

impl Loop {
    async fn rule(&self, every: i64, overlap: Overlap) -> RetrainRule {
        self.r
            .engine
            .add_rule(request(&self.src.id, every, overlap))
            .await
            .unwrap()
    }

    /// One annotation delivery whose project counter says `useful`, evaluated at once.
    async fn annotate(&self, useful: i64) {
        let n = self.n.fetch_add(1, Ordering::SeqCst);
        let (status, _) = self
            .r
            .post_ls(&self.src, &annotation_created(PROJECT, useful, n))
            .await;
        assert_eq!(status, 200);
        self.r.engine.evaluate_rules().await.unwrap();
    }

    async fn drain(&self) -> usize {
        self.r.engine.drain_outbox().await.unwrap()
    }

    async fn statuses(&self) -> Vec<RunStatus> {
        let mut runs = self.r.engine.list_runs(100).await.unwrap();
        runs.reverse();
        runs.into_iter().map(|r| r.status).collect()
    }
}

#[tokio::test]
async fn a_rule_fires_at_each_multiple_and_each_run_starts_once() {
    let l = setup().await;
    l.rule(2, Overlap::Parallel).await;
    l.annotate(1).await;
    assert!(l.statuses().await.is_empty(), "1 of 2: nothing yet");
    l.annotate(2).await;
    assert_eq!(l.drain().await, 1);
    l.annotate(3).await;
    l.annotate(4).await;
    assert_eq!(l.drain().await, 1);
    assert_eq!(l.drain().await, 0, "a second drain starts nothing");
    let starts = l.fake.starts();
    assert_eq!(starts.len(), 2);
    assert_eq!(starts[0].params[0].value, "2");
    assert_eq!(starts[1].params[0].value, "4");
    assert_ne!(starts[0].token, starts[1].token);
    assert_eq!(
        l.statuses().await,
        vec![RunStatus::Executing, RunStatus::Executing]
    );
}

#[tokio::test]
async fn a_bulk_jump_fires_once_and_a_redelivery_never_fires_again() {
    let l = setup().await;
    l.rule(16, Overlap::Parallel).await;
    l.annotate(50).await; // multiples 1..=3 in one jump
    l.annotate(50).await; // the same count again (a re-delivery with another body)
    l.drain().await;
    let runs = l.r.engine.list_runs(10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].bucket_from, runs[0].bucket_to), (1, 3));
    assert_eq!(l.fake.starts().len(), 1);
}

#[tokio::test]
async fn coalesce_holds_one_follow_up_and_starts_it_when_the_run_ends() {
    let l = setup().await;
    l.rule(1, Overlap::Coalesce).await;
    l.annotate(1).await;
    l.drain().await;
    l.annotate(2).await;
    l.annotate(3).await;
    assert_eq!(
        l.statuses().await,
        vec![RunStatus::Executing, RunStatus::Held]
    );
    let held = &l.r.engine.list_runs(10).await.unwrap()[0];
    assert_eq!((held.bucket_from, held.bucket_to, held.count), (2, 3, 3));
    assert!(held.active, "a held follow-up is an active run");
    assert_eq!(l.drain().await, 0, "held while the first one executes");

    let first = l.fake.starts()[0].arn.clone();
    l.fake.set_status(&first, RunStatus::Succeeded);
    l.clock.advance_ms(5_000);
    assert_eq!(l.r.engine.poll_runs().await.unwrap(), 1);
    assert_eq!(l.drain().await, 1);
    assert_eq!(l.fake.starts().len(), 2);
    assert_eq!(l.fake.starts()[1].params[0].value, "3");
    assert_eq!(
        l.statuses().await,
        vec![RunStatus::Succeeded, RunStatus::Executing]
    );
}

#[tokio::test]
async fn skip_records_the_firing_and_parallel_starts_it() {
    let l = setup().await;
    l.rule(1, Overlap::Skip).await;
    l.annotate(1).await;
    l.drain().await;
    l.annotate(2).await;
    l.drain().await;
    assert_eq!(
        l.statuses().await,
        vec![RunStatus::Executing, RunStatus::Skipped]
    );
    assert_eq!(l.fake.starts().len(), 1);

    let p = setup().await;
    p.rule(1, Overlap::Parallel).await;
    p.annotate(1).await;
    p.annotate(2).await;
    p.drain().await;
    assert_eq!(p.fake.starts().len(), 2);
}

#[tokio::test]
async fn a_start_lost_in_a_crash_is_found_not_started_again() {
    let l = setup().await;
    l.rule(1, Overlap::Parallel).await;
    l.annotate(1).await;
    let run = l.r.engine.list_runs(1).await.unwrap().remove(0);
    // Another process claimed it and called AWS, then died before recording the outcome.
    let store = l.r.engine.store();
    let item = store.due_outbox(T0, &[]).await.unwrap()[0];
    let claimed = store
        .claim_outbox(item, "dead-worker", T0, T0 + 60_000, &[])
        .await
        .unwrap()
        .expect("claimed by the other worker");
    assert_eq!(claimed.subject_id, Some(run.id));
    let arn = l.fake.add_started("train", &run.client_request_token);
    assert_eq!(
        l.drain().await,
        0,
        "the claim is still held: not ours to touch"
    );
    l.clock.advance_ms(61_000);
    assert_eq!(l.drain().await, 1, "expired: reconciled");
    assert_eq!(l.fake.starts().len(), 1, "found, not started twice");
    let run = l.r.engine.run(run.id).await.unwrap();
    assert_eq!(run.status, RunStatus::Executing);
    assert_eq!(run.execution_arn.as_deref(), Some(arn.as_str()));
}

#[tokio::test]
async fn throttling_is_retried_until_the_time_limit_then_retry_now_works() {
    let l = setup().await;
    l.rule(1, Overlap::Parallel).await;
    *l.fake.always_fail.lock().unwrap() = Some(throttled());
    l.annotate(1).await;
    l.drain().await;
    let run = l.r.engine.list_runs(1).await.unwrap().remove(0);
    assert_eq!(run.status, RunStatus::Pending);
    assert!(run.error.as_deref().unwrap().contains("Retrying in"));
    // Keep failing past the rule's 60 s limit.
    for _ in 0..20 {
        l.clock.advance_ms(10_000);
        l.drain().await;
    }
    let run = l.r.engine.run(run.id).await.unwrap();
    assert_eq!(run.status, RunStatus::StartFailed);
    assert!(run.error.as_deref().unwrap().contains("Gave up after"));
    assert!(!run.active);

    *l.fake.always_fail.lock().unwrap() = None;
    l.r.engine.retry_run(run.id).await.unwrap();
    assert_eq!(l.drain().await, 1);
    assert_eq!(
        l.r.engine.run(run.id).await.unwrap().status,
        RunStatus::Executing
    );
}

#[tokio::test]
async fn a_wrong_pipeline_fails_at_once_in_words() {
    let l = setup().await;
    l.rule(1, Overlap::Parallel).await;
    l.fake
        .start_failures
        .lock()
        .unwrap()
        .push_back(no_such_pipeline());
    l.annotate(1).await;
    l.drain().await;
    let run = l.r.engine.list_runs(1).await.unwrap().remove(0);
    assert_eq!(run.status, RunStatus::StartFailed);
    assert!(run.error.unwrap().contains("does not exist"));
}

/// Defect 1: `params_json` was read with `unwrap_or_default()`, so a run whose parameters
/// could not be read started the pipeline with none.
#[tokio::test]
async fn a_run_with_unreadable_parameters_never_starts() {
    let l = setup().await;
    l.rule(1, Overlap::Parallel).await;
    l.annotate(1).await;
    let run = l.r.engine.list_runs(1).await.unwrap().remove(0);
    corrupt(
        &l.r,
        "UPDATE runs SET params_json = '{not json' WHERE id = ?",
        run.id,
    )
    .await;
    l.drain().await;
    assert!(
        l.fake.starts().is_empty(),
        "no pipeline started with other parameters"
    );
    let run = l.r.engine.run(run.id).await.unwrap();
    assert_eq!(run.status, RunStatus::StartFailed);
    assert!(run.error.unwrap().contains("parameters cannot be read"));
}

/// Defect 1: an unknown `counter` or `overlap` became the default silently.
#[tokio::test]
async fn a_rule_with_an_unreadable_policy_is_an_error_and_never_fires() {
    let l = setup().await;
    let rule = l.rule(1, Overlap::Skip).await;
    let db = sqlite(&l.r).await;
    sqlx::query("UPDATE rules SET overlap = 'sometimes', counter = 'most' WHERE id = ?")
        .bind(&rule.id)
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let listed = l.r.engine.list_rules().await.unwrap().remove(0);
    let error = listed.error.expect("the rule says what is wrong");
    assert!(
        error.contains("'sometimes'") && error.contains("'most'"),
        "{error}"
    );
    assert_eq!(listed.progress, error);
    l.annotate(1).await;
    l.drain().await;
    assert!(l.r.engine.list_runs(10).await.unwrap().is_empty());
    assert!(l.fake.starts().is_empty());
}

/// Defect 2: two rules on one pipeline with different N reached the same bucket number
/// with the same token, and AWS folded the second start into the first.
#[tokio::test]
async fn two_rules_on_one_pipeline_start_two_executions() {
    let l = setup().await;
    l.rule(16, Overlap::Parallel).await;
    l.rule(32, Overlap::Parallel).await;
    l.annotate(32).await; // bucket 2 of the first, bucket 1 of the second
    l.annotate(64).await; // bucket 4 of the first, bucket 2 of the second
    l.drain().await;
    let tokens: std::collections::HashSet<String> =
        l.fake.starts().into_iter().map(|e| e.token).collect();
    assert_eq!(l.fake.starts().len(), 4);
    assert_eq!(tokens.len(), 4, "every run has its own token");
}

/// Defect 8: the engine publishes each run that ended (the shell used to diff run lists).
/// Through the background work, as the app runs it.
#[tokio::test]
async fn the_engine_announces_a_run_that_ended() {
    let fake = Arc::new(FakePipelines::default());
    let f = fake.clone();
    let r = running_with(move |o| o.pipelines = Some(f)).await;
    let mut endings = r.engine.subscribe_run_endings();
    let src = r.add(SourceKind::LabelStudio, None).await;
    r.engine
        .add_rule(request(&src.id, 1, Overlap::Parallel))
        .await
        .unwrap();
    r.post_ls(&src, &annotation_created(PROJECT, 1, 1)).await;
    let arn = wait_for(|| fake.starts().first().map(|e| e.arn.clone())).await;
    fake.set_status(&arn, RunStatus::Failed);
    let ended = tokio::time::timeout(Duration::from_secs(30), endings.recv())
        .await
        .expect("an ending is announced")
        .unwrap();
    assert_eq!(ended.status, RunStatus::Failed);
    assert_eq!(ended.failure_reason.as_deref(), Some("AlgorithmError"));
    assert!(!ended.active);
    // Quiescent once everything settled.
    let info = r.engine.info().await.unwrap();
    assert!(info.activity.quiescent, "{:?}", info.activity);
    r.engine.shutdown().await;
}

async fn wait_for<T>(mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..300 {
        if let Some(v) = f() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the state was never reached");
}

async fn sqlite(r: &Running) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(&format!("sqlite://{}", r.engine.store().path().display()))
        .await
        .unwrap()
}

async fn corrupt(r: &Running, sql: &str, id: i64) {
    let db = sqlite(r).await;
    sqlx::query(sql).bind(id).execute(&db).await.unwrap();
    db.close().await;
}

/// The README's promise: replays never fire. An edited replay is stored as a new event, but
/// its counters are whatever the user typed, so it neither fires a rule nor moves its count.
#[tokio::test]
async fn an_edited_replay_neither_fires_a_rule_nor_moves_its_count() {
    let l = setup().await;
    l.rule(2, Overlap::Parallel).await;
    l.annotate(1).await;
    let first = l.r.engine.list_rules().await.unwrap().remove(0);
    assert_eq!(first.count, Some(1));
    let original =
        l.r.engine
            .list_events(&Default::default())
            .await
            .unwrap()
            .events
            .remove(0)
            .id;
    let edited = annotation_created(PROJECT, 2, 99);
    let outcome = l.r.engine.replay_edited(original, &edited).await.unwrap();
    assert_ne!(outcome.event_id, original, "stored as a new event");
    l.r.engine.evaluate_rules().await.unwrap();
    assert!(
        l.statuses().await.is_empty(),
        "the edited replay fired nothing"
    );
    let after = l.r.engine.list_rules().await.unwrap().remove(0);
    assert_eq!(after.count, Some(1), "nor counted");
    assert_eq!(after.fired_bucket, first.fired_bucket);

    // The next real delivery still fires as it would have.
    l.annotate(2).await;
    assert_eq!(l.drain().await, 1);
}

/// Issue 22.7: with Label Studio not connected (or unreachable), a new rule's start is
/// unknown. It is refused in words that say how to go on, not started from 0 (which would
/// fire on the project's whole history at the first webhook); `start_count` goes on.
#[tokio::test]
async fn a_rule_whose_start_cannot_be_read_is_refused_until_the_count_is_given() {
    let l = setup().await;
    let mut req = request(&l.src.id, 16, Overlap::Parallel);
    req.start_count = None;
    let refused = l.r.engine.add_rule(req).await.unwrap_err();
    assert_eq!(refused.code, loopline_core::ErrorCode::StartCountUnknown);
    assert!(
        refused.message.contains("--start-count")
            && refused.message.contains("connect label-studio"),
        "{}",
        refused.message
    );
    assert!(l.r.engine.list_rules().await.unwrap().is_empty());

    let mut req = request(&l.src.id, 16, Overlap::Parallel);
    req.start_count = Some(40);
    let rule = l.r.engine.add_rule(req).await.unwrap();
    assert_eq!((rule.count, rule.fired_bucket), (Some(40), 2));
    l.annotate(41).await;
    assert!(
        l.statuses().await.is_empty(),
        "41 of 48: the history did not fire"
    );
    l.annotate(48).await;
    assert_eq!(l.drain().await, 1);
}

/// Issue 22.7: a rule added after the last one was removed starts at the newest event. The
/// events received while there was no rule are not replayed into it.
#[tokio::test]
async fn a_rule_added_after_the_last_was_removed_does_not_replay_the_gap() {
    let l = setup().await;
    let first = l.rule(2, Overlap::Parallel).await;
    l.annotate(1).await;
    l.r.engine.remove_rule(&first.id).await.unwrap();
    for useful in [5, 6, 7] {
        l.annotate(useful).await;
    }
    // The user says the project is new: had the gap been replayed, count 5 would fire.
    let second = l.rule(2, Overlap::Parallel).await;
    l.r.engine.evaluate_rules().await.unwrap();
    assert!(l.statuses().await.is_empty(), "the gap fired nothing");
    let now = l.r.engine.list_rules().await.unwrap();
    assert_eq!(
        (now[0].id.as_str(), now[0].count),
        (second.id.as_str(), Some(0))
    );
    l.annotate(8).await;
    assert_eq!(l.drain().await, 1, "the next delivery counts as usual");
}
