//! Desktop notifications, sent from the shell (not the webview) so they come whichever page
//! is open, or with the window hidden. The engine decides what notifies (the settings' switches
//! and the rate limit); this only shows it.

use std::sync::Arc;

use loopline_engine::Engine;
use tauri::{AppHandle, Runtime};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast;

pub fn show_notification<R: Runtime>(app: &AppHandle<R>, title: &str, body: &str) {
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        // No notification service (a bare X session): the timeline still shows it.
        tracing::debug!("notification not shown: {e}");
    }
}

pub fn forward_notices<R: Runtime>(app: AppHandle<R>, engine: Arc<Engine>) {
    let mut notices = engine.subscribe_notices();
    tauri::async_runtime::spawn(async move {
        loop {
            match notices.recv().await {
                Ok(n) => {
                    tracing::info!(kind = n.kind.as_str(), "notification: {}", n.title);
                    show_notification(&app, &n.title, &n.body);
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
}
