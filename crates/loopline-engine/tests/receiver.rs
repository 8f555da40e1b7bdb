//! The receiver over a real socket: every answer class, durability under concurrency,
//! duplicates, rotation, and sources changed from another process.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::manual_clock::ManualClock;
use common::*;
use loopline_core::{EventQuery, EventStatus, SourceKind};
use loopline_engine::ReceiverLimits;

#[tokio::test]
async fn every_rejection_class_has_its_status_and_loses_nothing() {
    let (r, src) = with_a_1_mib_limit().await;
    let token = src.token.clone().unwrap();
    let json = ("content-type", "application/json");

    let (status, body) = r.post_ls(&src, LS_FIXTURE).await;
    assert_eq!(status, 200, "{body}");
    let first_id = body["event_id"].as_i64().unwrap();

    let (status, body) = r
        .post(
            &src.id,
            &[("x-loopline-token", "wrong"), json],
            LS_FIXTURE.to_string(),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
    let (status, _) = r.post(&src.id, &[json], LS_FIXTURE.to_string()).await;
    assert_eq!(status, 401, "a missing token is refused too");

    let (status, body) = r.post("src_doesnotexist", &[json], "{}".to_string()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("source_not_found"))
    );

    let big = format!("{{\"x\": \"{}\"}}", "a".repeat(2 * 1024 * 1024));
    let (status, body) = r
        .post(&src.id, &[("x-loopline-token", &token), json], big.clone())
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    // Without a Content-Length (chunked), the limit still holds while reading.
    let stream = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(big.into_bytes())]);
    let (status, _) = r
        .post(
            &src.id,
            &[("x-loopline-token", &token), json],
            reqwest::Body::wrap_stream(stream),
        )
        .await;
    assert_eq!(status, 413);

    let (status, body) = r
        .post(
            &src.id,
            &[("x-loopline-token", &token), ("content-type", "text/plain")],
            "{}".to_string(),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );

    // A compressed body is refused before anything is stored, naming what is accepted;
    // `identity` is no coding at all.
    let (status, body, answered) = r
        .post_full(
            &src.id,
            &[
                ("x-loopline-token", &token),
                json,
                ("content-encoding", "gzip"),
            ],
            "\u{1f}\u{8b}not really gzip".to_string(),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    assert!(body["message"].as_str().unwrap().contains("'gzip'"));
    assert_eq!(
        answered
            .get("accept-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("identity")
    );
    let (status, _) = r
        .post(
            &src.id,
            &[
                ("x-loopline-token", &token),
                json,
                ("content-encoding", "identity"),
            ],
            unique_body(6),
        )
        .await;
    assert_eq!(status, 200, "identity is no coding");

    let (status, body) = r
        .post(
            &src.id,
            &[("x-loopline-token", &token), json],
            "{\"action\": \"ANNO".to_string(),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("malformed_json"))
    );
    let malformed_id = body["event_id"]
        .as_i64()
        .expect("the malformed body is kept");

    // After all that, a good delivery still works.
    let (status, body) = r.post_ls(&src, &unique_body(7)).await;
    assert_eq!(status, 200);
    let last_id = body["event_id"].as_i64().unwrap();

    let events = r.events().await;
    let statuses: Vec<(i64, EventStatus)> = events.iter().map(|e| (e.id, e.status)).collect();
    assert_eq!(
        events.len(),
        6,
        "3 accepted, 2 rejected attempts, 1 malformed: {statuses:?}"
    );
    assert!(statuses.contains(&(first_id, EventStatus::Processed)));
    assert!(statuses.contains(&(last_id, EventStatus::Processed)));
    assert!(statuses.contains(&(malformed_id, EventStatus::Malformed)));
    assert_eq!(
        events
            .iter()
            .filter(|e| e.status == EventStatus::Rejected)
            .count(),
        2
    );
    let rejected = events
        .iter()
        .find(|e| e.status == EventStatus::Rejected)
        .unwrap();
    assert_eq!(
        rejected.body_bytes, 0,
        "a rejected attempt is recorded without its body"
    );

    let detail = r.engine.show_event(malformed_id).await.unwrap();
    assert_eq!(detail.body_text, "{\"action\": \"ANNO");
    let shown = r.engine.show_event(first_id).await.unwrap();
    let token_header = shown
        .headers
        .iter()
        .find(|h| h.name == "x-loopline-token")
        .unwrap();
    assert_eq!(
        token_header.value, "••••••",
        "the token is masked in stored headers"
    );
    assert!(!shown
        .body_text
        .contains("F48Hc5bF4xtepDljD4iOtuCUqJCYMJANQxKwM9Qz"));
    assert_eq!(
        shown.body_json.as_ref().unwrap()["project"]["token"],
        "••••••"
    );
    assert!(shown.redacted_paths.contains(&"project.token".to_string()));
    assert!(
        !shown.curl.contains(&token),
        "copy as curl never carries the secret"
    );
    r.engine.shutdown().await;
}

