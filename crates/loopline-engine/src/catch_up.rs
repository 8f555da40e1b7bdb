//! Catching up after sleep, a closed app or a tunnel outage. Label Studio sends each webhook
//! once and keeps no delivery log, but it keeps its own record: so Loopline asks each
//! connected project (one with a retrain rule or a registered Loopline webhook) which
//! annotations were made since it last looked, drops the ones whose webhooks did arrive (by
//! annotation id), and writes ONE timeline entry per gap carrying the project's counters, so
//! the rules count as if the webhooks had arrived. Aquarium has no such API: its sources get
//! an entry saying when Loopline was unreachable.
//!
//! Idempotent: the entry lists the annotation ids it caught up, and those count as known the
//! next time; the newest id caught up per project is also swapped in the settings (a
//! compare-and-swap), so two processes catching up at once write one entry.

use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use loopline_cloud::label_studio_activity::ProjectActivity;
use loopline_core::{
    rfc3339_ms, ApiError, CatchUp, CatchUpReport, CatchUpTrigger, ErrorCode, EventStatus,
    SourceKind,
};
use loopline_store::{NewEvent, StoredBody};
use sha2::{Digest, Sha256};
use tokio::sync::broadcast;

use crate::Engine;

/// The timeline action of a catch-up entry; the rules treat it like ANNOTATION_CREATED.
pub const CATCH_UP_ACTION: &str = "LOOPLINE_CATCH_UP";
const FAILED_ACTION: &str = "LOOPLINE_CATCH_UP_FAILED";
const UNREACHABLE_ACTION: &str = "LOOPLINE_UNREACHABLE";
/// Shorter absences are not worth a line on an Aquarium source's timeline.
pub(crate) const MIN_GAP_MS: i64 = 2 * 60 * 1000;
/// Label Studio's clock and this machine's may differ a little: the window is widened by
/// this much (the annotation ids keep the wider window from counting anything twice).
const SKEW_MS: i64 = 5 * 60 * 1000;
const ALIVE: &str = "catch_up.alive_at";

fn cursor_key(source: &str, project: i64) -> String {
    format!("catch_up.cursor.{source}.{project}")
}
fn newest_key(source: &str, project: i64) -> String {
    format!("catch_up.newest.{source}.{project}")
}
fn failing_key(source: &str, project: i64) -> String {
    format!("catch_up.failing.{source}.{project}")
}
fn aquarium_key(source: &str) -> String {
    format!("catch_up.aquarium.{source}")
}

/// The engine's catch-up state: requests from other tasks, the announcements, the count.
pub(crate) struct CatchUps {
    found: broadcast::Sender<CatchUp>,
    /// A requested catch-up not yet run: its trigger and the earliest gap start asked for.
    requested: Mutex<Option<(CatchUpTrigger, Option<i64>)>>,
    pub(crate) wake: Arc<tokio::sync::Notify>,
    /// How often the wall clock is compared with the monotonic one (ms).
    tick_ms: AtomicI64,
    finished: AtomicU32,
    /// One catch-up at a time in this process.
    running: tokio::sync::Mutex<()>,
    pub(crate) activity_override: Option<Arc<dyn ProjectActivity>>,
}

impl CatchUps {
    pub(crate) fn new(activity_override: Option<Arc<dyn ProjectActivity>>) -> CatchUps {
        CatchUps {
            found: broadcast::channel(64).0,
            requested: Mutex::new(None),
            wake: Arc::new(tokio::sync::Notify::new()),
            tick_ms: AtomicI64::new(crate::wake_watch::DEFAULT_TICK.as_millis() as i64),
            finished: AtomicU32::new(0),
            running: tokio::sync::Mutex::new(()),
            activity_override,
        }
    }

    pub(crate) fn finished(&self) -> u32 {
        self.finished.load(Ordering::Relaxed)
    }

    pub(crate) fn tick(&self) -> Duration {
        Duration::from_millis(self.tick_ms.load(Ordering::Relaxed).max(10) as u64)
    }

