//! What the tray menu's items and the window's close button do.

use loopline_core::CloseAction;
use tauri::{AppHandle, Manager, Runtime, Window, WindowEvent};
use tauri_plugin_clipboard_manager::ClipboardExt;

use crate::notices::show_notification;
use crate::tray::{TrayItems, COPY_URL, OPEN, QUIT};
use crate::EngineSlot;

pub fn show_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

pub fn on_menu<R: Runtime>(app: &AppHandle<R>, id: &str) {
    match id {
        OPEN => show_window(app),
        COPY_URL => {
            let url = app.try_state::<TrayItems<R>>().and_then(|t| t.public_url());
            if let Some(url) = url {
                if let Err(e) = app.clipboard().write_text(url) {
                    tracing::warn!("the public URL was not copied: {e}");
                }
            }
        }
        QUIT => quit(app),
        _ => {}
    }
}

/// Quit is always safe: the outbox is durable. When work is in flight, the notification says
/// what resumes at the next start.
pub fn quit<R: Runtime>(app: &AppHandle<R>) {
    if let Some(engine) = app.try_state::<EngineSlot>().and_then(|s| s.engine().ok()) {
        if let Ok(plan) = tauri::async_runtime::block_on(engine.quit_plan()) {
            tracing::info!("{}", plan.message);
            if !plan.resumes.is_empty() {
                show_notification(app, "Loopline quit", &plan.message);
            }
        }
    }
    app.exit(0);
}

/// Closing the window hides it, unless the user chose "quit Loopline" in Settings. The
/// first time, a notification says that Loopline keeps receiving and how to quit it.
pub fn on_window_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    let WindowEvent::CloseRequested { api, .. } = event else {
        return;
    };
    let app = window.app_handle();
    let Some(engine) = app.try_state::<EngineSlot>().and_then(|s| s.engine().ok()) else {
        // No engine (the error screen): nothing is receiving, so closing quits.
        return;
    };
    let prefs = tauri::async_runtime::block_on(engine.companion_prefs()).unwrap_or_default();
    if prefs.on_close == CloseAction::Quit {
        return;
    }
    api.prevent_close();
    if let Err(e) = window.hide() {
        tracing::warn!("the window could not be hidden: {e}");
    }
    tracing::info!("window closed: Loopline keeps receiving in the background");
    if tauri::async_runtime::block_on(engine.take_first_close()).unwrap_or(false) {
        let tray = app.try_state::<TrayItems<R>>().is_some();
        show_notification(
            app,
            "Loopline is still receiving",
            &first_close_message(tray),
        );
    }
}

pub fn first_close_message(tray: bool) -> String {
    let quit = if tray {
        "To stop it, choose Quit Loopline in its tray menu."
    } else {
        "This desktop shows no tray icon: to stop it, open Loopline again and choose Quit in Settings."
    };
    format!(
        "Webhooks, the tunnel and your runs keep going with the window closed. {quit} \
         Opening Loopline again brings this window back. \
         Settings → When I close the window changes this."
    )
}