#[tokio::test]
async fn a_body_after_a_byte_order_mark_is_parsed_and_shown_redacted() {
    let r = running().await;
    let src = r.add(SourceKind::LabelStudio, None).await;
    let (status, body) = r.post_ls(&src, &format!("\u{feff}{LS_FIXTURE}")).await;
    assert_eq!(status, 200, "{body}");
    let id = body["event_id"].as_i64().unwrap();
    let shown = r.engine.show_event(id).await.unwrap();
    assert_eq!(shown.event.status, EventStatus::Processed);
    assert_eq!(shown.event.action.as_deref(), Some("ANNOTATION_CREATED"));
    assert_eq!(
        shown.body_json.as_ref().unwrap()["project"]["token"],
        "••••••"
    );
    assert!(!shown
        .body_text
        .contains("F48Hc5bF4xtepDljD4iOtuCUqJCYMJANQxKwM9Qz"));
    r.engine.shutdown().await;
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let r = running().await;
    r.engine.set_limits(ReceiverLimits {
        rate_per_source: 1.0,
        burst_per_source: 2.0,
        ..ReceiverLimits::default()
    });
    let src = r.add(SourceKind::LabelStudio, None).await;
    let mut codes = Vec::new();
    for i in 0..5 {
        codes.push(r.post_ls(&src, &unique_body(i)).await.0);
    }
    assert_eq!(&codes[..2], &[200, 200]);
    assert!(codes[2..].contains(&429), "{codes:?}");
    let accepted = codes.iter().filter(|c| **c == 200).count();
    assert_eq!(
        r.events().await.len(),
        accepted,
        "only acknowledged deliveries are stored"
    );
    r.engine.shutdown().await;
}

#[tokio::test]
async fn a_flood_of_wrong_secrets_is_counted_not_stored() {
    // The receiver's clock is injected: the next second comes without waiting for it.
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let r = running_with(|o| o.clock = Some(clock.clone())).await;
    let src = r.add(SourceKind::LabelStudio, None).await;
    for _ in 0..300 {
        let (status, _) = r
            .post(
                &src.id,
                &[
                    ("x-loopline-token", "guess"),
                    ("content-type", "application/json"),
                ],
                "{}".to_string(),
            )
            .await;
        assert_eq!(status, 401);
    }
    let events = r.events().await;
    assert!(
        events.len() <= 25,
        "at most a burst is recorded, got {}",
        events.len()
    );
    assert!(events.iter().all(|e| e.status == EventStatus::Rejected));
    clock.advance_ms(1_100);
    r.post(&src.id, &[("x-loopline-token", "guess")], "{}".to_string())
        .await;
    let newest = &r.events().await[0];
    assert!(
        newest
            .summary
            .contains("more rejected attempts not recorded"),
        "{}",
        newest.summary
    );
    r.engine.shutdown().await;
}

