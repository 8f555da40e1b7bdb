//! Notify automations through the recording fake target, the notice channel and the
//! injected clock: the message is rendered with the event's fields; a Slack-compatible
//! webhook gets `{"text": …}` once (503 retried, 404 failed with Slack's answer kept); the
//! desktop notice is shown once per event across retries, a duplicate delivery of the
//! webhook and a replay, goes through its Settings switch and the rate limit; the webhook's
//! URL (a secret) is in no answer, error or stored row.

mod common;

use std::sync::Arc;

use common::manual_clock::ManualClock;
use common::recording_target::{receiving_for, Target};
use common::Running;
use loopline_core::{
    AutomationAction, AutomationRequest, AutomationTrigger, CreatedSource, DeliveryStatus,
    ErrorCode, FireMode, Notice, NoticeKind, Sensitive,
};
use tokio::sync::broadcast;

const T0: i64 = 1_790_000_000_000;
const PROJECT_CREATED: &str =
    include_str!("../../loopline-payloads/tests/fixtures/label-studio/PROJECT_CREATED.json");
/// The fixture's project title.
const TITLE: &str = "Street scenes (polygons)";
const SLACK_URL: &str = "https://hooks.slack.com/services/T0FAKE/B0FAKE/notarealsecretpart";
const SECRET_PART: &str = "notarealsecretpart";
const MESSAGE: &str = "New project '{project.title}' is ready for labeling";

async fn setup(target: Arc<Target>, clock: Arc<ManualClock>) -> (Running, CreatedSource) {
    receiving_for(
        target,
        clock,
        "slack",
        &format!(
            "{SLACK_URL}
"
        ),
    )
    .await
}

fn notify(src: &CreatedSource, desktop: bool, slack: bool) -> AutomationRequest {
    AutomationRequest {
        name: "tell the annotators".into(),
        trigger: AutomationTrigger {
            source_id: src.id.clone(),
            actions: vec!["PROJECT_CREATED".into()],
            project_id: None,
            conditions: vec![],
            fire: FireMode::Each,
        },
        action: AutomationAction::Notify {
            desktop,
            slack_url_secret: slack.then(|| "slack".to_string()),
            message: MESSAGE.into(),
        },
        dry_run: false,
        start_count: None,
        even_if_shared: None,
    }
}

/// A PROJECT_CREATED body for project `n` (the fixture, renamed, so it is not a duplicate).
fn project_created(n: i64) -> String {
    let mut v: serde_json::Value = serde_json::from_str(PROJECT_CREATED).unwrap();
    v["project"]["id"] = n.into();
    v["project"]["title"] = format!("Project {n}").into();
    v.to_string()
}

async fn deliver(r: &Running) {
    r.engine.evaluate_automations().await.unwrap();
    r.engine.drain_outbox().await.unwrap();
}

fn notices(rx: &mut broadcast::Receiver<Notice>) -> Vec<Notice> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

/// Nothing the user can read back holds the URL.
async fn no_url_in_the_record(r: &Running, id: &str) {
    let detail = r.engine.automation_detail(id).await.unwrap();
    let shown = serde_json::to_string(&detail).unwrap();
    assert!(!shown.contains(SECRET_PART), "{shown}");
    assert!(!shown.contains("hooks.slack.com"), "{shown}");
}

