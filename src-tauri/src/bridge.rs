use std::sync::Arc;

use loopline_engine::Engine;
use tauri::{AppHandle, Emitter, Runtime};

/// The event name the UI listens on for receiver changes.
pub const RECEIVER_STATUS_EVENT: &str = "receiver-status";

/// Pushes every receiver state change to the webview, so the status bar is live without
/// polling.
pub fn forward_receiver_status<R: Runtime>(app: AppHandle<R>, engine: Arc<Engine>) {
    let mut updates = engine.subscribe_receiver();
    tauri::async_runtime::spawn(async move {
        while updates.changed().await.is_ok() {
            let status = updates.borrow_and_update().clone();
            if app.emit(RECEIVER_STATUS_EVENT, status).is_err() {
                break;
            }
        }
    });
}

/// The event name the UI listens on for new or changed events.
pub const TIMELINE_CHANGED_EVENT: &str = "timeline-changed";
/// At most this often, so a burst of thousands of webhooks reaches the UI as a few batches.
const TIMELINE_THROTTLE: std::time::Duration = std::time::Duration::from_millis(250);

pub fn forward_timeline_changes<R: Runtime>(app: AppHandle<R>, engine: Arc<Engine>) {
    let mut updates = engine.subscribe_timeline();
    tauri::async_runtime::spawn(async move {
        while updates.changed().await.is_ok() {
            let change = updates.borrow_and_update().clone();
            if app.emit(TIMELINE_CHANGED_EVENT, change).is_err() {
                break;
            }
            tokio::time::sleep(TIMELINE_THROTTLE).await;
        }
    });
}

/// The event name the UI listens on when a rule's progress or a run changes.
pub const RUNS_CHANGED_EVENT: &str = "runs-changed";

pub fn forward_runs_changes<R: Runtime>(app: AppHandle<R>, engine: Arc<Engine>) {
    let mut updates = engine.subscribe_runs();
    tauri::async_runtime::spawn(async move {
        while updates.changed().await.is_ok() {
            let revision = *updates.borrow_and_update();
            if app.emit(RUNS_CHANGED_EVENT, revision).is_err() {
                break;
            }
            tokio::time::sleep(TIMELINE_THROTTLE).await;
        }
    });
}