/// Label Studio never retries: a sender without the token must not be able to use up the
/// source's allowance and turn the real deliveries into 429s.
#[tokio::test]
async fn requests_without_the_token_do_not_use_up_the_rate_allowance() {
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let r = running_with(|o| o.clock = Some(clock.clone())).await;
    r.engine.set_limits(ReceiverLimits {
        rate_per_source: 1.0,
        burst_per_source: 2.0,
        ..ReceiverLimits::default()
    });
    let src = r.add(SourceKind::LabelStudio, None).await;
    for _ in 0..20 {
        let (status, body) = r
            .post(
                &src.id,
                &[
                    ("x-loopline-token", "guess"),
                    ("content-type", "application/json"),
                ],
                "{}".to_string(),
            )
            .await;
        assert_eq!(status, 401, "refused for the token, not the rate: {body}");
    }
    let mut codes = Vec::new();
    for i in 0..3 {
        codes.push(r.post_ls(&src, &unique_body(i)).await.0);
    }
    assert_eq!(
        codes,
        [200, 200, 429],
        "the real sender keeps its whole burst"
    );
    // A signed (generic) source: the signature is checked before the allowance is taken.
    let generic = r.add(SourceKind::Generic, None).await;
    for _ in 0..5 {
        let (status, _) = r
            .post(
                &generic.id,
                &[
                    ("content-type", "application/json"),
                    ("webhook-id", "msg_1"),
                    ("webhook-timestamp", "1700000000"),
                    ("webhook-signature", "v1,bm90IGEgc2lnbmF0dXJl"),
                ],
                "{}".to_string(),
            )
            .await;
        assert_eq!(status, 401);
    }
    r.engine.shutdown().await;
}

/// A chunked body whose framing is broken is the sender's error (400), not a size problem
/// (413), and nothing is stored.
#[tokio::test]
async fn a_broken_chunked_body_gets_400_not_413() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let r = running().await;
    let src = r.add(SourceKind::LabelStudio, None).await;
    let addr = r.base.trim_start_matches("http://").to_string();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let request = format!(
        "POST /hooks/{} HTTP/1.1\r\nHost: {addr}\r\nX-Loopline-Token: {}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\nzz-not-hex\r\n{{}}\r\n0\r\n\r\n",
        src.id,
        src.token.as_deref().unwrap()
    );
    conn.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("malformed_body"), "{answer}");
    assert!(r.events().await.is_empty(), "nothing was stored");
    r.engine.shutdown().await;
}

#[tokio::test]
async fn concurrent_deliveries_are_all_stored_with_distinct_ids() {
    let r = running().await;
    r.engine.set_limits(ReceiverLimits {
        rate_per_source: 0.0,
        ..ReceiverLimits::default()
    });
    let src = r.add(SourceKind::LabelStudio, None).await;
    let mut tasks = Vec::new();
    for c in 0..32 {
        let (http, base, id, token) = (
            r.http.clone(),
            r.base.clone(),
            src.id.clone(),
            src.token.clone().unwrap(),
        );
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..25 {
                let resp = http
                    .post(format!("{base}/hooks/{id}"))
                    .header("x-loopline-token", &token)
                    .header("content-type", "application/json")
                    .body(unique_body(c * 1000 + i))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 200);
                let v: serde_json::Value = resp.json().await.unwrap();
                ids.push(v["event_id"].as_i64().unwrap());
            }
            ids
        }));
    }
    let mut acked = Vec::new();
    for t in tasks {
        acked.extend(t.await.unwrap());
    }
    acked.sort();
    acked.dedup();
    assert_eq!(acked.len(), 800, "every acknowledgement carries its own id");
    let stored: Vec<i64> = r.events().await.iter().map(|e| e.id).collect();
    for id in &acked {
        assert!(stored.contains(id), "acknowledged event {id} is stored");
    }
    r.engine.shutdown().await;
}

#[tokio::test]
async fn a_duplicate_delivery_is_flagged_not_dropped() {
    let r = running().await;
    let src = r.add(SourceKind::LabelStudio, None).await;
    let (_, a) = r.post_ls(&src, LS_FIXTURE).await;
    let (status, b) = r.post_ls(&src, LS_FIXTURE).await;
    assert_eq!(status, 200, "a duplicate is still acknowledged");
    assert_eq!(b["status"], "duplicate");
    assert_eq!(b["duplicate_of"], a["event_id"]);
    let events = r.events().await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].duplicate_of, a["event_id"].as_i64());
    r.engine.shutdown().await;
}

