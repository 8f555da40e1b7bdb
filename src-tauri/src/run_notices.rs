//! A desktop notification when a retrain run ends, sent from the shell (not the webview) so
//! it comes whichever page is open, or with the window hidden.

use std::collections::HashMap;
use std::sync::Arc;

use loopline_core::{Run, RunStatus};
use loopline_engine::Engine;
use tauri::{AppHandle, Runtime};
use tauri_plugin_notification::NotificationExt;

/// Runs that ended since `seen` was last updated: only those seen unfinished, so starting
/// the app with finished runs in the history is quiet.
pub fn newly_ended(seen: &mut HashMap<i64, RunStatus>, runs: &[Run]) -> Vec<Run> {
    let mut ended = Vec::new();
    for run in runs {
        let before = seen.insert(run.id, run.status);
        let was_open = before.is_some_and(|b| b.is_active() || b == RunStatus::Held);
        let is_end = matches!(
            run.status,
            RunStatus::Succeeded | RunStatus::Failed | RunStatus::Stopped | RunStatus::StartFailed
        );
        if was_open && is_end {
            ended.push(run.clone());
        }
    }
    ended
}

/// The notification's title and body.
pub fn notice(run: &Run) -> (String, String) {
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
    (
        format!("Retrain run {} {verb}", run.id),
        format!(
            "{} (triggered at {} annotations).{why}",
            run.pipeline, run.count
        ),
    )
}

pub fn forward_run_endings<R: Runtime>(app: AppHandle<R>, engine: Arc<Engine>) {
    let mut updates = engine.subscribe_runs();
    tauri::async_runtime::spawn(async move {
        let mut seen = HashMap::new();
        if let Ok(runs) = engine.list_runs(200).await {
            newly_ended(&mut seen, &runs);
        }
        while updates.changed().await.is_ok() {
            let Ok(runs) = engine.list_runs(200).await else {
                continue;
            };
            for run in newly_ended(&mut seen, &runs) {
                let (title, body) = notice(&run);
                if let Err(e) = app
                    .notification()
                    .builder()
                    .title(&title)
                    .body(&body)
                    .show()
                {
                    // No notification service (a bare X session): the Runs page still shows it.
                    tracing::debug!("notification not shown: {e}");
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

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
        }
    }

    #[test]
    fn only_runs_seen_open_notify_once_when_they_end() {
        let mut seen = HashMap::new();
        assert!(newly_ended(
            &mut seen,
            &[run(1, RunStatus::Succeeded), run(2, RunStatus::Executing)]
        )
        .is_empty());
        let ended = newly_ended(
            &mut seen,
            &[run(1, RunStatus::Succeeded), run(2, RunStatus::Failed)],
        );
        assert_eq!(ended.iter().map(|r| r.id).collect::<Vec<_>>(), vec![2]);
        assert!(
            newly_ended(&mut seen, &[run(2, RunStatus::Failed)]).is_empty(),
            "once"
        );
        assert_eq!(
            newly_ended(&mut seen, &[run(3, RunStatus::Pending)]).len(),
            0
        );
        assert_eq!(
            newly_ended(&mut seen, &[run(3, RunStatus::StartFailed)]).len(),
            1
        );
    }

    #[test]
    fn the_notice_says_what_happened() {
        let (title, body) = notice(&run(2, RunStatus::Failed));
        assert_eq!(title, "Retrain run 2 failed");
        assert!(body.contains("train") && body.contains("32") && body.contains("out of memory"));
        let (title, body) = notice(&run(3, RunStatus::Succeeded));
        assert_eq!(title, "Retrain run 3 succeeded");
        assert!(!body.contains("out of memory"));
    }
}
