//! The timeline: listing, inspecting, replaying and deleting events. Behind `loopline
//! events …` and the Timeline screen.

use loopline_core::{
    ApiError, ErrorCode, EventDetail, EventPage, EventQuery, EventStatus, Header, ReplayOutcome,
    RetentionPolicy, TimelineStats,
};
use loopline_hooks::new_event;
use loopline_payloads::parse::{json_text, parse, Parsed, StoredFindings};
use loopline_payloads::redact::{redact_json, MASK};
use loopline_payloads::redact_scan::redact_scan;
use loopline_store::{ParsedUpdate, DEFAULT_PAGE};
use sha2::{Digest, Sha256};

use crate::Engine;

impl Engine {
    pub async fn list_events(&self, query: &EventQuery) -> Result<EventPage, ApiError> {
        let events = self.store.list_events(query).await?;
        let limit = query
            .limit
            .unwrap_or(DEFAULT_PAGE)
            .clamp(1, loopline_store::MAX_PAGE) as usize;
        let next_before_id = (events.len() == limit)
            .then(|| events.last().map(|e| e.id))
            .flatten();
        Ok(EventPage {
            events,
            next_before_id,
        })
    }

    /// Up to `limit` events, newest first, however many that is: pages of the store's
    /// largest page (`MAX_PAGE`) are read one after another, so `--limit 5000` means 5000.
    /// `next_before_id` is set when more match.
    pub async fn list_events_up_to(
        &self,
        query: &EventQuery,
        limit: usize,
    ) -> Result<EventPage, ApiError> {
        let mut events = Vec::new();
        let mut page_query = query.clone();
        loop {
            let want = (limit - events.len()).min(loopline_store::MAX_PAGE as usize);
            page_query.limit = Some(want as u32);
            let page = self.list_events(&page_query).await?;
            let got = page.events.len();
            events.extend(page.events);
            match page.next_before_id {
                Some(next) if events.len() < limit && got == want => {
                    page_query.before_id = Some(next)
                }
                _ => {
                    let next_before_id = (events.len() == limit)
                        .then(|| events.last().map(|e| e.id))
                        .flatten();
                    return Ok(EventPage {
                        events,
                        next_before_id,
                    });
                }
            }
        }
    }

    /// One event for the detail pane, with every secret masked.
    pub async fn show_event(&self, id: i64) -> Result<EventDetail, ApiError> {
        let stored = self.store.event(id).await?;
        let headers: Vec<Header> =
            serde_json::from_str::<Vec<(String, String)>>(&stored.headers_json)
                .unwrap_or_default()
                .into_iter()
                .map(|(name, value)| Header { name, value })
                .collect();
        let text = json_text(&stored.body);
        let raw = String::from_utf8_lossy(text).into_owned();
        // The text is masked by a scan that needs no parse: a body cut short, nested past the
        // parser's limit or holding a lone surrogate escape is shown (and put in curl) masked too.
        let scanned = redact_scan(&raw);
        let (body_json, redacted_paths) = match serde_json::from_slice::<serde_json::Value>(text) {
            Ok(mut shown) => {
                let paths = redact_json(&mut shown);
                (Some(shown), paths)
            }
            Err(_) => (None, scanned.paths),
        };
        let body_text = scanned.text;
        let found = StoredFindings::from_json(stored.parsed_json.as_deref());
        let curl = self
            .curl_for(&stored.summary.source_id, &headers, &body_text)
            .await;
        Ok(EventDetail {
            annotation_ids: found.annotation_ids,
            task_ids: found.task_ids,
            event: stored.summary,
            remote_addr: stored.remote_addr,
            headers,
            body_json,
            body_text,
            body_truncated: stored.body_truncated,
            redacted_paths,
            curl,
            replay_count: stored.replay_count,
        })
    }

