//! The desktop shell: a window over the same engine that `loopline serve` runs.
//!
//! This crate only wires things together: launch arguments, the engine's lifetime, command
//! adapters and the event bridge. Anything with logic belongs in `crates/`.

mod bridge;
pub mod command_table;
pub mod commands;
mod launch;
mod notices;
mod slot;
mod tray;
mod tray_actions;
mod tray_icon_image;

#[cfg(test)]
mod tests;

use tauri::{Manager, RunEvent, Runtime};

pub use tray_actions::first_close_message;

pub use launch::LaunchArgs;
pub use slot::EngineSlot;

/// Registers Loopline's commands and opens the engine when the app starts. Generic over the
/// runtime so the command layer can be tested with tauri's mock runtime.
pub fn app_builder<R: Runtime>(
    builder: tauri::Builder<R>,
    launch: LaunchArgs,
) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .invoke_handler(commands::handler())
        .on_window_event(tray_actions::on_window_event)
        .setup(move |app| {
            // Opened in setup, after the single-instance plugin has had its say, so a second
            // launch never opens the database or binds the port.
            start_engine(app.handle(), &launch);
            // The window is created hidden (tauri.conf.json) and shown here, unless started
            // at login with `--hidden`: then Loopline starts in the tray only. Shown before
            // the tray is built, so its first paint does not wait for the tray's D-Bus calls.
            if !launch.hidden {
                tray_actions::show_window(app.handle());
            }
            // The tray only in the real app: the mock runtime of the command-layer tests
            // has none.
            if launch.tray {
                tray::create(app.handle());
            }
            Ok(())
        })
}

/// Opens the engine beside the window (its first paint does not wait for the database),
/// starts the receiver, bridges its status to the webview and hands the engine to the
/// commands, which wait for it.
pub fn start_engine<R: Runtime>(app: &tauri::AppHandle<R>, launch: &LaunchArgs) {
    app.manage(EngineSlot::opening(launch.clone()));
    let (app, launch) = (app.clone(), launch.clone());
    tauri::async_runtime::spawn(async move {
        let opened = slot::open_engine(&launch).await;
        if let Ok(engine) = &opened {
            attach(&app, engine);
        }
        app.state::<EngineSlot>().replace(opened);
    });
}

/// Connects an opened engine to the webview: its pushed events and notifications.
pub(crate) fn attach<R: Runtime>(
    app: &tauri::AppHandle<R>,
    engine: &std::sync::Arc<loopline_engine::Engine>,
) {
    bridge::forward_receiver_status(app.clone(), engine.clone());
    bridge::forward_timeline_changes(app.clone(), engine.clone());
    bridge::forward_runs_changes(app.clone(), engine.clone());
    notices::forward_notices(app.clone(), engine.clone());
}

pub fn run() {
    loopline_engine::set_commit(env!("LOOPLINE_COMMIT"));
    // The app has no terminal: its log goes to the rotating file in the OS's log folder too.
    loopline_engine::logs::init(loopline_engine::logs::LogKind::App);
    let mut launch = LaunchArgs::from_env();
    launch.tray = true;
    let app = app_builder(
        tauri::Builder::default()
            .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
                // A second launch lands here: bring the running window forward instead (a
                // second `--hidden` start at login changes nothing).
                if !LaunchArgs::parse(argv.into_iter().skip(1)).hidden {
                    tray_actions::show_window(app);
                }
            }))
            // Size and position, not visibility: `--hidden` decides that.
            .plugin(
                tauri_plugin_window_state::Builder::default()
                    .with_state_flags(
                        tauri_plugin_window_state::StateFlags::all()
                            - tauri_plugin_window_state::StateFlags::VISIBLE,
                    )
                    .build(),
            ),
        launch,
    )
    .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!("error[internal]: Loopline could not start its window: {e}");
            std::process::exit(1);
        }
    };
    app.run(|handle, event| {
        if let RunEvent::Exit = event {
            if let Some(slot) = handle.try_state::<EngineSlot>() {
                if let Ok(engine) = slot.engine() {
                    tauri::async_runtime::block_on(engine.shutdown());
                }
            }
        }
    });
}
