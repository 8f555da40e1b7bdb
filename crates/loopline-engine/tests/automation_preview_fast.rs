//! The builder's preview over a store seeded through the receiver: the last 50 events the
//! trigger names, conditions and each / every N applied as the evaluator would, the counter
//! replayed from where it stood before the window, and nothing written.

mod common;

use common::{annotation_created, receiving_with, Running};
use loopline_core::{
    AutomationAction, AutomationRequest, AutomationTrigger, Condition, Counter, CreatedSource,
    ErrorCode, FireMode, SourceKind,
};

fn request(src: &CreatedSource, fire: FireMode, conditions: Vec<Condition>) -> AutomationRequest {
    AutomationRequest {
        // The form is half filled in: no name, no URL yet. The preview still answers.
        name: String::new(),
        trigger: AutomationTrigger {
            source_id: src.id.clone(),
            actions: vec!["annotation_created".into()],
            project_id: Some(7),
            conditions,
            fire,
        },
        action: AutomationAction::Forward {
            url: String::new(),
            secret_name: None,
            body_template: None,
        },
        dry_run: false,
        start_count: None,
        even_if_shared: None,
    }
}

/// Posts ANNOTATION_CREATED for project 7 with useful counts `from..=to`; every third one
/// is a skipped annotation. Returns the stored ids, oldest first.
async fn seed(r: &Running, src: &CreatedSource, from: i64, to: i64) -> Vec<i64> {
    let mut ids = vec![];
    for n in from..=to {
        let mut body: serde_json::Value =
            serde_json::from_str(&annotation_created(7, n, n)).unwrap();
        body["annotation"]["was_cancelled"] = (n % 3 == 0).into();
        let (status, answer) = r.post_ls(src, &body.to_string()).await;
        assert_eq!(status, 200);
        ids.push(answer["event_id"].as_i64().unwrap());
    }
    ids
}

async fn ready() -> (Running, CreatedSource) {
    let r = receiving_with(|_| {}).await;
    let src = r.add(SourceKind::LabelStudio, None).await;
    (r, src)
}

#[tokio::test]
async fn each_counts_the_last_50_matching_events_newest_first_with_conditions() {
    let (r, src) = ready().await;
    let ids = seed(&r, &src, 1, 60).await;
    // Another project and another action: not matching, not considered.
    let (status, _) = r.post_ls(&src, &annotation_created(8, 1, 1000)).await;
    assert_eq!(status, 200);

    let p = r
        .engine
        .preview_automation(&request(&src, FireMode::Each, vec![]))
        .await
        .unwrap();
    assert_eq!(p.considered, 50);
    let newest_50: Vec<i64> = ids[10..].iter().rev().copied().collect();
    assert_eq!(p.would_fire, newest_50);
    assert_eq!(
        p.sentence,
        "Would have fired 50 times in the last 50 matching events."
    );

    let not_skipped = Condition::parse("annotation.was_cancelled = false").unwrap();
    let p = r
        .engine
        .preview_automation(&request(&src, FireMode::Each, vec![not_skipped]))
        .await
        .unwrap();
    // Counts 11..=60 hold 17 multiples of 3 (12, 15, ..., 60).
    assert_eq!((p.considered, p.would_fire.len()), (50, 33));
    assert!(p.would_fire.windows(2).all(|w| w[0] > w[1]), "newest first");
    assert_eq!(
        r.engine.list_automations().await.unwrap().len(),
        0,
        "nothing stored"
    );
}

#[tokio::test]
async fn every_n_replays_the_counter_from_before_the_window() {
    let (r, src) = ready().await;
    let ids = seed(&r, &src, 1, 40).await;
    let every = |n| FireMode::Every {
        n,
        counter: Counter::Useful,
    };
    // 40 events, the oldest (count 1) is the starting point: 16 and 32 are crossed.
    let p = r
        .engine
        .preview_automation(&request(&src, every(16), vec![]))
        .await
        .unwrap();
    assert_eq!(p.would_fire, vec![ids[31], ids[15]]);
    assert_eq!(
        p.sentence,
        "Would have fired 2 times in the last 40 matching events."
    );

    // A bulk jump over a multiple still fires once, on the event that jumped.
    let ids2 = seed(&r, &src, 50, 50).await;
    let p = r
        .engine
        .preview_automation(&request(&src, every(16), vec![]))
        .await
        .unwrap();
    assert_eq!(p.would_fire, vec![ids2[0], ids[31], ids[15]]);

    // 70 events now: the judged window starts at count 12 and the 51st newest (count 11)
    // says where the counter stood, so 16, 32, 48 (by the jump to 50) and 64 are crossed.
    let more = seed(&r, &src, 51, 70).await;
    let p = r
        .engine
        .preview_automation(&request(&src, every(16), vec![]))
        .await
        .unwrap();
    assert_eq!(p.considered, 50);
    assert_eq!(p.would_fire.len(), 4, "{:?}", p.would_fire);
    assert_eq!(p.would_fire[0], more[13], "count 64");

    // Conditions apply before the counter, as in the evaluator: every 12 with skipped ones
    // left out, a crossing on a skipped annotation (24, 36, 60) fires on the next one kept.
    let not_skipped = Condition::parse("annotation.was_cancelled = false").unwrap();
    let p = r
        .engine
        .preview_automation(&request(&src, every(12), vec![not_skipped]))
        .await
        .unwrap();
    // Counts 61, 50, 37, 25 and 13 (12 itself is skipped).
    assert_eq!(
        p.would_fire,
        vec![more[10], ids2[0], ids[36], ids[24], ids[12]]
    );
}

#[tokio::test]
async fn an_unknown_field_is_refused_with_the_known_ones_and_no_events_say_so() {
    let (r, src) = ready().await;
    let mut req = request(&src, FireMode::Each, vec![]);
    req.trigger.conditions = vec![Condition {
        field: "annotation.colour".into(),
        op: loopline_core::ConditionOp::Eq,
        value: loopline_core::ConditionValue::Text("red".into()),
    }];
    let e = r.engine.preview_automation(&req).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidArgument);
    assert!(
        e.message.contains("annotation.was_cancelled"),
        "{}",
        e.message
    );

    req.trigger.conditions.clear();
    let p = r.engine.preview_automation(&req).await.unwrap();
    assert_eq!((p.considered, p.would_fire.len()), (0, 0));
    assert!(
        p.sentence.starts_with("No stored event matches"),
        "{}",
        p.sentence
    );

    req.trigger.fire = FireMode::Every {
        n: 16,
        counter: Counter::Useful,
    };
    req.trigger.project_id = None;
    let e = r.engine.preview_automation(&req).await.unwrap_err();
    assert!(e.message.contains("--project"), "{}", e.message);

    req.trigger.source_id = "src_nope".into();
    req.trigger.fire = FireMode::Each;
    let e = r.engine.preview_automation(&req).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::SourceNotFound);
}
