//! Turns what happened into desktop notifications: a run ended, an Aquarium issue arrived,
//! Label Studio turned Loopline's webhook off or deleted it, the tunnel has been down for a
//! minute, the loop check failed, a catch-up found missed annotations. Follows the events
//! table (so it sees what any process on this data directory recorded), each switch in the
//! settings is honoured, and bursts are rate-limited by `NoticeGate`.

use std::time::Duration;

use loopline_core::{
    EventQuery, EventStatus, EventSummary, Notice, NoticeKind, Run, RunStatus, TunnelState,
};
use tokio::sync::broadcast;

use crate::engine::WeakEngine;
use crate::Engine;

/// A notification of a kind at most once a minute; the rest come as one summary.
pub const NOTICE_WINDOW_MS: i64 = 60_000;
/// The tunnel must have been down this long before it notifies.
const TUNNEL_DOWN_MS: i64 = 60_000;
/// How often the tunnel's state is looked at. Slow on purpose: the companion runs all day.
const TUNNEL_LOOK: Duration = Duration::from_secs(20);
const PAGE: u32 = 500;

/// The timeline entry a catch-up writes (see `catch_up`).
pub const CATCH_UP_ACTION: &str = "LOOPLINE_CATCH_UP";
const WEBHOOK_ACTIONS: &[&str] = &["LOOPLINE_WEBHOOK_REACTIVATED", "LOOPLINE_WEBHOOK_DELETED"];

impl Engine {
    /// Each desktop notification to show, already filtered by the settings and rate-limited.
    /// The app shows them; `loopline serve` has no desktop and ignores them.
    pub fn subscribe_notices(&self) -> broadcast::Receiver<Notice> {
        self.notices.subscribe()
    }

    /// Offers `count` notices of one kind (the first described by `notice`): sent unless
    /// the user switched the kind off, or the gate holds it back for a summary.
    pub(crate) async fn notify(&self, notice: Notice, count: u64) {
        let allowed = match self.companion_prefs().await {
            Ok(p) => p.notify.allows(notice.kind),
            Err(_) => true,
        };
        if !allowed {
            return;
        }
        let now = self.clock.now_ms();
        let shown = self
            .notice_gate
            .lock()
            .ok()
            .and_then(|mut g| g.offer(notice, count, now));
        if let Some(n) = shown {
            let _ = self.notices.send(n);
        }
    }

    async fn flush_notices(&self) {
        let now = self.clock.now_ms();
        let held = self
            .notice_gate
            .lock()
            .map(|mut g| g.flush(now))
            .unwrap_or_default();
        let prefs = self.companion_prefs().await.unwrap_or_default();
        for n in held {
            if prefs.notify.allows(n.kind) {
                let _ = self.notices.send(n);
            }
        }
    }

    fn next_notice_flush(&self) -> Option<i64> {
        self.notice_gate.lock().ok().and_then(|g| g.next_flush_at())
    }

    /// The events recorded after `cursor`, oldest first, and the new cursor.
    async fn events_after(&self, cursor: i64) -> (Vec<EventSummary>, i64) {
        let mut out = Vec::new();
        let mut before = None;
        loop {
            let query = EventQuery {
                after_id: Some(cursor),
                before_id: before,
                limit: Some(PAGE),
                ..Default::default()
            };
            let Ok(page) = self.store.list_events(&query).await else {
                break;
            };
            let n = page.len();
            before = page.last().map(|e| e.id);
            out.extend(page);
            if n < PAGE as usize {
                break;
            }
        }
        out.reverse();
        let next = out.last().map(|e| e.id).unwrap_or(cursor);
        (out, next)
    }

    async fn notify_events(&self, events: &[EventSummary]) {
        let mut by_kind: std::collections::BTreeMap<NoticeKind, (Notice, u64)> = Default::default();
        for e in events {
            let Some(notice) = event_notice(e) else {
                continue;
            };
            by_kind
                .entry(notice.kind)
                .and_modify(|(_, n)| *n += 1)
                .or_insert((notice, 1));
        }
        for (_, (notice, count)) in by_kind {
            self.notify(notice, count).await;
        }
    }
}

/// The notice an event makes, if any. Replays and duplicates never notify.
pub(crate) fn event_notice(e: &EventSummary) -> Option<Notice> {
    if e.status != EventStatus::Processed || e.replay_of.is_some() {
        return None;
    }
    let action = e.action.as_deref()?;
    let (kind, title) = match action {
        "issue-exported" => (
            NoticeKind::AquariumIssue,
            format!(
                "Aquarium issue arrived{}",
                e.project_name
                    .as_deref()
                    .map(|p| format!(" in {p}"))
                    .unwrap_or_default()
            ),
        ),
        a if WEBHOOK_ACTIONS.contains(&a) => (
            NoticeKind::WebhookOff,
            "Label Studio changed Loopline's webhook".to_string(),
        ),
        CATCH_UP_ACTION => (
            NoticeKind::CatchUp,
            "Loopline caught up on missed annotations".to_string(),
        ),
        _ => return None,
    };
    Some(Notice {
        kind,
        title,
        body: e.summary.clone(),
    })
}

/// The notice of a run that ended.
pub fn run_notice(run: &Run) -> Notice {
    let verb = match run.status {
        RunStatus::Succeeded => "succeeded",
        RunStatus::Failed => "failed",
        RunStatus::Stopped => "was stopped",
        _ => "could not start",
    };
    let why = run
        .failure_reason
        .as_deref()
        .or(run.error.as_deref())
        .filter(|_| run.status != RunStatus::Succeeded)
        .map(|r| format!(" {r}"))
        .unwrap_or_default();
    Notice {
        kind: NoticeKind::RunEnded,
        title: format!("Retrain run {} {verb}", run.id),
        body: format!(
            "{} (triggered at {} annotations).{why}",
            run.pipeline, run.count
        ),
    }
}

