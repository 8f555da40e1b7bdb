//! What the tray icon shows: one level (all well, needs attention, working), a headline for
//! the tooltip, and the menu's lines. Worked out from what the engine already knows.

use loopline_core::{
    ApiError, CompanionLevel, CompanionStatus, EventQuery, EventSummary, ReceiverState,
    ReceiverStatus, RetrainRule, Run, RunStatus, SetupStep, TunnelState, TunnelStatus,
};

use crate::Engine;

/// Everything the summary reads, gathered first so the summary itself is a pure function.
pub struct StatusInputs<'a> {
    pub receiver: &'a ReceiverStatus,
    pub tunnel: &'a TunnelStatus,
    pub setup: &'a [SetupStep],
    pub rules: &'a [RetrainRule],
    /// The newest runs, newest first.
    pub runs: &'a [Run],
    pub last_event: Option<&'a EventSummary>,
    /// Outbox items due or in flight (exports, run starts, webhook updates).
    pub outbox_busy: i64,
    /// Label Studio webhooks Loopline found turned off or deleted since the last good check.
    pub webhook_problems: Vec<String>,
    /// Another process on this data directory (the app, `loopline serve`) is receiving:
    /// what `loopline status` sees from the CLI, whose own receiver never runs.
    pub receiving_elsewhere: bool,
}

pub fn summarize(i: &StatusInputs<'_>) -> CompanionStatus {
    let mut attention = Vec::new();
    let mut working = Vec::new();
    match i.receiver.state {
        ReceiverState::Running => {}
        _ if i.receiving_elsewhere => {}
        ReceiverState::Starting => working.push("The receiver is starting.".to_string()),
        _ => attention.push(format!(
            "The receiver is not running{}.",
            i.receiver
                .error
                .as_ref()
                .map(|e| format!(": {}", e.message))
                .unwrap_or_default()
        )),
    }
    let tunnel = match (&i.tunnel.provider, i.tunnel.state) {
        (None, _) => "Tunnel: not configured".to_string(),
        (Some(p), TunnelState::Reachable) => format!("Tunnel: reachable ({p})"),
        (Some(p), TunnelState::Starting) => format!("Tunnel: connecting ({p})"),
        (Some(p), TunnelState::Stopped) => format!("Tunnel: stopped ({p})"),
        (Some(p), TunnelState::Unreachable) => format!("Tunnel: down ({p})"),
    };
    if i.tunnel.provider.is_some() && i.tunnel.state == TunnelState::Unreachable {
        attention.push(format!(
            "The tunnel is down{}: Label Studio cannot reach Loopline.",
            i.tunnel
                .error
                .as_ref()
                .map(|e| format!(" ({})", e.message))
                .unwrap_or_default()
        ));
    }
    let left = i.setup.iter().filter(|s| !s.status.is_done()).count();
    if left > 0 {
        attention.push(format!(
            "Setup is incomplete: {left} of {} steps left.",
            i.setup.len()
        ));
    }
    // Only the newest run of each rule: a failure an hour ago that a later run fixed is news
    // no more.
    let mut seen = std::collections::BTreeSet::new();
    for run in i.runs {
        if !seen.insert(run.rule_id.as_str()) {
            continue;
        }
        if matches!(run.status, RunStatus::Failed | RunStatus::StartFailed) {
            attention.push(format!(
                "Retrain run {} {}.",
                run.id,
                failed_word(run.status)
            ));
        } else if run.status.is_running() {
            working.push(format!("Retrain run {} is executing.", run.id));
        }
    }
    attention.extend(i.webhook_problems.iter().cloned());
    if i.outbox_busy > 0 {
        let what = if i.outbox_busy == 1 {
            "delivery"
        } else {
            "deliveries"
        };
        working.push(format!("{} {what} in progress.", i.outbox_busy));
    }
    let next_retrain = i
        .rules
        .iter()
        .find(|r| !r.dry_run)
        .or_else(|| i.rules.first())
        .map(|r| match r.count {
            None => format!("Next retrain: waiting for annotations ({})", r.pipeline),
            Some(c) => {
                let every = r.every.max(1);
                let into = c.saturating_sub(r.fired_bucket * every).clamp(0, every);
                format!("Next retrain: {into} of {every} ({})", r.pipeline)
            }
        });
    let last_event = i.last_event.map(|e| {
        format!(
            "Last event: {}{}",
            e.action.as_deref().unwrap_or("event"),
            e.source_name
                .as_deref()
                .map(|s| format!(" from {s}"))
                .unwrap_or_default()
        )
    });
    let (level, headline, reasons) = if !attention.is_empty() {
        let head = format!("Loopline needs attention: {}", attention[0]);
        (
            CompanionLevel::Attention,
            head,
            [attention, working].concat(),
        )
    } else if !working.is_empty() {
        let head = format!("Loopline is working: {}", working[0]);
        (CompanionLevel::Working, head, working)
    } else {
        (
            CompanionLevel::Ok,
            "Loopline: receiving, all is well".to_string(),
            Vec::new(),
        )
    };
    CompanionStatus {
        level,
        headline,
        reasons,
        public_url: i.tunnel.public_url.clone(),
        tunnel,
        next_retrain,
        last_event,
        last_event_at_ms: i.last_event.map(|e| e.received_at_ms),
    }
}

