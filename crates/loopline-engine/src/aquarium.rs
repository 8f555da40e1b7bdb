//! Received Aquarium issues, for review (`loopline aquarium list|show`, the Issues page):
//! every delivered `issue-exported` event read back from its stored body, the newest
//! delivery of each issue winning.

use loopline_core::{
    ApiError, AquariumIssue, AquariumIssueSummary, ErrorCode, EventKind, EventQuery, EventStatus,
};
use loopline_payloads::aquarium_issue::parse_issue;
use loopline_payloads::parse::json_text;

use crate::Engine;

const PAGE: u32 = 500;

impl Engine {
    /// Every received issue, newest first.
    pub async fn aquarium_issues(&self) -> Result<Vec<AquariumIssueSummary>, ApiError> {
        let mut out: Vec<AquariumIssueSummary> = Vec::new();
        let briefs = self.export_briefs().await?;
        for (event_id, received_at, issue) in self.received_issues(None).await? {
            let id = issue
                .issue_id
                .clone()
                .unwrap_or_else(|| format!("event-{event_id}"));
            if out.iter().any(|s| s.issue_id == id) {
                continue;
            }
            out.push(AquariumIssueSummary {
                issue_id: id.clone(),
                project: issue.project,
                name: issue.name,
                elements: issue.elements.len() as u32,
                skipped: issue.skipped.len() as u32,
                received_at,
                event_id,
                exports: briefs
                    .iter()
                    .filter(|(issue, _)| *issue == id)
                    .map(|(_, b)| b.clone())
                    .collect(),
            });
        }
        Ok(out)
    }

    /// One issue as its newest delivery holds it.
    pub async fn aquarium_issue(&self, issue_id: &str) -> Result<AquariumIssue, ApiError> {
        self.received_issues(Some(issue_id))
            .await?
            .into_iter()
            .next()
            .map(|(_, _, issue)| issue)
            .ok_or_else(|| no_issue(issue_id))
    }

    /// (event id, received at, issue) for each delivered issue event, newest first.
    pub(crate) async fn received_issues(
        &self,
        only: Option<&str>,
    ) -> Result<Vec<(i64, String, AquariumIssue)>, ApiError> {
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
            for e in &page.events {
                // Refused and malformed deliveries are kept for the timeline, not for review.
                if e.kind != EventKind::Aquarium
                    || e.status != EventStatus::Processed
                    || e.duplicate_of.is_some()
                {
                    continue;
                }
                let stored = self.store.event(e.id).await?;
                let Ok(body) = serde_json::from_slice(json_text(&stored.body)) else {
                    continue;
                };
                if let Some(issue) = parse_issue(&body) {
                    if only.is_none_or(|id| issue.issue_id.as_deref() == Some(id)) {
                        out.push((e.id, e.received_at.clone(), issue));
                        if only.is_some() {
                            return Ok(out);
                        }
                    }
                }
            }
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