fn tunnel_down_notice(why: Option<String>) -> Notice {
    let body = format!(
        "Label Studio cannot reach Loopline, and its webhooks are not retried. \
         Loopline catches up when the tunnel is back. {}",
        why.unwrap_or_default()
    );
    Notice {
        kind: NoticeKind::TunnelDown,
        title: "The tunnel has been down for over a minute".into(),
        body: body.trim().to_string(),
    }
}

/// The background task: events past a cursor (starting at the newest, so nothing old
/// notifies), run endings, the tunnel's state, and the gate's summaries. It sleeps until
/// one of them has news; no timer runs faster than `TUNNEL_LOOK`.
pub(crate) async fn watch_notices(engine: WeakEngine) {
    let (mut timeline, mut endings, mut cursor) = {
        let Some(e) = engine.upgrade() else { return };
        let newest = e.store.newest_event_id().await.ok().flatten().unwrap_or(0);
        (e.subscribe_timeline(), e.subscribe_run_endings(), newest)
    };
    let mut down_since: Option<i64> = None;
    let mut down_told = false;
    loop {
        let flush_in = {
            let Some(e) = engine.upgrade() else { return };
            e.next_notice_flush()
                .map(|at| Duration::from_millis((at - e.clock.now_ms()).max(0) as u64))
        };
        let wait_flush = async {
            match flush_in {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            changed = timeline.changed() => {
                if changed.is_err() { return; }
                let Some(e) = engine.upgrade() else { return };
                let (events, next) = e.events_after(cursor).await;
                cursor = next;
                e.notify_events(&events).await;
            }
            ended = endings.recv() => {
                let Some(e) = engine.upgrade() else { return };
                match ended {
                    Ok(run) => e.notify(run_notice(&run), 1).await,
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
            _ = wait_flush => {
                let Some(e) = engine.upgrade() else { return };
                e.flush_notices().await;
            }
            _ = tokio::time::sleep(TUNNEL_LOOK) => {
                let Some(e) = engine.upgrade() else { return };
                let now = e.clock.now_ms();
                match e.tunnel_status().await {
                    Ok(s) if s.state == TunnelState::Unreachable => {
                        let since = *down_since.get_or_insert(now);
                        if !down_told && now - since >= TUNNEL_DOWN_MS {
                            down_told = true;
                            e.notify(tunnel_down_notice(s.error.map(|x| x.message)), 1).await;
                        }
                    }
                    Ok(_) => {
                        down_since = None;
                        down_told = false;
                    }
                    Err(_) => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use loopline_core::EventKind;

    fn event(action: &str, status: EventStatus) -> EventSummary {
        EventSummary {
            id: 1,
            source_id: "src_a".into(),
            source_name: None,
            kind: EventKind::Aquarium,
            action: Some(action.into()),
            project_id: None,
            project_name: Some("Birds".into()),
            summary: "issue 12 with 3 elements".into(),
            status,
            received_at: String::new(),
            received_at_ms: 0,
            duplicate_of: None,
            replay_of: None,
            body_bytes: 10,
        }
    }

    fn run(id: i64, status: RunStatus) -> Run {
        Run {
            id,
            rule_id: "rule_1".into(),
            pipeline: "train".into(),
            event_id: 9,
            count: 32,
            bucket_from: 2,
            bucket_to: 2,
            status,
            active: status.is_active(),
            params: vec![],
            client_request_token: "t".repeat(64),
            execution_arn: None,
            console_url: None,
            created_at: "2026-11-23T10:00:00.000Z".into(),
            started_at: None,
            finished_at: None,
            attempts: 1,
            error: None,
            failure_reason: Some("AlgorithmError: out of memory".into()),
            steps: None,
            steps_note: None,
            dataset_manifest: None,
            model_package_arn: None,
        }
    }

    #[test]
    fn the_run_notice_says_what_happened() {
        let n = run_notice(&run(2, RunStatus::Failed));
        assert_eq!(n.title, "Retrain run 2 failed");
        assert!(
            n.body.contains("train") && n.body.contains("32") && n.body.contains("out of memory")
        );
        let n = run_notice(&run(3, RunStatus::Succeeded));
        assert_eq!(n.title, "Retrain run 3 succeeded");
        assert!(!n.body.contains("out of memory"));
    }

    #[test]
    fn issues_webhook_changes_and_catch_ups_notify_and_nothing_else() {
        let n = event_notice(&event("issue-exported", EventStatus::Processed)).unwrap();
        assert_eq!(n.kind, NoticeKind::AquariumIssue);
        assert_eq!(n.title, "Aquarium issue arrived in Birds");
        assert!(event_notice(&event("issue-exported", EventStatus::Duplicate)).is_none());
        let mut replay = event("issue-exported", EventStatus::Processed);
        replay.replay_of = Some(1);
        assert!(event_notice(&replay).is_none(), "a replay never notifies");
        assert_eq!(
            event_notice(&event("LOOPLINE_WEBHOOK_DELETED", EventStatus::Processed))
                .unwrap()
                .kind,
            NoticeKind::WebhookOff
        );
        assert_eq!(
            event_notice(&event(CATCH_UP_ACTION, EventStatus::Processed))
                .unwrap()
                .kind,
            NoticeKind::CatchUp
        );
        assert!(event_notice(&event("ANNOTATION_CREATED", EventStatus::Processed)).is_none());
    }
}
