//! Received Aquarium issues, for review (`loopline aquarium list|show`, the Issues page):
//! every delivered `issue-exported` event read back from its stored body, the newest
//! delivery of each issue winning.
//!
//! A 10k-element body takes about a second to read, and stored bodies never change: so
//! each event is read once per process for the list (its summary is kept), and the issue
//! last opened is kept whole for the page and the export that follows it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use loopline_core::{
    ApiError, AquariumIssue, AquariumIssueSummary, ErrorCode, EventKind, EventQuery, EventStatus,
    EventSummary,
};
use loopline_payloads::aquarium_issue::parse_issue;
use loopline_payloads::parse::json_text;

use crate::Engine;

const PAGE: u32 = 500;

/// What the list needs of one event; `None` for a body that is not an issue.
#[derive(Clone)]
struct Seen {
    key: String,
    project: Option<String>,
    name: Option<String>,
    elements: u32,
    skipped: u32,
}

#[derive(Default)]
pub(crate) struct IssueCache {
    seen: HashMap<i64, Option<Seen>>,
    last: Option<(i64, Arc<AquariumIssue>)>,
}

/// The id an issue is listed and opened by: Aquarium's, or its event's when it sent none.
fn issue_key(event_id: i64, issue: &AquariumIssue) -> String {
    issue
        .issue_id
        .clone()
        .unwrap_or_else(|| format!("event-{event_id}"))
}

impl Engine {
    /// Every received issue, newest first.
    pub async fn aquarium_issues(&self) -> Result<Vec<AquariumIssueSummary>, ApiError> {
        let mut out: Vec<AquariumIssueSummary> = Vec::new();
        let briefs = self.export_briefs().await?;
        for e in self.issue_events().await? {
            let Some(seen) = self.seen(&e).await? else {
                continue;
            };
            if out.iter().any(|s| s.issue_id == seen.key) {
                continue;
            }
            out.push(AquariumIssueSummary {
                exports: briefs
                    .iter()
                    .filter(|(issue, _)| *issue == seen.key)
                    .map(|(_, b)| b.clone())
                    .collect(),
                issue_id: seen.key,
                project: seen.project,
                name: seen.name,
                elements: seen.elements,
                skipped: seen.skipped,
                received_at: e.received_at.clone(),
                event_id: e.id,
            });
        }
        Ok(out)
    }

    /// One issue as its newest delivery holds it.
    pub async fn aquarium_issue(&self, issue_id: &str) -> Result<AquariumIssue, ApiError> {
        Ok(self.latest_issue(issue_id).await?.1.as_ref().clone())
    }

    /// The newest delivery of an issue: its event id and the issue.
    pub(crate) async fn latest_issue(
        &self,
        issue_id: &str,
    ) -> Result<(i64, Arc<AquariumIssue>), ApiError> {
        for e in self.issue_events().await? {
            if !self.may_be(&e, issue_id).await? {
                continue;
            }
            if let Some((id, issue)) = &self.issue_cache().last {
                if *id == e.id {
                    return Ok((e.id, issue.clone()));
                }
            }
            if let Some(issue) = self.read_issue(e.id).await? {
                return Ok((e.id, issue));
            }
        }
        Err(no_issue(issue_id))
    }

    /// Whether an event may hold this issue: from what was read of it before, or from the
    /// issue id the receiver noted on arrival, so other issues' bodies are not read.
    async fn may_be(&self, e: &EventSummary, issue_id: &str) -> Result<bool, ApiError> {
        if let Some(seen) = self.issue_cache().seen.get(&e.id) {
            return Ok(seen.as_ref().is_some_and(|s| s.key == issue_id));
        }
        let noted = self
            .store
            .parsed_json(e.id)
            .await?
            .and_then(|j| serde_json::from_str::<serde_json::Value>(&j).ok())
            .and_then(|v| v["issue_id"].as_str().map(str::to_string));
        Ok(noted.is_none_or(|id| id == issue_id))
    }

    fn issue_cache(&self) -> std::sync::MutexGuard<'_, IssueCache> {
        self.issues.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The list's view of an event, read once.
    async fn seen(&self, e: &EventSummary) -> Result<Option<Seen>, ApiError> {
        if let Some(s) = self.issue_cache().seen.get(&e.id) {
            return Ok(s.clone());
        }
        self.read_issue(e.id).await?;
        Ok(self.issue_cache().seen.get(&e.id).cloned().flatten())
    }

    /// Reads an event's body as an issue, and keeps its summary and the issue itself.
    async fn read_issue(&self, event_id: i64) -> Result<Option<Arc<AquariumIssue>>, ApiError> {
        let stored = self.store.event(event_id).await?;
        let issue = serde_json::from_slice(json_text(&stored.body))
            .ok()
            .and_then(|body| parse_issue(&body))
            .map(Arc::new);
        let mut cache = self.issue_cache();
        cache.seen.insert(
            event_id,
            issue.as_ref().map(|i| Seen {
                key: issue_key(event_id, i),
                project: i.project.clone(),
                name: i.name.clone(),
                elements: i.elements.len() as u32,
                skipped: i.skipped.len() as u32,
            }),
        );
        if let Some(i) = &issue {
            cache.last = Some((event_id, i.clone()));
        }
        Ok(issue)
    }

    /// Delivered issue events, newest first. Refused and malformed deliveries are kept for
    /// the timeline, not for review.
    async fn issue_events(&self) -> Result<Vec<EventSummary>, ApiError> {
        let mut out = Vec::new();
        let mut before = None;
        loop {
            let page = self
                .list_events(&EventQuery {
                    action: Some("issue-exported".into()),
                    before_id: before,
                    limit: Some(PAGE),
                    ..Default::default()
                })
                .await?;
            out.extend(page.events.into_iter().filter(|e| {
                e.kind == EventKind::Aquarium
                    && e.status == EventStatus::Processed
                    && e.duplicate_of.is_none()
            }));
            match page.next_before_id {
                Some(b) => before = Some(b),
                None => return Ok(out),
            }
        }
    }
}

pub(crate) fn no_issue(issue_id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!("No Aquarium issue '{issue_id}' has been received. `loopline aquarium list` shows the issues received so far."),
    )
}

/// The cache an engine starts with.
pub(crate) fn new_issue_cache() -> Mutex<IssueCache> {
    Mutex::new(IssueCache::default())
}
