//! The tray icon: its picture and tooltip show the state at a glance, and its menu holds
//! every action (with the appindicator backend, clicks on the icon never arrive; with ksni,
//! which Loopline uses on Linux, a click opens the window too).

use std::sync::Arc;
use std::time::Duration;

use loopline_core::{CompanionLevel, CompanionStatus};
use loopline_engine::Engine;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime};

use crate::tray_icon_image::icon_for;
use crate::EngineSlot;

pub const OPEN: &str = "open";
pub const COPY_URL: &str = "copy_url";
pub const QUIT: &str = "quit";
/// The status is read again at least this often, for "the tunnel went down" without any
/// event. Slow on purpose: the companion runs all day.
const REFRESH: Duration = Duration::from_secs(15);
/// Changes closer together than this are shown together.
const SETTLE: Duration = Duration::from_millis(500);

/// The menu's lines that change, kept to update them in place.
pub struct TrayItems<R: Runtime> {
    pub tray: TrayIcon<R>,
    url: MenuItem<R>,
    tunnel: MenuItem<R>,
    retrain: MenuItem<R>,
    last: MenuItem<R>,
    level: std::sync::Mutex<Option<CompanionLevel>>,
    public_url: std::sync::Mutex<Option<String>>,
}

/// Creates the tray icon. `None` where the desktop has no tray (GNOME without the
/// AppIndicator extension): closing the window still keeps Loopline receiving, and
/// launching it again brings the window back.
pub fn create<R: Runtime>(app: &AppHandle<R>) -> Option<()> {
    match build(app) {
        Ok(items) => {
            app.manage(items);
            keep_current(app.clone());
            Some(())
        }
        Err(e) => {
            tracing::warn!("no tray icon: {e}. Launch Loopline again to show its window.");
            None
        }
    }
}

fn build<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<TrayItems<R>> {
    let open = MenuItem::with_id(app, OPEN, "Open Loopline", true, None::<&str>)?;
    let url = MenuItem::with_id(app, COPY_URL, "Public URL: none yet", false, None::<&str>)?;
    let tunnel = MenuItem::with_id(app, "tunnel", "Tunnel: …", false, None::<&str>)?;
    let retrain = MenuItem::with_id(
        app,
        "retrain",
        "Next retrain: no rule yet",
        false,
        None::<&str>,
    )?;
    let last = MenuItem::with_id(
        app,
        "last_event",
        "Last event: none yet",
        false,
        None::<&str>,
    )?;
    let quit = MenuItem::with_id(app, QUIT, "Quit Loopline", true, None::<&str>)?;
    let sep = || PredefinedMenuItem::separator(app);
    let menu = Menu::with_items(
        app,
        &[
            &open,
            &sep()?,
            &url,
            &tunnel,
            &retrain,
            &last,
            &sep()?,
            &quit,
        ],
    )?;
    let tray = TrayIconBuilder::with_id("loopline")
        .icon(icon_for(CompanionLevel::Working))
        .tooltip("Loopline: starting")
        .title("Loopline")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| crate::tray_actions::on_menu(app, event.id().as_ref()))
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                ..
            } = event
            {
                crate::tray_actions::show_window(tray.app_handle());
            }
        })
        .build(app)?;
    Ok(TrayItems {
        tray,
        url,
        tunnel,
        retrain,
        last,
        level: Default::default(),
        public_url: Default::default(),
    })
}

impl<R: Runtime> TrayItems<R> {
    pub fn public_url(&self) -> Option<String> {
        self.public_url.lock().ok().and_then(|u| u.clone())
    }

    fn show(&self, s: &CompanionStatus, now_ms: i64) {
        let mut tooltip = s.headline.clone();
        for r in s.reasons.iter().skip(1) {
            tooltip.push('\n');
            tooltip.push_str(r);
        }
        if let Ok(mut level) = self.level.lock() {
            if *level != Some(s.level) {
                let _ = self.tray.set_icon(Some(icon_for(s.level)));
                *level = Some(s.level);
            }
        }
        match &s.public_url {
            Some(u) => {
                let _ = self.url.set_text(format!("Copy public URL: {u}"));
                let _ = self.url.set_enabled(true);
            }
            None => {
                let _ = self.url.set_text("Public URL: none (no tunnel)");
                let _ = self.url.set_enabled(false);
            }
        }
        if let Ok(mut u) = self.public_url.lock() {
            *u = s.public_url.clone();
        }
        let _ = self.tunnel.set_text(&s.tunnel);
        let _ = self.retrain.set_text(
            s.next_retrain
                .as_deref()
                .unwrap_or("Next retrain: no rule yet"),
        );
        let last = match (&s.last_event, s.last_event_at_ms) {
            (Some(e), Some(at)) => format!("{e}, {}", ago(now_ms - at)),
            _ => "Last event: none yet".to_string(),
        };
        let _ = self.last.set_text(last);
        // Last: with ksni, setting the tooltip is what republishes the menu, so the menu's new
        // lines go out with it.
        let _ = self.tray.set_tooltip(Some(&tooltip));
    }
}

/// "just now", "4 min ago", "3 h ago", "2 days ago".
pub fn ago(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=86_399 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86_400),
    }
}

/// Keeps the tray current: on every engine change (a webhook, a run, the receiver), and
/// every `REFRESH` for what changes without an event (the tunnel, "4 min ago").
fn keep_current<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        loop {
            let Some(engine) = app.try_state::<EngineSlot>().and_then(|s| s.engine().ok()) else {
                // The engine is not open (the error screen shows why); look again later.
                tokio::time::sleep(REFRESH).await;
                continue;
            };
            follow(&app, &engine).await;
        }
    });
}

/// Follows one engine until the slot holds another (after "Try again" or another folder).
async fn follow<R: Runtime>(app: &AppHandle<R>, engine: &Arc<Engine>) {
    let mut timeline = engine.subscribe_timeline();
    let mut runs = engine.subscribe_runs();
    let mut receiver = engine.subscribe_receiver();
    loop {
        match (
            app.try_state::<TrayItems<R>>(),
            engine.companion_status().await,
        ) {
            (Some(items), Ok(status)) => items.show(&status, engine.now_ms()),
            (None, _) => {}
            (_, Err(e)) => {
                tracing::warn!(code = %e.code, "the tray's status was not read: {}", e.message)
            }
        }
        tokio::select! {
            _ = timeline.changed() => {}
            _ = runs.changed() => {}
            _ = receiver.changed() => {}
            _ = tokio::time::sleep(REFRESH) => {}
        }
        tokio::time::sleep(SETTLE).await;
        let same = app
            .try_state::<EngineSlot>()
            .and_then(|s| s.engine().ok())
            .is_some_and(|e| Arc::ptr_eq(&e, engine));
        if !same {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ago;

    #[test]
    fn ages_read_like_a_person_would_say_them() {
        assert_eq!(ago(5_000), "just now");
        assert_eq!(ago(4 * 60_000 + 10), "4 min ago");
        assert_eq!(ago(3 * 3_600_000), "3 h ago");
        assert_eq!(ago(2 * 86_400_000), "2 days ago");
    }
}