    pub(crate) fn take_request(&self) -> Option<(CatchUpTrigger, Option<i64>)> {
        self.requested.lock().ok().and_then(|mut r| r.take())
    }
}

impl Engine {
    /// Each catch-up that found something (missed annotations, or an Aquarium source's
    /// gap), once, from this process's background work or `catch_up`: what the app's
    /// notification "a catch-up found missed annotations" listens to.
    pub fn subscribe_catch_ups(&self) -> broadcast::Receiver<CatchUp> {
        self.catch_ups.found.subscribe()
    }

    /// How often a wake from sleep is looked for (30 s by default; tests use less).
    pub fn set_wake_check_interval(&self, every: Duration) {
        self.catch_ups
            .tick_ms
            .store(every.as_millis().max(10) as i64, Ordering::Relaxed);
    }

    /// Asks the background work to catch up soon (the tunnel is back, say). Requests that
    /// pile up merge into one, from the earliest gap start.
    pub(crate) fn request_catch_up(&self, trigger: CatchUpTrigger, gap_from: Option<i64>) {
        if let Ok(mut r) = self.catch_ups.requested.lock() {
            let from = match (r.as_ref().and_then(|(_, f)| *f), gap_from) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            *r = Some((trigger, from));
        }
        self.catch_ups.wake.notify_one();
    }

    /// When a process running background work on this data directory was last alive.
    pub(crate) async fn alive_at(&self) -> Option<i64> {
        let v = self.store.setting(ALIVE).await.ok().flatten()?;
        v.parse().ok()
    }

    pub(crate) async fn mark_alive(&self) {
        let now = self.clock.now_ms().to_string();
        if let Err(e) = self.store.set_setting(ALIVE, &now).await {
            tracing::debug!(code = %e.code, "alive mark not written: {}", e.message);
        }
    }

    /// Catches up now (`loopline catch-up`, or the app): the gap is since the last time a
    /// Loopline process was alive here, when none is running now.
    pub async fn catch_up_now(&self) -> Result<CatchUpReport, ApiError> {
        let others = self.processes().await?;
        let gap_from = match others.is_empty() {
            true => self.alive_at().await,
            false => None,
        };
        self.catch_up(CatchUpTrigger::Asked, gap_from).await
    }

    /// Asks every connected Label Studio project what happened since Loopline last looked
    /// (`gap_from`: since when Loopline was not reachable, when known), and notes a real gap
    /// (longer than two minutes) on each Aquarium source. A project Label Studio does not answer for keeps its cursor, so the
    /// next trigger asks again; nothing is lost.
    pub async fn catch_up(
        &self,
        trigger: CatchUpTrigger,
        gap_from: Option<i64>,
    ) -> Result<CatchUpReport, ApiError> {
        let _one = self.catch_ups.running.lock().await;
        let now = self.clock.now_ms();
        let mut report = CatchUpReport {
            trigger,
            projects: Vec::new(),
        };
        let projects = self.connected_projects(now).await?;
        if !projects.is_empty() {
            match self.project_activity().await {
                Ok(ls) => {
                    for (source, project) in projects {
                        let done = self
                            .catch_up_project(ls.as_ref(), &source, project, gap_from, now)
                            .await;
                        report
                            .projects
                            .push(self.settle(&source, project, gap_from, now, done).await?);
                    }
                }
                // Never connected: there is nobody to ask, and the status bar says so.
                Err(e) if e.code == ErrorCode::NotConnected => {
                    tracing::info!("catch-up skipped: {}", e.message)
                }
                Err(e) => {
                    for (source, project) in projects {
                        let done = Err(e.clone());
                        report
                            .projects
                            .push(self.settle(&source, project, gap_from, now, done).await?);
                    }
                }
            }
        }
        if let Some(from) = gap_from.filter(|f| now - f >= MIN_GAP_MS) {
            report
                .projects
                .extend(self.note_aquarium_gaps(from, now).await?);
        }
        for c in report.projects.iter().filter(|c| c.event_id.is_some()) {
            let _ = self.catch_ups.found.send(c.clone());
        }
        self.catch_ups.finished.fetch_add(1, Ordering::Relaxed);
        Ok(report)
    }

