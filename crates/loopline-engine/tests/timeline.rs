//! The timeline's engine calls: test events, search, replay, edit-then-replay, delete,
//! retention, and the change feed.

mod common;

use std::time::Duration;

use common::*;
use loopline_core::{EventQuery, EventStatus, RetentionPolicy, SourceKind};

#[tokio::test]
async fn send_test_event_goes_through_the_real_http_path_for_each_kind() {
    let r = running().await;
    for (kind, secret) in [
        (SourceKind::LabelStudio, None),
        (SourceKind::Aquarium, Some("aq-secret")),
        (SourceKind::Generic, None),
    ] {
        let src = r.add(kind, secret).await;
        let id = r.engine.send_test_event(&src.id, None).await.unwrap();
        let detail = r.engine.show_event(id).await.unwrap();
        assert_eq!(detail.event.status, EventStatus::Processed, "{kind:?}");
        assert_eq!(detail.event.source_id, src.id);
        assert!(
            detail.remote_addr.unwrap().starts_with("127.0.0.1:"),
            "it really crossed a socket"
        );
    }
    let kinds: Vec<_> = r.events().await.iter().map(|e| e.kind).collect();
    assert_eq!(kinds.len(), 3);
    r.engine.shutdown().await;
}

#[tokio::test]
async fn search_filters_and_paging() {
    let r = running().await;
    let src = r.add(SourceKind::LabelStudio, None).await;
    r.post_ls(&src, LS_FIXTURE).await;
    for i in 0..30 {
        r.post_ls(&src, &unique_body(i)).await;
    }
    r.engine.index_all().await.unwrap();
    let found = r
        .engine
        .list_events(&EventQuery {
            search: Some("bird_001".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        found.events.len(),
        1,
        "full-text search reaches payload values"
    );
    let by_project = r
        .engine
        .list_events(&EventQuery {
            project_id: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_project.events.len(), 1);
    let first = r
        .engine
        .list_events(&EventQuery {
            limit: Some(10),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(first.events.len(), 10);
    let next = first.next_before_id.unwrap();
    let second = r
        .engine
        .list_events(&EventQuery {
            limit: Some(10),
            before_id: Some(next),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(second.events.iter().all(|e| e.id < next));
    assert!(
        first.events.windows(2).all(|w| w[0].id > w[1].id),
        "newest first"
    );
    r.engine.shutdown().await;
}

#[tokio::test]
async fn replay_edit_then_replay_and_delete() {
    let r = running().await;
    let src = r.add(SourceKind::LabelStudio, None).await;
    let (_, body) = r.post_ls(&src, LS_FIXTURE).await;
    let id = body["event_id"].as_i64().unwrap();
    let mut changes = r.engine.subscribe_timeline();
    changes.mark_unchanged();

    let outcome = r.engine.replay_event(id).await.unwrap();
    assert_eq!(outcome.event_id, id);
    assert_eq!(r.engine.show_event(id).await.unwrap().replay_count, 1);
    assert!(
        changes.has_changed().unwrap(),
        "a replay tells the timeline to refresh"
    );

    let masked = r.engine.show_event(id).await.unwrap().body_text;
    let err = r.engine.replay_edited(id, &masked).await.unwrap_err();
    assert_eq!(
        err.code.as_str(),
        "invalid_argument",
        "masked values are never sent back as data"
    );
    let edited = LS_FIXTURE.replace("\"lead_time\": 12.5", "\"lead_time\": 99.0");
    let outcome = r.engine.replay_edited(id, &edited).await.unwrap();
    assert_ne!(outcome.event_id, id);
    let copy = r.engine.show_event(outcome.event_id).await.unwrap();
    assert_eq!(copy.event.replay_of, Some(id));
    assert_eq!(
        r.engine
            .replay_edited(id, "{nope")
            .await
            .unwrap_err()
            .code
            .as_str(),
        "malformed_json"
    );

    r.engine.delete_event(id).await.unwrap();
    assert_eq!(
        r.engine.show_event(id).await.unwrap_err().code.as_str(),
        "event_not_found"
    );
    assert_eq!(
        r.engine.delete_event(id).await.unwrap_err().code.as_str(),
        "event_not_found"
    );
    r.engine.shutdown().await;
}

#[tokio::test]
async fn retention_keeps_the_newest_events() {
    let r = running().await;
    let src = r.add(SourceKind::LabelStudio, None).await;
    for i in 0..20 {
        r.post_ls(&src, &unique_body(i)).await;
    }
    let stats = r
        .engine
        .set_retention(&RetentionPolicy {
            max_days: Some(30),
            max_events: Some(5),
        })
        .await
        .unwrap();
    assert_eq!(stats.total_events, 5);
    assert_eq!(stats.retention.max_events, Some(5));
    let ids: Vec<i64> = r.events().await.iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![20, 19, 18, 17, 16]);
    assert!(r
        .engine
        .set_retention(&RetentionPolicy {
            max_days: Some(0),
            max_events: None
        })
        .await
        .is_err());
    r.engine.shutdown().await;
}

#[tokio::test]
async fn the_change_feed_announces_new_events() {
    let r = running().await;
    let src = r.add(SourceKind::LabelStudio, None).await;
    let mut feed = r.engine.subscribe_timeline();
    feed.mark_unchanged();
    let (_, body) = r.post_ls(&src, &unique_body(1)).await;
    let id = body["event_id"].as_i64();
    tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            feed.changed().await.unwrap();
            if feed.borrow().newest_id == id {
                break;
            }
        }
    })
    .await
    .expect("the feed reports the new event");
    r.engine.shutdown().await;
}
