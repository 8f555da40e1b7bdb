//! `loopline status`, `loopline settings show|set` and `loopline autostart on|off|status`:
//! the tray's status line, the companion's settings and the login entry, as the app's
//! Settings page and tray show them.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use loopline_core::{ApiError, CloseAction, ErrorCode, NoticeKind};
use loopline_engine::Engine;

use crate::global_args::{GlobalArgs, JsonFlag};
use crate::output::print_json;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OnClose {
    /// Hide the window and keep receiving in the tray.
    KeepReceiving,
    /// Quit Loopline.
    Quit,
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// What closing the window does and what notifies.
    Show(JsonFlag),
    /// Change them; what is not given stays as it is.
    Set {
        /// When I close the window: keep receiving in the tray, or quit Loopline.
        #[arg(long, value_enum)]
        on_close: Option<OnClose>,
        /// A notification switch, e.g. `--notify aquarium_issue=off` (repeatable). Kinds:
        /// run_ended, aquarium_issue, webhook_off, tunnel_down, loop_check_failed, catch_up.
        #[arg(long, value_name = "KIND=on|off")]
        notify: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

impl SettingsCommand {
    pub fn json(&self) -> bool {
        match self {
            SettingsCommand::Show(f) => f.json,
            SettingsCommand::Set { json, .. } => *json,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum AutostartCommand {
    /// Start Loopline when I log in, in the tray, without a window.
    On {
        /// The desktop app to start (default: `loopline-app` beside this program).
        #[arg(long, value_name = "PATH")]
        app: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Remove the login entry.
    Off(JsonFlag),
    /// Whether the login entry exists, and what it starts.
    Status(JsonFlag),
}

impl AutostartCommand {
    pub fn json(&self) -> bool {
        match self {
            AutostartCommand::On { json, .. } => *json,
            AutostartCommand::Off(f) | AutostartCommand::Status(f) => f.json,
        }
    }
}

fn parse_switch(s: &str) -> Result<(NoticeKind, bool), ApiError> {
    let known = || {
        NoticeKind::ALL
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (k, v) = s.split_once('=').ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidArgument,
            format!(
                "--notify takes KIND=on|off, e.g. aquarium_issue=off. Kinds: {}.",
                known()
            ),
        )
    })?;
    let kind = NoticeKind::parse(k.trim()).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidArgument,
            format!("'{k}' is not a notification. Use one of {}.", known()),
        )
    })?;
    let on = match v.trim() {
        "on" | "true" | "yes" => true,
        "off" | "false" | "no" => false,
        other => {
            return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                format!("--notify {k}={other}: the value is on or off."),
            ))
        }
    };
    Ok((kind, on))
}

pub async fn status(global: &GlobalArgs, f: JsonFlag) -> Result<(), ApiError> {
    let engine = Engine::open(global.engine_options()).await?;
    let result = engine.companion_status().await;
    engine.shutdown().await;
    let status = result?;
    if f.json {
        return print_json(&status);
    }
    println!("{}", status.headline);
    for r in status.reasons.iter().skip(1) {
        println!("  {r}");
    }
    println!("{}", status.tunnel);
    if let Some(url) = &status.public_url {
        println!("Public URL: {url}");
    }
    for line in [&status.next_retrain, &status.last_event]
        .into_iter()
        .flatten()
    {
        println!("{line}");
    }
    Ok(())
}

pub async fn settings(global: &GlobalArgs, cmd: SettingsCommand) -> Result<(), ApiError> {
    let engine = Engine::open(global.engine_options()).await?;
    let json = cmd.json();
    let result = async {
        let mut prefs = engine.companion_prefs().await?;
        if let SettingsCommand::Set {
            on_close, notify, ..
        } = cmd
        {
            let switches = notify
                .iter()
                .map(|s| parse_switch(s))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(c) = on_close {
                prefs.on_close = match c {
                    OnClose::KeepReceiving => CloseAction::KeepReceiving,
                    OnClose::Quit => CloseAction::Quit,
                };
            }
            for (kind, on) in switches {
                prefs.notify.set(kind, on);
            }
            prefs = engine.set_companion_prefs(&prefs).await?;
        }
        Ok::<_, ApiError>(prefs)
    }
    .await;
    engine.shutdown().await;
    let prefs = result?;
    if json {
        return print_json(&prefs);
    }
    println!(
        "When I close the window: {}",
        match prefs.on_close {
            CloseAction::KeepReceiving => "keep receiving in the tray",
            CloseAction::Quit => "quit Loopline",
        }
    );
    for kind in NoticeKind::ALL {
        let on = if prefs.notify.allows(kind) {
            "on"
        } else {
            "off"
        };
        println!("  notify {:<18} {on}", kind.as_str());
    }
    Ok(())
}

/// `loopline-app` beside this binary: where the package and a cargo build both put it.
fn default_app() -> Result<PathBuf, ApiError> {
    let name = if cfg!(windows) {
        "loopline-app.exe"
    } else {
        "loopline-app"
    };
    let found = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join(name)))
        .filter(|p| p.exists());
    found.ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidArgument,
            format!("The desktop app ({name}) is not beside this program. Give its path with --app PATH."),
        )
    })
}

pub async fn autostart(global: &GlobalArgs, cmd: AutostartCommand) -> Result<(), ApiError> {
    let json = cmd.json();
    let status = match cmd {
        AutostartCommand::Status(_) => loopline_engine::companion::autostart_status(),
        AutostartCommand::On { app, .. } => {
            let app = match app {
                Some(a) => std::path::absolute(&a).unwrap_or(a),
                None => default_app()?,
            };
            let engine = Engine::open(global.engine_options()).await?;
            let r = engine.set_autostart(true, &app);
            engine.shutdown().await;
            r?
        }
        AutostartCommand::Off(_) => {
            let engine = Engine::open(global.engine_options()).await?;
            let r = engine.set_autostart(false, std::path::Path::new(""));
            engine.shutdown().await;
            r?
        }
    };
    if json {
        return print_json(&status);
    }
    match (status.enabled, &status.entry) {
        (true, Some(entry)) => println!(
            "Loopline starts at login, in the tray: {entry}\n  {}",
            status.command.as_deref().unwrap_or("")
        ),
        (true, None) => println!("Loopline starts at login, in the tray."),
        (false, _) => println!("Loopline does not start at login."),
    }
    Ok(())
}