#[tokio::test]
async fn a_store_that_cannot_write_answers_503_and_never_2xx() {
    let r = running_with(|o| o.store.busy_timeout = Duration::from_millis(200)).await;
    let src = r.add(SourceKind::LabelStudio, None).await;
    let db = r.dir.path().join("loopline.db");
    let mut holder = {
        use sqlx::ConnectOptions;
        sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&db)
            .connect()
            .await
            .unwrap()
    };
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .unwrap();
    let (status, body) = r.post_ls(&src, &unique_body(1)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("store_unavailable")),
        "{body}"
    );
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    assert!(r.events().await.is_empty());
    let (status, _) = r.post_ls(&src, &unique_body(2)).await;
    assert_eq!(status, 200, "the receiver recovers once the lock is gone");
    r.engine.shutdown().await;
}

#[tokio::test]
async fn generic_sources_verify_standard_webhooks_signatures() {
    let r = running().await;
    let src = r.add(SourceKind::Generic, None).await;
    let secret = src.token.clone().unwrap();
    assert!(secret.starts_with("whsec_"));
    let key = loopline_hooks::auth::signing_key(&secret);
    let body =
        r#"{"type": "model.trained", "timestamp": "2026-01-01T00:00:00Z", "data": {"id": "m1"}}"#;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let sig = loopline_hooks::auth::sign_standard_webhook(&key, "msg_1", now, body.as_bytes());
    let ts = now.to_string();
    let headers = [
        ("webhook-id", "msg_1"),
        ("webhook-timestamp", ts.as_str()),
        ("webhook-signature", sig.as_str()),
        ("content-type", "application/json"),
    ];
    let (status, answer) = r.post(&src.id, &headers, body.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    let (status, _) = r.post(&src.id, &headers, body.replace("m1", "m2")).await;
    assert_eq!(status, 401, "a changed body fails the signature");
    let old = (now - 600).to_string();
    let stale_sig =
        loopline_hooks::auth::sign_standard_webhook(&key, "msg_2", now - 600, body.as_bytes());
    let (status, answer) = r
        .post(
            &src.id,
            &[
                ("webhook-id", "msg_2"),
                ("webhook-timestamp", old.as_str()),
                ("webhook-signature", stale_sig.as_str()),
            ],
            body.to_string(),
        )
        .await;
    assert_eq!(status, 401, "{answer}");
    let events = r.events().await;
    let processed: Vec<_> = events
        .iter()
        .filter(|e| e.status == EventStatus::Processed)
        .collect();
    assert_eq!(processed.len(), 1);
    assert_eq!(processed[0].action.as_deref(), Some("model.trained"));
    r.engine.shutdown().await;
}

#[tokio::test]
async fn aquarium_sources_use_the_pasted_secret() {
    let r = running().await;
    let src = r
        .add(SourceKind::Aquarium, Some("aquarium-shared-secret-123"))
        .await;
    assert!(
        src.token.is_none(),
        "the user's own secret is not echoed back"
    );
    let (status, body) = r
        .post(
            &src.id,
            &[
                ("x-aquarium-secret", "aquarium-shared-secret-123"),
                ("content-type", "application/json"),
            ],
            AQUARIUM_FIXTURE.to_string(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let e = &r.events().await[0];
    assert_eq!(e.action.as_deref(), Some("issue-exported"));
    assert_eq!(e.project_name.as_deref(), Some("bird-parts"));
    let (status, _) = r
        .post(
            &src.id,
            &[
                ("x-aquarium-secret", "nope"),
                ("content-type", "application/json"),
            ],
            AQUARIUM_FIXTURE.to_string(),
        )
        .await;
    assert_eq!(status, 401);
    r.engine.shutdown().await;
}

#[tokio::test]
async fn rotation_keeps_the_old_token_for_the_grace_period_only() {
    let r = running().await;
    let first = r.add(SourceKind::LabelStudio, None).await;
    let second = r.engine.rotate_source(&first.id, 3600, None).await.unwrap();
    assert_ne!(first.token, second.token);
    assert_eq!(
        r.post_ls(&first, &unique_body(1)).await.0,
        200,
        "old token valid during grace"
    );
    assert_eq!(r.post_ls(&second, &unique_body(2)).await.0, 200);
    let listed = r.engine.list_sources().await.unwrap();
    assert!(listed[0].previous_secret_valid_until.is_some());

    let third = r.engine.rotate_source(&first.id, 0, None).await.unwrap();
    assert_eq!(
        r.post_ls(&first, &unique_body(3)).await.0,
        401,
        "no grace: old tokens stop at once"
    );
    assert_eq!(r.post_ls(&second, &unique_body(4)).await.0, 401);
    assert_eq!(r.post_ls(&third, &unique_body(5)).await.0, 200);

    r.engine.remove_source(&first.id).await.unwrap();
    assert_eq!(r.post_ls(&third, &unique_body(6)).await.0, 404);
    assert_eq!(
        r.events().await.len(),
        5,
        "3 accepted and 2 rejected attempts; the removed source's events stay"
    );
    r.engine.shutdown().await;
}

#[tokio::test]
async fn a_source_added_by_another_process_is_served_without_restart() {
    let r = running().await;
    let other = loopline_engine::Engine::open(loopline_engine::EngineOptions {
        data_dir: Some(r.dir.path().to_path_buf()),
        secrets: Some(std::sync::Arc::new(
            loopline_engine::secrets::MemorySecrets::default(),
        )),
        ..Default::default()
    })
    .await
    .unwrap();
    let src = other
        .add_source(SourceKind::LabelStudio, "From the CLI", None)
        .await
        .unwrap();
    other.shutdown().await;
    let (status, body) = r.post_ls(&src, &unique_body(1)).await;
    assert_eq!(status, 200, "{body}");
    r.engine.shutdown().await;
}

/// Issue 22.13: redaction does not depend on the body parsing. Label Studio's body with its
/// `project.token`, in the three shapes that do not parse (nested past the parser's limit, a
/// lone surrogate escape, cut short), never shows the token: not in the body text, not in
/// copy-as-curl, and a search for it finds nothing.
#[tokio::test]
async fn a_body_that_does_not_parse_still_never_shows_the_project_token() {
    const TOKEN: &str = "F48Hc5bF4xtepDljD4iOtuCUqJCYMJANQxKwM9Qz";
    let r = running().await;
    let src = r.add(SourceKind::LabelStudio, None).await;
    assert!(LS_FIXTURE.contains(TOKEN), "the fixture carries the token");
    let inner = LS_FIXTURE.trim().trim_end_matches('}');
    let shapes = [
        (
            "200-deep array",
            format!(
                r#"{inner}, "deep": {}0{}}}"#,
                "[".repeat(200),
                "]".repeat(200)
            ),
        ),
        ("lone surrogate", format!(r#"{inner}, "note": "\ud800"}}"#)),
        (
            "cut short",
            LS_FIXTURE[..LS_FIXTURE.find(TOKEN).unwrap() + TOKEN.len() + 40].to_string(),
        ),
    ];
    for (shape, body) in &shapes {
        assert!(
            serde_json::from_str::<serde_json::Value>(body).is_err(),
            "{shape}: the body must not parse"
        );
        let (status, answer) = r.post_ls(&src, body).await;
        assert!(
            status == 200 || answer["code"] == "malformed_json",
            "{shape}: {status} {answer}"
        );
        let id = answer["event_id"].as_i64().expect("the body is kept");
        let shown = r.engine.show_event(id).await.unwrap();
        assert!(!shown.body_text.contains(TOKEN), "{shape}: body text");
        assert!(!shown.curl.contains(TOKEN), "{shape}: curl");
        assert!(
            shown.redacted_paths.contains(&"project.token".to_string()),
            "{shape}: {:?}",
            shown.redacted_paths
        );
    }
    r.engine.index_all().await.unwrap();
    let found = r
        .engine
        .list_events(&EventQuery {
            search: Some(TOKEN.into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        found.events.is_empty(),
        "search finds the token in {:?}",
        found.events.iter().map(|e| e.id).collect::<Vec<_>>()
    );
    r.engine.shutdown().await;
}