#[tokio::test]
async fn slack_gets_the_rendered_message_once_after_a_503_and_the_desktop_one_notice() {
    let target = Arc::new(Target::default());
    *target.script.lock().unwrap() = vec![503];
    let clock = Arc::new(ManualClock::new(T0));
    let (r, src) = setup(target.clone(), clock.clone()).await;
    let mut rx = r.engine.subscribe_notices();
    let a = r
        .engine
        .add_automation(notify(&src, true, true))
        .await
        .unwrap();
    let (status, _) = r.post_ls(&src, PROJECT_CREATED).await;
    assert_eq!(status, 200);
    deliver(&r).await;

    let d = &r.engine.automation_detail(&a.id).await.unwrap().deliveries[0];
    assert_eq!(
        (d.status, d.http_status, d.attempts),
        (DeliveryStatus::Pending, Some(503), 1)
    );
    assert!(
        d.error.as_deref().unwrap().contains("secret 'slack'"),
        "{d:?}"
    );
    let shown = notices(&mut rx);
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(shown[0].kind, NoticeKind::Automation);
    let expected = format!("New project '{TITLE}' is ready for labeling");
    assert_eq!(shown[0].title, expected);

    clock.advance_ms(60_000);
    r.engine.drain_outbox().await.unwrap();
    clock.advance_ms(3_600_000);
    r.engine.drain_outbox().await.unwrap();
    let seen = target.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "the 503, then one delivery");
    for s in &seen {
        assert_eq!(s.url, SLACK_URL, "the secret's URL, trimmed");
        let body: serde_json::Value = serde_json::from_slice(&s.body).unwrap();
        assert_eq!(body, serde_json::json!({ "text": expected }));
    }
    let d = &r.engine.automation_detail(&a.id).await.unwrap().deliveries[0];
    assert_eq!(
        (d.status, d.http_status, d.attempts),
        (DeliveryStatus::Delivered, Some(200), 2)
    );
    assert!(
        notices(&mut rx).is_empty(),
        "the retry shows no second notice"
    );
    no_url_in_the_record(&r, &a.id).await;
}

#[tokio::test]
async fn a_404_fails_at_once_with_slacks_answer_kept_and_no_url() {
    let target = Arc::new(Target::default());
    *target.replies.lock().unwrap() = vec![(404, "no_service".into())];
    let clock = Arc::new(ManualClock::new(T0));
    let (r, src) = setup(target.clone(), clock.clone()).await;
    let a = r
        .engine
        .add_automation(notify(&src, false, true))
        .await
        .unwrap();
    r.post_ls(&src, PROJECT_CREATED).await;
    deliver(&r).await;
    clock.advance_ms(3_600_000);
    r.engine.drain_outbox().await.unwrap();
    assert_eq!(
        target.seen.lock().unwrap().len(),
        1,
        "a refusal is not retried"
    );
    let d = &r.engine.automation_detail(&a.id).await.unwrap().deliveries[0];
    assert_eq!(
        (d.status, d.http_status),
        (DeliveryStatus::Failed, Some(404))
    );
    assert_eq!(d.response.as_deref(), Some("no_service"));
    let error = d.error.as_deref().unwrap();
    assert!(
        error.contains("HTTP 404") && error.contains("secret 'slack'"),
        "{error}"
    );
    no_url_in_the_record(&r, &a.id).await;
}

#[tokio::test]
async fn the_desktop_notice_is_shown_once_across_a_duplicate_and_a_replay() {
    let target = Arc::new(Target::default());
    let (r, src) = setup(target.clone(), Arc::new(ManualClock::new(T0))).await;
    let mut rx = r.engine.subscribe_notices();
    let a = r
        .engine
        .add_automation(notify(&src, true, false))
        .await
        .unwrap();
    r.post_ls(&src, PROJECT_CREATED).await;
    r.post_ls(&src, PROJECT_CREATED).await; // Label Studio's body again: a duplicate
    deliver(&r).await;
    let event = r.events().await.last().unwrap().id;
    r.engine.replay_event(event).await.unwrap();
    deliver(&r).await;
    deliver(&r).await;

    let shown = notices(&mut rx);
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(
        shown[0].title,
        format!("New project '{TITLE}' is ready for labeling")
    );
    let detail = r.engine.automation_detail(&a.id).await.unwrap();
    assert_eq!(detail.automation.fired, 1);
    assert_eq!(detail.deliveries.len(), 1);
    assert_eq!(detail.deliveries[0].status, DeliveryStatus::Delivered);
    assert!(
        target.seen.lock().unwrap().is_empty(),
        "desktop only: no POST"
    );
}