    async fn project_activity(&self) -> Result<Arc<dyn ProjectActivity>, ApiError> {
        if let Some(a) = &self.catch_ups.activity_override {
            return Ok(a.clone());
        }
        Ok(Arc::new(self.label_studio().await?))
    }

    /// (source, project) of every rule and registered webhook on a Label Studio source.
    async fn connected_projects(&self, now: i64) -> Result<BTreeSet<(String, i64)>, ApiError> {
        let ls_sources: HashSet<String> = self
            .store
            .list_sources(now)
            .await?
            .into_iter()
            .filter(|s| s.kind == SourceKind::LabelStudio)
            .map(|s| s.id)
            .collect();
        let mut out = BTreeSet::new();
        for r in self.store.list_rules().await? {
            out.insert((r.source_id, r.project_id));
        }
        for h in self.store.registered_hooks().await? {
            out.insert((h.source_id, h.project_id));
        }
        out.retain(|(s, _)| ls_sources.contains(s));
        Ok(out)
    }

    /// Turns one project's outcome into its report line; a failure is noted on the
    /// timeline once until a catch-up of that project succeeds again.
    async fn settle(
        &self,
        source: &str,
        project: i64,
        gap_from: Option<i64>,
        now: i64,
        done: Result<CatchUp, ApiError>,
    ) -> Result<CatchUp, ApiError> {
        let key = failing_key(source, project);
        match done {
            Ok(c) => {
                self.store.delete_setting(&key).await?;
                Ok(c)
            }
            Err(e) => {
                tracing::warn!(code = %e.code, project, "catch-up not done, retried at the next start, wake or tunnel return: {}", e.message);
                if self.store.swap_setting(&key, None, "1").await? {
                    let summary = format!(
                        "Loopline could not ask Label Studio what happened in project {project} while it was not listening: {} It asks again at the next start, wake from sleep or tunnel reconnection; nothing is lost.",
                        e.message
                    );
                    self.record_notice(source, project, FAILED_ACTION, &summary)
                        .await?;
                }
                Ok(CatchUp {
                    source_id: source.to_string(),
                    project_id: Some(project),
                    project_title: None,
                    missed: 0,
                    from: rfc3339_ms(gap_from.unwrap_or(now)),
                    to: rfc3339_ms(now),
                    event_id: None,
                    error: Some(e.message),
                })
            }
        }
    }

