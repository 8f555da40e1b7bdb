//! Forward automations through a recording fake target and the injected clock: each
//! matching event is POSTed once, signed the Standard Webhooks way over the exact bytes
//! received; 503 is retried with the same `webhook-id`; another 4xx fails at once with the
//! target's answer kept; conditions, replays and duplicates fire nothing.

mod common;

use std::sync::Arc;

use base64::Engine as _;
use common::manual_clock::ManualClock;
use common::recording_target::{forward, receiving_for, Seen, Target};
use common::{annotation_created, Running};
use hmac::{Hmac, Mac};
use loopline_core::{AutomationAction, Condition, CreatedSource, DeliveryStatus, Sensitive};

const T0: i64 = 1_790_000_000_000;
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The Standard Webhooks check a receiver makes, written from the spec, not from Loopline's code.
fn verifies(seen: &Seen) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(&SECRET["whsec_".len()..])
        .unwrap();
    let signed = format!(
        "{}.{}.",
        Target::header(seen, "webhook-id"),
        Target::header(seen, "webhook-timestamp")
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(signed.as_bytes());
    mac.update(&seen.body);
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    Target::header(seen, "webhook-signature")
        .split(' ')
        .any(|s| s == format!("v1,{expected}"))
}

async fn setup(target: Arc<Target>, clock: Arc<ManualClock>) -> (Running, CreatedSource) {
    receiving_for(target, clock, "fwd", SECRET).await
}

async fn annotate(r: &Running, src: &CreatedSource, n: i64) {
    let (status, _) = r.post_ls(src, &annotation_created(7, n, n)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn each_event_is_forwarded_once_signed_over_the_bytes_received() {
    let target = Arc::new(Target::default());
    let clock = Arc::new(ManualClock::new(T0));
    let (r, src) = setup(target.clone(), clock).await;
    let a = r
        .engine
        .add_automation(forward(&src, vec![]))
        .await
        .unwrap();
    annotate(&r, &src, 1).await;
    annotate(&r, &src, 2).await;
    assert_eq!(r.engine.evaluate_automations().await.unwrap(), 2);
    assert_eq!(
        r.engine.evaluate_automations().await.unwrap(),
        0,
        "judged once"
    );
    r.engine.drain_outbox().await.unwrap();
    r.engine.drain_outbox().await.unwrap();

    let seen = target.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    for s in &seen {
        assert_eq!(s.url, "http://127.0.0.1:9/annotations");
        assert!(verifies(s), "the signature verifies: {:?}", s.headers);
        assert_eq!(
            Target::header(s, "webhook-timestamp"),
            (T0 / 1000).to_string()
        );
    }
    assert_eq!(
        seen[0].body,
        annotation_created(7, 1, 1).into_bytes(),
        "the bytes as received"
    );
    let detail = r.engine.automation_detail(&a.id).await.unwrap();
    assert_eq!(detail.automation.fired, 2);
    assert!(detail
        .deliveries
        .iter()
        .all(|d| d.status == DeliveryStatus::Delivered && d.http_status == Some(200)));
    assert_eq!(
        detail.deliveries[0].response.as_deref(),
        Some("{\"answered\": 200}")
    );
}

#[tokio::test]
async fn a_503_is_retried_with_the_same_id_and_a_400_fails_with_the_answer_kept() {
    let target = Arc::new(Target::default());
    *target.script.lock().unwrap() = vec![503, 200, 400];
    let clock = Arc::new(ManualClock::new(T0));
    let (r, src) = setup(target.clone(), clock.clone()).await;
    let a = r
        .engine
        .add_automation(forward(&src, vec![]))
        .await
        .unwrap();
    annotate(&r, &src, 1).await;
    r.engine.evaluate_automations().await.unwrap();
    r.engine.drain_outbox().await.unwrap();
    let d = &r.engine.automation_detail(&a.id).await.unwrap().deliveries[0];
    assert_eq!(
        (d.status, d.http_status, d.attempts),
        (DeliveryStatus::Pending, Some(503), 1)
    );
    clock.advance_ms(60_000);
    r.engine.drain_outbox().await.unwrap();
    let seen = target.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        Target::header(&seen[0], "webhook-id"),
        Target::header(&seen[1], "webhook-id")
    );
    assert!(verifies(&seen[1]));
    let d = &r.engine.automation_detail(&a.id).await.unwrap().deliveries[0];
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Delivered, 2));

    annotate(&r, &src, 2).await;
    r.engine.evaluate_automations().await.unwrap();
    r.engine.drain_outbox().await.unwrap();
    let d = &r.engine.automation_detail(&a.id).await.unwrap().deliveries[0];
    assert_eq!(
        (d.status, d.http_status),
        (DeliveryStatus::Failed, Some(400))
    );
    assert_eq!(d.response.as_deref(), Some("{\"answered\": 400}"));
    assert!(d.error.as_deref().unwrap().contains("HTTP 400"), "{d:?}");
    clock.advance_ms(3_600_000);
    r.engine.drain_outbox().await.unwrap();
    assert_eq!(
        target.seen.lock().unwrap().len(),
        3,
        "a refusal is not retried"
    );
}