    /// Runs processing again on a stored event: parses it afresh and records the replay.
    /// Rules that act on events see it as a replay, so it can never start work twice.
    pub async fn replay_event(&self, id: i64) -> Result<ReplayOutcome, ApiError> {
        let stored = self.store.event(id).await?;
        if stored.summary.status == EventStatus::Rejected {
            return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                format!("Event {id} is a rejected attempt: it has no body to process."),
            ));
        }
        let parsed = parse(&stored.body).map_err(|e| {
            ApiError::new(
                ErrorCode::MalformedJson,
                format!(
                    "Event {id} cannot be replayed: {} Use edit-then-replay to fix the body.",
                    e.message
                ),
            )
        })?;
        let json = parsed.to_json();
        self.store
            .mark_replayed(
                id,
                &ParsedUpdate {
                    kind: parsed.kind().as_str(),
                    action: parsed.action.as_deref(),
                    project_id: parsed.project_id,
                    project_name: parsed.project_name.as_deref(),
                    summary: &parsed.summary,
                    parsed_json: Some(&json),
                },
            )
            .await?;
        self.bump_revision();
        Ok(ReplayOutcome {
            event_id: id,
            message: format!("Event {id} processed again: {}", parsed.summary),
        })
    }

    /// Stores an edited copy of an event as a new event (linked to the original) and
    /// processes it. The original stays as it was received.
    pub async fn replay_edited(&self, id: i64, body: &str) -> Result<ReplayOutcome, ApiError> {
        let original = self.store.event(id).await?;
        let parsed: Parsed = parse(body.as_bytes()).map_err(|e| {
            ApiError::new(
                ErrorCode::MalformedJson,
                format!("The edited body is not valid JSON: {}", e.message),
            )
        })?;
        if body.contains(MASK) {
            return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                "The edited body still contains masked values (••••••). Replace them or remove those fields, then replay.",
            ));
        }
        let summary = parsed.summary.clone();
        let mut event = new_event(
            &original.summary.source_id,
            self.clock.now_ms(),
            None,
            original.headers_json.clone(),
            body.as_bytes().to_vec(),
            Sha256::digest(body.as_bytes()).into(),
            parsed,
        );
        // A deliberate re-send by the user, linked to what it edits; never a "duplicate".
        event.replay_of = Some(id);
        event.check_duplicate = false;
        let stored = self.writer.write(event).await?;
        Ok(ReplayOutcome {
            event_id: stored.id,
            message: format!(
                "Edited copy of event {id} stored as event {} and processed: {summary}",
                stored.id
            ),
        })
    }

    pub async fn delete_event(&self, id: i64) -> Result<(), ApiError> {
        self.store.delete_event(id).await?;
        self.bump_revision();
        Ok(())
    }

    pub async fn timeline_stats(&self) -> Result<TimelineStats, ApiError> {
        Ok(TimelineStats {
            total_events: self.store.event_count().await?,
            newest_id: self.store.newest_event_id().await?,
            db_size_bytes: self.store.size_bytes(),
            retention: self.store.retention().await?,
        })
    }

    pub async fn set_retention(&self, policy: &RetentionPolicy) -> Result<TimelineStats, ApiError> {
        if policy.max_days == Some(0) || policy.max_events.is_some_and(|n| n < 1) {
            return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                "Keep at least 1 day and at least 1 event, or leave a limit empty for no limit.",
            ));
        }
        self.store.set_retention(policy).await?;
        self.prune().await?;
        self.timeline_stats().await
    }

    async fn curl_for(&self, source_id: &str, headers: &[Header], body_text: &str) -> String {
        let base = match self.receiver_addr().await {
            Some(a) => format!("http://{a}"),
            None => format!("http://{}", self.saved_listen().await.unwrap_or_default()),
        };
        let mut cmd = format!("curl -sS -X POST '{base}/hooks/{source_id}'");
        for h in headers {
            let lower = h.name.to_ascii_lowercase();
            if matches!(
                lower.as_str(),
                "host" | "content-length" | "connection" | "accept-encoding" | "user-agent"
            ) {
                continue;
            }
            let value = if h.value.contains(MASK) {
                // The secret is never put back; the user supplies it from their shell.
                h.value.replace(MASK, "$LOOPLINE_TOKEN")
            } else {
                h.value.clone()
            };
            cmd.push_str(&format!(
                " \\\n  -H {}",
                shell_quote(&format!("{}: {value}", h.name))
            ));
        }
        cmd.push_str(&format!(" \\\n  --data-binary {}", shell_quote(body_text)));
        cmd
    }
}

fn shell_quote(s: &str) -> String {
    if s.contains("$LOOPLINE_TOKEN") {
        // Double quotes so the shell expands the token variable; escape what they treat specially.
        let escaped = s
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('`', "\\`");
        let escaped = escaped
            .replace('$', "\\$")
            .replace("\\$LOOPLINE_TOKEN", "$LOOPLINE_TOKEN");
        format!("\"{escaped}\"")
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_quote;

    #[test]
    fn quotes_for_the_shell() {
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(
            shell_quote("X-Loopline-Token: $LOOPLINE_TOKEN"),
            "\"X-Loopline-Token: $LOOPLINE_TOKEN\""
        );
    }
}