    async fn catch_up_project(
        &self,
        ls: &dyn ProjectActivity,
        source: &str,
        project: i64,
        gap_from: Option<i64>,
        now: i64,
    ) -> Result<CatchUp, ApiError> {
        let cursor_key = cursor_key(source, project);
        let cursor: Option<i64> = self
            .store
            .setting(&cursor_key)
            .await?
            .and_then(|v| v.parse().ok());
        // Never looked before: from when Loopline started listening to this project (its
        // rule, or the newest event it has of it). With neither, there is nothing to compare
        // with, and the project's whole history is not "missed": start from now.
        let since = match cursor {
            Some(c) => Some(c),
            None => {
                let rule = self
                    .store
                    .list_rules()
                    .await?
                    .into_iter()
                    .filter(|r| r.source_id == source && r.project_id == project)
                    .filter_map(|r| loopline_core::parse_rfc3339_ms(&r.created_at))
                    .min();
                let newest = self.store.newest_project_event_ms(source, project).await?;
                [rule, newest].into_iter().flatten().min()
            }
        };
        let mut line = CatchUp {
            source_id: source.to_string(),
            project_id: Some(project),
            project_title: None,
            missed: 0,
            from: rfc3339_ms(gap_from.or(since).unwrap_or(now)),
            to: rfc3339_ms(now),
            event_id: None,
            error: None,
        };
        let Some(since) = since else {
            self.store
                .set_setting(&cursor_key, &now.to_string())
                .await?;
            return Ok(line);
        };
        let seen = ls.annotations_since(project, since - SKEW_MS).await?;
        let known: HashSet<i64> = self
            .store
            .known_annotation_ids(source, project, since - 2 * SKEW_MS)
            .await?
            .into_iter()
            .collect();
        let mut missed: Vec<_> = seen
            .into_iter()
            .filter(|a| !a.was_cancelled && a.created_at_ms >= since - SKEW_MS)
            .filter(|a| !known.contains(&a.id))
            .collect();
        missed.sort_by_key(|a| a.id);
        missed.dedup_by_key(|a| a.id);
        if let Some(newest) = missed.last().map(|a| a.id) {
            // Asked after the list, so the counters include every annotation listed.
            let counts = ls.project_counts(project).await?;
            line.project_title = Some(counts.title.clone()).filter(|t| !t.is_empty());
            line.missed = missed.len() as i64;
            let key = newest_key(source, project);
            let before = self.store.setting(&key).await?;
            let already = before
                .as_deref()
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|b| b >= newest);
            if !already
                && self
                    .store
                    .swap_setting(&key, before.as_deref(), &newest.to_string())
                    .await?
            {
                let ids: Vec<i64> = missed.iter().map(|a| a.id).collect();
                let tasks: BTreeSet<i64> = missed.iter().map(|a| a.task_id).collect();
                let from = gap_from.unwrap_or(since);
                let ruled = self
                    .store
                    .list_rules()
                    .await?
                    .iter()
                    .any(|r| r.source_id == source && r.project_id == project);
                let summary = summary(
                    &counts.title,
                    project,
                    ids.len(),
                    from,
                    now,
                    gap_from.is_some(),
                    ruled,
                );
                let id = self
                    .write_catch_up(source, project, &counts, &ids, &tasks, from, now, &summary)
                    .await?;
                line.event_id = Some(id);
            }
        }
        self.store
            .set_setting(&cursor_key, &now.to_string())
            .await?;
        Ok(line)
    }

    #[allow(clippy::too_many_arguments)]
    async fn write_catch_up(
        &self,
        source: &str,
        project: i64,
        counts: &loopline_cloud::label_studio_activity::ProjectCounts,
        ids: &[i64],
        tasks: &BTreeSet<i64>,
        from: i64,
        to: i64,
        summary: &str,
    ) -> Result<i64, ApiError> {
        let body = serde_json::json!({
            "action": CATCH_UP_ACTION,
            "project": {
                "id": project,
                "title": counts.title,
                "useful_annotation_number": counts.useful_annotation_number,
                "total_annotations_number": counts.total_annotations_number,
            },
            "annotation_ids": ids,
            "from": rfc3339_ms(from),
            "to": rfc3339_ms(to),
            "message": summary,
        });
        // What the rules read: the same findings an ANNOTATION_CREATED carries.
        let parsed = serde_json::json!({
            "annotation_ids": ids,
            "task_ids": tasks,
            "useful_annotation_number": counts.useful_annotation_number,
            "total_annotations_number": counts.total_annotations_number,
            "issue_id": null,
        });
        let body = body.to_string().into_bytes();
        let digest: [u8; 32] = Sha256::digest(&body).into();
        let stored = self
            .writer
            .write(NewEvent {
                source_id: source.to_string(),
                received_at_ms: self.clock.now_ms(),
                remote_addr: None,
                headers_json: "[]".into(),
                body: StoredBody::encode(body),
                body_sha256: digest,
                body_truncated: false,
                kind: "label-studio",
                action: Some(CATCH_UP_ACTION.to_string()),
                project_id: Some(project),
                project_name: Some(counts.title.clone()).filter(|t| !t.is_empty()),
                summary: summary.to_string(),
                status: EventStatus::Processed,
                parsed_json: Some(parsed.to_string()),
                replay_of: None,
                check_duplicate: false,
            })
            .await?;
        Ok(stored.id)
    }

    /// One line per Aquarium source per gap: Aquarium does not resend, so an export made
    /// meanwhile may need to be sent again.
    async fn note_aquarium_gaps(&self, from: i64, now: i64) -> Result<Vec<CatchUp>, ApiError> {
        let mut out = Vec::new();
        for s in self.store.list_sources(now).await? {
            if s.kind != SourceKind::Aquarium {
                continue;
            }
            let key = aquarium_key(&s.id);
            let before = self.store.setting(&key).await?;
            // Once per gap: the gap is known by its start.
            let noted = before
                .as_deref()
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|b| b >= from);
            if noted
                || !self
                    .store
                    .swap_setting(&key, before.as_deref(), &from.to_string())
                    .await?
            {
                continue;
            }
            let summary = format!(
                "Loopline was not reachable from {}; Aquarium does not send webhooks again, so an issue exported meanwhile may need to be exported again from Aquarium.",
                span(from, now)
            );
            let body = serde_json::json!({
                "action": UNREACHABLE_ACTION,
                "from": rfc3339_ms(from),
                "to": rfc3339_ms(now),
                "message": summary,
            });
            let id = self
                .record_own_event_id(&s.id, "aquarium", UNREACHABLE_ACTION, None, &body, &summary)
                .await?;
            out.push(CatchUp {
                source_id: s.id.clone(),
                project_id: None,
                project_title: None,
                missed: 0,
                from: rfc3339_ms(from),
                to: rfc3339_ms(now),
                event_id: Some(id),
                error: None,
            });
        }
        Ok(out)
    }
}