#[tokio::test]
async fn a_burst_makes_one_notice_and_the_switch_turns_them_off() {
    let target = Arc::new(Target::default());
    let clock = Arc::new(ManualClock::new(T0));
    let (r, src) = setup(target, clock.clone()).await;
    let mut rx = r.engine.subscribe_notices();
    let a = r
        .engine
        .add_automation(notify(&src, true, false))
        .await
        .unwrap();
    const BURST: i64 = 500;
    for n in 0..BURST {
        r.post_ls(&src, &project_created(n)).await;
    }
    deliver(&r).await;
    let shown = notices(&mut rx);
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(
        shown[0].title,
        "New project 'Project 0' is ready for labeling"
    );
    let detail = r.engine.automation_detail(&a.id).await.unwrap();
    assert_eq!(detail.automation.fired, BURST);
    assert!(detail
        .deliveries
        .iter()
        .all(|d| d.status == DeliveryStatus::Delivered));

    // Switched off in Settings: delivered (handed to the notice path), never shown.
    let mut prefs = r.engine.companion_prefs().await.unwrap();
    prefs.notify.set(NoticeKind::Automation, false);
    r.engine.set_companion_prefs(&prefs).await.unwrap();
    clock.advance_ms(120_000);
    r.post_ls(&src, &project_created(1000)).await;
    deliver(&r).await;
    assert!(notices(&mut rx).is_empty());
    let d = &r.engine.automation_detail(&a.id).await.unwrap().deliveries[0];
    assert_eq!(d.status, DeliveryStatus::Delivered);
}

#[tokio::test]
async fn wrong_notify_automations_are_refused_when_added() {
    let target = Arc::new(Target::default());
    let (r, src) = setup(target, Arc::new(ManualClock::new(T0))).await;
    let mut req = notify(&src, true, false);
    req.action = AutomationAction::Notify {
        desktop: true,
        slack_url_secret: None,
        message: "New project '{project.name}'".into(),
    };
    let e = r.engine.add_automation(req.clone()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidArgument);
    assert!(e.message.contains("project.title"), "{}", e.message);

    req.action = AutomationAction::Notify {
        desktop: false,
        slack_url_secret: Some("nope".into()),
        message: MESSAGE.into(),
    };
    let e = r.engine.add_automation(req.clone()).await.unwrap_err();
    assert!(
        e.message.contains("loopline secret set nope"),
        "{}",
        e.message
    );

    r.engine
        .set_secret("token", Sensitive::new("xoxb-not-a-url-value".into()))
        .await
        .unwrap();
    req.action = AutomationAction::Notify {
        desktop: false,
        slack_url_secret: Some("token".into()),
        message: MESSAGE.into(),
    };
    let e = r.engine.add_automation(req).await.unwrap_err();
    assert!(e.message.contains("http(s) URL"), "{}", e.message);
    assert!(
        !e.message.contains("xoxb-not-a-url-value"),
        "never repeated"
    );
}

#[tokio::test]
async fn slack_control_characters_in_the_events_values_are_escaped() {
    let target = Arc::new(Target::default());
    let (r, src) = setup(target.clone(), Arc::new(ManualClock::new(T0))).await;
    let mut rx = r.engine.subscribe_notices();
    let mut req = notify(&src, true, true);
    req.action = AutomationAction::Notify {
        desktop: true,
        slack_url_secret: Some("slack".into()),
        message: "<!here> New project '{project.title}'".into(),
    };
    r.engine.add_automation(req).await.unwrap();
    let mut body: serde_json::Value = serde_json::from_str(PROJECT_CREATED).unwrap();
    body["project"]["title"] = "<!channel> & Birds".into();
    r.post_ls(&src, &body.to_string()).await;
    deliver(&r).await;
    let seen = target.seen.lock().unwrap().clone();
    let sent: serde_json::Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(
        sent["text"], "<!here> New project '&lt;!channel&gt; &amp; Birds'",
        "the user's own formatting is kept, the event's is not obeyed"
    );
    assert_eq!(
        notices(&mut rx)[0].title,
        "<!here> New project '<!channel> & Birds'"
    );
}
