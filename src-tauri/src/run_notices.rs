//! A desktop notification when a retrain run ends, sent from the shell (not the webview) so
//! it comes whichever page is open, or with the window hidden.

use std::sync::Arc;

use loopline_core::{Run, RunStatus};
use loopline_engine::Engine;
use tauri::{AppHandle, Runtime};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast;

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

/// The engine announces each run that ended (whichever process recorded it); this only
/// turns the announcement into a desktop notification.
pub fn forward_run_endings<R: Runtime>(app: AppHandle<R>, engine: Arc<Engine>) {
    let mut endings = engine.subscribe_run_endings();
    tauri::async_runtime::spawn(async move {
        loop {
            let run = match endings.recv().await {
                Ok(run) => run,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            };
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
        }
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