fn summary(
    title: &str,
    project: i64,
    n: usize,
    from: i64,
    to: i64,
    real_gap: bool,
    ruled: bool,
) -> String {
    let what = if n == 1 {
        "1 annotation was".to_string()
    } else {
        format!("{n} annotations were")
    };
    let name = if title.is_empty() {
        format!("project {project}")
    } else {
        format!("'{title}'")
    };
    let when = if real_gap {
        format!("while Loopline was not reachable ({})", span(from, to))
    } else {
        format!(
            "whose webhooks never reached Loopline (since {})",
            hhmm(from)
        )
    };
    let count = if ruled {
        "; the retrain count is up to date"
    } else {
        ""
    };
    format!("{what} made in {name} {when}{count}.")
}

/// `18:02 to 07:45 UTC`, with the dates when they differ.
fn span(from: i64, to: i64) -> String {
    let (a, b) = (rfc3339_ms(from), rfc3339_ms(to));
    if a[..10] == b[..10] {
        format!("{} to {} UTC", &a[11..16], &b[11..16])
    } else {
        format!(
            "{} {} to {} {} UTC",
            &a[..10],
            &a[11..16],
            &b[..10],
            &b[11..16]
        )
    }
}

fn hhmm(ms: i64) -> String {
    let a = rfc3339_ms(ms);
    format!("{} {} UTC", &a[..10], &a[11..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_says_what_was_missed_and_when() {
        // 2026-12-06 18:02 to 2026-12-07 07:45 UTC
        let from = 1_796_580_120_000;
        let to = from + (13 * 60 + 43) * 60_000;
        assert_eq!(
            summary("Birds", 3, 14, from, to, true, true),
            "14 annotations were made in 'Birds' while Loopline was not reachable (2026-12-06 18:02 to 2026-12-07 07:45 UTC); the retrain count is up to date."
        );
        assert_eq!(
            summary("", 3, 1, from, from + 60_000, false, false),
            "1 annotation was made in project 3 whose webhooks never reached Loopline (since 2026-12-06 18:02 UTC)."
        );
        assert_eq!(span(from, from + 60_000), "18:02 to 18:03 UTC");
    }
}