fn failed_word(s: RunStatus) -> &'static str {
    match s {
        RunStatus::StartFailed => "could not start",
        _ => "failed",
    }
}

impl Engine {
    /// `loopline status`: what the tray shows.
    pub async fn companion_status(&self) -> Result<CompanionStatus, ApiError> {
        let receiver = self.receiver_status();
        let tunnel = self.tunnel_status().await?;
        let setup = self.setup_status().await?;
        let rules = self.list_rules().await?;
        let runs = self.list_runs(20).await?;
        let last = self
            .store
            .list_events(&EventQuery {
                limit: Some(1),
                ..Default::default()
            })
            .await?;
        let outbox_busy = self.store.outbox_busy(self.clock.now_ms()).await?;
        let webhook_problems = self.webhook_problems().await;
        let receiving_elsewhere = receiver.state != ReceiverState::Running
            && self
                .processes()
                .await
                .map(|p| p.iter().any(|p| p.kind == "app" || p.kind == "serve"))
                .unwrap_or(false);
        Ok(summarize(&StatusInputs {
            receiver: &receiver,
            tunnel: &tunnel,
            setup: &setup,
            rules: &rules,
            runs: &runs,
            last_event: last.first(),
            outbox_busy,
            webhook_problems,
            receiving_elsewhere,
        }))
    }

    /// Webhooks that Label Studio turned off or deleted and Loopline could not put back:
    /// the newest webhook notice per project, when it says so.
    async fn webhook_problems(&self) -> Vec<String> {
        let query = EventQuery {
            action: Some("LOOPLINE_WEBHOOK_DELETED".into()),
            limit: Some(5),
            ..Default::default()
        };
        let Ok(deleted) = self.store.list_events(&query).await else {
            return Vec::new();
        };
        let Ok(hooks) = self.registered_hooks().await else {
            return Vec::new();
        };
        // A deletion matters while no webhook is registered for that project again.
        deleted
            .into_iter()
            .filter(|e| {
                e.project_id
                    .is_some_and(|p| !hooks.iter().any(|h| h.project_id == p))
            })
            .map(|e| e.summary)
            .take(1)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use loopline_core::{ApiError, ErrorCode, StepStatus};

    fn receiver() -> ReceiverStatus {
        ReceiverStatus {
            state: ReceiverState::Running,
            listen: "127.0.0.1:8787".into(),
            error: None,
            suggested_listen: None,
        }
    }

    fn tunnel(state: TunnelState) -> TunnelStatus {
        let mut t = TunnelStatus::stopped(Some("bore"), "");
        t.state = state;
        t.public_url = Some("http://127.0.0.1:4000".into());
        t
    }

    fn step(status: StepStatus) -> SetupStep {
        SetupStep {
            key: "s3.bucket".into(),
            title: "Bucket".into(),
            resource: "s3://b".into(),
            status,
            summary: String::new(),
            detail: None,
            error: None,
            at: None,
        }
    }

    fn inputs<'a>(
        r: &'a ReceiverStatus,
        t: &'a TunnelStatus,
        s: &'a [SetupStep],
    ) -> StatusInputs<'a> {
        StatusInputs {
            receiver: r,
            tunnel: t,
            setup: s,
            rules: &[],
            runs: &[],
            last_event: None,
            outbox_busy: 0,
            webhook_problems: vec![],
            receiving_elsewhere: false,
        }
    }

    #[test]
    fn all_well_when_receiving_through_a_reachable_tunnel_with_setup_done() {
        let (r, t, s) = (
            receiver(),
            tunnel(TunnelState::Reachable),
            [step(StepStatus::Created)],
        );
        let st = summarize(&inputs(&r, &t, &s));
        assert_eq!(st.level, CompanionLevel::Ok);
        assert_eq!(st.tunnel, "Tunnel: reachable (bore)");
        assert_eq!(st.public_url.as_deref(), Some("http://127.0.0.1:4000"));
    }

    #[test]
    fn a_tunnel_down_or_setup_left_needs_attention_and_says_why() {
        let (r, mut t, s) = (
            receiver(),
            tunnel(TunnelState::Unreachable),
            [step(StepStatus::Created)],
        );
        t.error = Some(ApiError::new(
            ErrorCode::TunnelUnreachable,
            "connection refused",
        ));
        let st = summarize(&inputs(&r, &t, &s));
        assert_eq!(st.level, CompanionLevel::Attention);
        assert!(
            st.headline.contains("tunnel is down (connection refused)"),
            "{}",
            st.headline
        );
        let t = tunnel(TunnelState::Reachable);
        let s = [step(StepStatus::Created), step(StepStatus::Failed)];
        let st = summarize(&inputs(&r, &t, &s));
        assert_eq!(st.level, CompanionLevel::Attention);
        assert!(st.headline.contains("1 of 2 steps left"));
    }

    #[test]
    fn deliveries_in_progress_are_working() {
        let (r, t, s) = (
            receiver(),
            tunnel(TunnelState::Reachable),
            [step(StepStatus::Created)],
        );
        let mut i = inputs(&r, &t, &s);
        i.outbox_busy = 2;
        let st = summarize(&i);
        assert_eq!(st.level, CompanionLevel::Working);
        assert_eq!(st.reasons, vec!["2 deliveries in progress.".to_string()]);
    }
}
