//! Automations in the store: a firing and its outbox item are written once per
//! (automation, event), in the pass's transaction, whatever repeats the judging: a second
//! pass over the same events, a pass that never committed (a kill between the decision and
//! the side effect), or a second process on the same data directory. A pass decides without
//! the write lock, so its commit writes nothing when what it decided from has changed.

use std::time::Duration;

use loopline_core::{
    AutomationAction, AutomationRequest, AutomationTrigger, DeliveryStatus, EventStatus, FireMode,
};
use loopline_store::{
    AutomationPass, DeliveryOutcome, EventWriter, Firing, NewEvent, Store, StoreOptions,
    StoredBody, AUTOMATION_FORWARD, MAX_RESPONSE_CHARS,
};

fn event(n: u8) -> NewEvent {
    NewEvent {
        source_id: "src_ls".into(),
        received_at_ms: 1_000 * n as i64,
        remote_addr: None,
        headers_json: "[]".into(),
        body_sha256: [n; 32],
        body: StoredBody::encode(
            format!(
                r#"{{"action": "PROJECT_CREATED", "project": {{"id": {n}, "title": "Birds {n}"}}}}"#
            )
            .into_bytes(),
        ),
        body_truncated: false,
        kind: "label-studio",
        action: Some("PROJECT_CREATED".into()),
        project_id: Some(n as i64),
        project_name: None,
        summary: "project".into(),
        status: EventStatus::Processed,
        parsed_json: None,
        replay_of: None,
        check_duplicate: false,
    }
}

fn forward(dry_run: bool) -> AutomationRequest {
    AutomationRequest {
        name: "to the db".into(),
        trigger: AutomationTrigger {
            source_id: "src_ls".into(),
            actions: vec!["PROJECT_CREATED".into()],
            project_id: None,
            conditions: vec![],
            fire: FireMode::Each,
        },
        action: AutomationAction::Forward {
            url: "http://127.0.0.1:9/hook".into(),
            secret_name: Some("fwd".into()),
            body_template: None,
        },
        dry_run,
        start_count: None,
        even_if_shared: None,
    }
}

async fn open(dir: &tempfile::TempDir) -> Store {
    Store::open(&dir.path().join("loopline.db"), &StoreOptions::default())
        .await
        .unwrap()
}

/// A store with one live forward automation, `au_1`, on the events' source.
async fn with_one_forward(dir: &tempfile::TempDir) -> Store {
    let store = open(dir).await;
    store
        .insert_automation("au_1", &forward(false), None, 0)
        .await
        .unwrap();
    store
}

/// `au_1` has no delivery and the outbox holds nothing.
async fn assert_nothing_written(store: &Store) {
    assert!(store
        .automation_deliveries("au_1", 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store.outbox_unfinished_by_kind().await.unwrap().is_empty());
}

async fn write(store: &Store, events: std::ops::RangeInclusive<u8>) {
    let w = EventWriter::start(store, Duration::from_secs(600), 0)
        .await
        .unwrap();
    for n in events {
        w.write(event(n)).await.unwrap();
    }
}

/// A pass over every event past the cursor in which each one fires every automation of its
/// source, not committed; with how many firings it decided.
async fn decide(store: &Store) -> Option<(AutomationPass, usize)> {
    let mut pass = store.begin_automation_pass(100).await.unwrap()?;
    let mut decided = 0;
    for e in pass.events.clone() {
        for a in pass.automations_for(&e.source_id).await.unwrap() {
            pass.fire(&Firing {
                automation: &a,
                event_id: e.id,
                now_ms: 5_000,
                deadline_at_ms: 90_000,
            });
            decided += 1;
        }
    }
    Some((pass, decided))
}

/// Judges every event past the cursor: each one fires every automation of its source.
/// Returns how many firings were new (without `commit`: how many were decided).
async fn judge(store: &Store, commit: bool) -> usize {
    let Some((pass, decided)) = decide(store).await else {
        return 0;
    };
    if commit {
        // `None`: the other process judged these events first; it wrote nothing.
        return pass.commit().await.unwrap().unwrap_or(0);
    }
    decided
}

#[tokio::test]
async fn an_automation_judges_only_what_arrives_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    write(&store, 1..=3).await;
    store
        .insert_automation("au_1", &forward(false), None, 4_000)
        .await
        .unwrap();
    assert_eq!(judge(&store, true).await, 0, "history is not judged");
    write(&store, 4..=5).await;
    assert_eq!(judge(&store, true).await, 2);
    let a = store.automation("au_1").await.unwrap();
    assert_eq!(a.fired, 2);
    let deliveries = store.automation_deliveries("au_1", 10).await.unwrap();
    assert_eq!(
        deliveries.iter().map(|d| d.event_id).collect::<Vec<_>>(),
        vec![5, 4]
    );
    assert!(deliveries
        .iter()
        .all(|d| d.status == DeliveryStatus::Pending));
    assert_eq!(
        store.outbox_unfinished_by_kind().await.unwrap(),
        vec![(AUTOMATION_FORWARD.to_string(), 2)]
    );
}

