//! Start-a-pipeline automations through the fake pipeline service: one added with
//! `automation add --do start-pipeline` is a retrain rule (same counting, same runs, same
//! idempotency tokens), a rule added with `rule add retrain` is listed, shown, paused and
//! removed as an automation, and a paused one never fires for the multiples it passes.

mod common;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use common::fake_pipelines::FakePipelines;
use common::manual_clock::ManualClock;
use common::{annotation_created, receiving_with, Running};
use loopline_core::{
    AutomationAction, AutomationRequest, AutomationTrigger, Condition, Counter, CreatedSource,
    DeliveryStatus, ErrorCode, FireMode, Overlap, PipelineParam, SourceKind,
};
use loopline_engine::RuleRequest;

const PROJECT: i64 = 7;
const T0: i64 = 1_790_000_000_000;

struct Loop {
    r: Running,
    fake: Arc<FakePipelines>,
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
        src,
        n: AtomicI64::new(1),
    }
}

fn start_pipeline(src: &CreatedSource, every: i64) -> AutomationRequest {
    AutomationRequest {
        name: "Retrain birds".into(),
        trigger: AutomationTrigger {
            source_id: src.id.clone(),
            actions: vec!["ANNOTATION_CREATED".into()],
            project_id: Some(PROJECT),
            conditions: vec![],
            fire: FireMode::Every {
                n: every,
                counter: Counter::Useful,
            },
        },
        action: AutomationAction::StartPipeline {
            pipeline: "retrain-birds".into(),
            params: vec![PipelineParam {
                name: "AnnotationCount".into(),
                value: "{count}".into(),
            }],
            overlap: Overlap::Parallel,
            start_time_limit_secs: 900,
            dataset: None,
        },
        dry_run: false,
        start_count: Some(0),
        even_if_shared: None,
    }
}

impl Loop {
    async fn annotate(&self, useful: i64) {
        let n = self.n.fetch_add(1, Ordering::SeqCst);
        let (status, _) = self
            .r
            .post_ls(&self.src, &annotation_created(PROJECT, useful, n))
            .await;
        assert_eq!(status, 200);
        self.r.engine.evaluate_rules().await.unwrap();
        self.r.engine.evaluate_automations().await.unwrap();
        self.r.engine.drain_outbox().await.unwrap();
    }
}

#[tokio::test]
async fn a_start_pipeline_automation_is_a_rule_and_its_runs_are_its_deliveries() {
    let l = setup().await;
    let a =
        l.r.engine
            .add_automation(start_pipeline(&l.src, 2))
            .await
            .unwrap();
    assert!(a.id.starts_with("rule_"), "{}", a.id);
    let rules = l.r.engine.list_rules().await.unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].name.as_deref(), Some("Retrain birds"));
    assert_eq!(
        (rules[0].every, rules[0].pipeline.as_str()),
        (2, "retrain-birds")
    );

    for useful in 1..=5 {
        l.annotate(useful).await;
    }
    let starts = l.fake.starts();
    assert_eq!(starts.len(), 2, "at 2 and at 4, once each");
    assert_eq!(starts[0].params[0].value, "2");
    assert_eq!(starts[1].params[0].value, "4");

    let listed = l.r.engine.list_automations().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].fired, 2);
    assert_eq!(listed[0].count, Some(5));
    let detail = l.r.engine.automation_detail(&a.id).await.unwrap();
    assert_eq!(detail.deliveries.len(), 2);
    assert!(detail
        .deliveries
        .iter()
        .all(|d| d.status == DeliveryStatus::Delivered));
    assert!(detail.deliveries[0]
        .response
        .as_deref()
        .unwrap()
        .contains("arn:aws:sagemaker"));

    l.r.engine.remove_automation(&a.id).await.unwrap();
    assert!(l.r.engine.list_rules().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_paused_one_fires_nothing_for_what_it_passes_and_resumes_from_the_next_multiple() {
    let l = setup().await;
    let a =
        l.r.engine
            .add_automation(start_pipeline(&l.src, 2))
            .await
            .unwrap();
    let paused = l.r.engine.pause_automation(&a.id, true).await.unwrap();
    assert!(paused.paused);
    l.annotate(1).await;
    l.annotate(2).await;
    l.annotate(3).await;
    assert!(l.fake.starts().is_empty(), "paused");
    assert!(
        !l.r.engine
            .pause_automation(&a.id, false)
            .await
            .unwrap()
            .paused
    );
    l.annotate(3).await; // a re-delivery at 3: the multiple passed while paused stays passed
    assert!(l.fake.starts().is_empty());
    l.annotate(4).await;
    assert_eq!(l.fake.starts().len(), 1);
    assert_eq!(l.fake.starts()[0].params[0].value, "4");
}

#[tokio::test]
async fn a_rule_added_as_a_rule_is_an_automation_too() {
    let l = setup().await;
    let rule =
        l.r.engine
            .add_rule(RuleRequest {
                source_id: l.src.id.clone(),
                project_id: PROJECT,
                every: 16,
                pipeline: "retrain-birds".into(),
                params: vec![],
                counter: Counter::Useful,
                overlap: Overlap::Coalesce,
                dry_run: true,
                start_time_limit_secs: 900,
                start_count: Some(0),
                name: None,
                dataset_automation: None,
                even_if_shared: None,
            })
            .await
            .unwrap();
    let listed = l.r.engine.list_automations().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, rule.id);
    assert_eq!(listed[0].name, "Retrain retrain-birds every 16");
    assert!(listed[0].dry_run);
    assert!(matches!(
        listed[0].action,
        AutomationAction::StartPipeline { ref pipeline, .. } if pipeline == "retrain-birds"
    ));
    assert_eq!(
        listed[0].trigger.fire,
        FireMode::Every {
            n: 16,
            counter: Counter::Useful
        }
    );
}

#[tokio::test]
async fn what_a_counter_cannot_do_is_refused_in_words() {
    let l = setup().await;
    let mut each = start_pipeline(&l.src, 2);
    each.trigger.fire = FireMode::Each;
    let e = l.r.engine.add_automation(each).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidArgument);
    assert!(e.message.contains("--every N"), "{}", e.message);
    let mut when = start_pipeline(&l.src, 2);
    when.trigger.conditions = vec![Condition::parse("annotation.was_cancelled = false").unwrap()];
    let e = l.r.engine.add_automation(when).await.unwrap_err();
    assert!(e.message.contains("remove --when"), "{}", e.message);
    let mut no_project = start_pipeline(&l.src, 2);
    no_project.trigger.project_id = None;
    let e = l.r.engine.add_automation(no_project).await.unwrap_err();
    assert!(e.message.contains("--project P"), "{}", e.message);
    assert!(l.r.engine.list_rules().await.unwrap().is_empty());
}