#[tokio::test]
async fn a_condition_that_does_not_hold_and_a_duplicate_fire_nothing() {
    let target = Arc::new(Target::default());
    let (r, src) = setup(target.clone(), Arc::new(ManualClock::new(T0))).await;
    let not_cancelled = Condition::parse("annotation.was_cancelled = false").unwrap();
    let a = r
        .engine
        .add_automation(forward(&src, vec![not_cancelled]))
        .await
        .unwrap();
    let mut cancelled: serde_json::Value =
        serde_json::from_str(&annotation_created(7, 1, 1)).unwrap();
    cancelled["annotation"]["was_cancelled"] = true.into();
    let (status, _) = r.post_ls(&src, &cancelled.to_string()).await;
    assert_eq!(status, 200);
    annotate(&r, &src, 2).await;
    annotate(&r, &src, 2).await; // the same body again: stored as a duplicate
    assert_eq!(r.engine.evaluate_automations().await.unwrap(), 1);
    assert_eq!(
        r.engine
            .automation_detail(&a.id)
            .await
            .unwrap()
            .automation
            .fired,
        1
    );
}

#[tokio::test]
async fn a_missing_or_malformed_secret_is_refused_when_the_automation_is_added() {
    let target = Arc::new(Target::default());
    let (r, src) = setup(target, Arc::new(ManualClock::new(T0))).await;
    let mut req = forward(&src, vec![]);
    req.action = AutomationAction::Forward {
        url: "http://127.0.0.1:9/x".into(),
        secret_name: Some("nope".into()),
        body_template: None,
    };
    let e = r.engine.add_automation(req.clone()).await.unwrap_err();
    assert!(
        e.message.contains("loopline secret set nope"),
        "{}",
        e.message
    );
    r.engine
        .set_secret("plain", Sensitive::new("not-a-whsec-secret".into()))
        .await
        .unwrap();
    req.action = AutomationAction::Forward {
        url: "http://127.0.0.1:9/x".into(),
        secret_name: Some("plain".into()),
        body_template: None,
    };
    let e = r.engine.add_automation(req).await.unwrap_err();
    assert!(e.message.contains("whsec_"), "{}", e.message);
    assert!(
        !e.message.contains("not-a-whsec-secret"),
        "the secret is never repeated"
    );
}

#[tokio::test]
async fn a_body_template_is_rendered_and_signed_over_the_bytes_sent() {
    let target = Arc::new(Target::default());
    let (r, src) = setup(target.clone(), Arc::new(ManualClock::new(T0))).await;
    let mut req = forward(&src, vec![]);
    req.action = AutomationAction::Forward {
        url: "http://127.0.0.1:9/annotations".into(),
        secret_name: Some("fwd".into()),
        body_template: Some(
            r#"{"annotation": "{{body.annotation.id}}", "project": "{{body.project.title}}",
                "event": "{{event.webhook_id}}", "labels": {"$each": "body.annotation.result", "$item": "{{element.type}}"}}"#
                .into(),
        ),
    };
    r.engine.add_automation(req.clone()).await.unwrap();
    annotate(&r, &src, 1).await;
    r.engine.evaluate_automations().await.unwrap();
    r.engine.drain_outbox().await.unwrap();

    let seen = target.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let received: serde_json::Value = serde_json::from_str(&annotation_created(7, 1, 1)).unwrap();
    let sent: serde_json::Value = serde_json::from_slice(&seen[0].body).unwrap();
    let types: Vec<serde_json::Value> = received["annotation"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].clone())
        .collect();
    assert_eq!(
        sent,
        serde_json::json!({
            "annotation": received["annotation"]["id"],
            "project": received["project"]["title"],
            "event": Target::header(&seen[0], "webhook-id"),
            "labels": types,
        })
    );
    assert!(verifies(&seen[0]), "signed over the rendered bytes");

    // A template naming what cannot exist is refused when added, in words.
    req.action = AutomationAction::Forward {
        url: "http://127.0.0.1:9/x".into(),
        secret_name: None,
        body_template: Some(r#"{"t": "{{project.title}}"}"#.into()),
    };
    let e = r.engine.add_automation(req).await.unwrap_err();
    assert_eq!(e.code, loopline_core::ErrorCode::InvalidArgument);
    assert!(e.message.contains("body.project.title"), "{}", e.message);
}