#[tokio::test]
async fn a_firing_is_written_once_across_repeats_uncommitted_passes_and_two_processes() {
    let dir = tempfile::tempdir().unwrap();
    let store = with_one_forward(&dir).await;
    write(&store, 1..=4).await;

    // Killed between the decision and its commit: nothing of it remains, and the next pass
    // decides the same events again.
    assert_eq!(judge(&store, false).await, 4);
    assert_nothing_written(&store).await;

    // A second process on the same file, judging at the same time: the one that commits
    // second finds the cursor moved, and writes nothing.
    let other = open(&dir).await;
    let (a, b) = tokio::join!(judge(&store, true), judge(&other, true));
    assert_eq!(a + b, 4, "each event fired once between the two processes");

    // A pass over events already fired (the cursor put back, as a restore would) writes nothing.
    sqlx::query("UPDATE settings SET value = '0' WHERE key = 'automations.cursor'")
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(judge(&store, true).await, 0);
    assert_eq!(store.automation("au_1").await.unwrap().fired, 4);
    assert_eq!(
        store.outbox_unfinished_by_kind().await.unwrap(),
        vec![(AUTOMATION_FORWARD.to_string(), 4)]
    );
}

#[tokio::test]
async fn a_pass_whose_automation_changed_before_its_commit_writes_nothing_and_is_judged_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = with_one_forward(&dir).await;
    write(&store, 1..=2).await;

    let (pass, decided) = decide(&store).await.unwrap();
    assert_eq!(decided, 2);
    // Paused (in the app, say) after the pass read it and before the pass committed.
    store.set_automation_paused("au_1", true).await.unwrap();
    assert_eq!(pass.commit().await.unwrap(), None, "stale: nothing written");
    assert_nothing_written(&store).await;

    // Judged again from what is there now: paused, so these events never fire it.
    assert_eq!(judge(&store, true).await, 0);
    assert!(
        store.begin_automation_pass(100).await.unwrap().is_none(),
        "the cursor moved past them"
    );
    assert_eq!(store.automation("au_1").await.unwrap().fired, 0);
}

#[tokio::test]
async fn a_dry_run_records_would_fire_and_enqueues_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    store
        .insert_automation("au_dry", &forward(true), None, 0)
        .await
        .unwrap();
    write(&store, 1..=2).await;
    assert_eq!(judge(&store, true).await, 2);
    let d = store.automation_deliveries("au_dry", 10).await.unwrap();
    assert!(d.iter().all(|d| d.status == DeliveryStatus::WouldFire));
    assert!(store.outbox_unfinished_by_kind().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_paused_automation_fires_for_nothing_that_arrived_while_paused() {
    let dir = tempfile::tempdir().unwrap();
    let store = with_one_forward(&dir).await;
    assert!(
        store
            .set_automation_paused("au_1", true)
            .await
            .unwrap()
            .paused
    );
    write(&store, 1..=2).await;
    assert_eq!(judge(&store, true).await, 0);
    assert!(
        !store
            .set_automation_paused("au_1", false)
            .await
            .unwrap()
            .paused
    );
    assert_eq!(
        judge(&store, true).await,
        0,
        "the paused stretch is not judged later"
    );
    write(&store, 3..=3).await;
    assert_eq!(judge(&store, true).await, 1);
    let e = store
        .set_automation_paused("au_nope", true)
        .await
        .unwrap_err();
    assert!(
        e.message.contains("loopline automation list"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn a_delivery_keeps_the_targets_answer_and_removal_settles_what_is_pending() {
    let dir = tempfile::tempdir().unwrap();
    let store = with_one_forward(&dir).await;
    write(&store, 1..=2).await;
    judge(&store, true).await;
    let first = store.outbox_item_for(AUTOMATION_FORWARD, 1).await.unwrap();
    assert!(first.is_some(), "the delivery is the item's subject");

    let long = "x".repeat(MAX_RESPONSE_CHARS * 2);
    let outcome = DeliveryOutcome {
        status: DeliveryStatus::Delivered,
        http_status: Some(201),
        response: Some(&long),
        error: None,
        now_ms: 7_000,
    };
    store.record_delivery(1, &outcome).await.unwrap();
    let d = store.delivery(1).await.unwrap().unwrap();
    assert_eq!(
        (d.status, d.http_status, d.attempts),
        (DeliveryStatus::Delivered, Some(201), 1)
    );
    assert_eq!(d.response.unwrap().chars().count(), MAX_RESPONSE_CHARS + 1);
    assert!(d.delivered_at.is_some());
    assert_eq!(store.event_deliveries(1).await.unwrap().len(), 1);

    assert!(store.delete_automation("au_1", 8_000).await.unwrap());
    assert!(!store.delete_automation("au_1", 8_000).await.unwrap());
    let left = store.delivery(2).await.unwrap().unwrap();
    assert_eq!(left.status, DeliveryStatus::Failed);
    assert!(left.error.unwrap().contains("removed"));
    assert!(
        store.outbox_unfinished_by_kind().await.unwrap().is_empty(),
        "nothing is delivered for it"
    );
    assert_eq!(
        store.delivery(1).await.unwrap().unwrap().status,
        DeliveryStatus::Delivered
    );
}
