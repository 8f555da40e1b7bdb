//! Start at login, in the tray, without a window (`--hidden`).
//!
//! On Linux this is an XDG autostart entry, `$XDG_CONFIG_HOME/autostart/loopline.desktop`,
//! written here rather than by tauri-plugin-autostart: the plugin's `auto-launch` backend
//! ignores `XDG_CONFIG_HOME` and writes the program's path unquoted into `Exec`, which breaks
//! on a path with a space. The CLI (`loopline autostart on|off`) and the app share this code.
//! macOS (a LaunchAgent, which keeps `--hidden`; an AppleScript login item would drop the
//! arguments) and Windows (the Run key) go through `auto-launch`, with the program and
//! arguments quoted first (`launch_args.rs`).

use std::path::{Path, PathBuf};

use loopline_core::{ApiError, AutostartStatus, ErrorCode};

use crate::Engine;

/// What the login entry starts.
#[derive(Debug, Clone)]
pub struct AutostartTarget {
    /// The desktop app's executable (for an AppImage, the AppImage itself, not its mount).
    pub app: PathBuf,
    /// A data directory other than the default, passed on as `--data-dir`.
    pub data_dir: Option<PathBuf>,
}

impl AutostartTarget {
    pub fn args(&self) -> Vec<String> {
        let mut args = vec!["--hidden".to_string()];
        if let Some(d) = &self.data_dir {
            args.push("--data-dir".into());
            args.push(d.display().to_string());
        }
        args
    }
}

fn failed(what: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        ErrorCode::AutostartFailed,
        format!("Loopline could not {what} the login entry ({e}). Check that your user can write to that folder, and try again."),
    )
}

impl Engine {
    /// Turns start-at-login on or off (`loopline autostart on|off`). Turning it off removes
    /// the entry; both are safe to repeat.
    pub fn set_autostart(&self, on: bool, app: &Path) -> Result<AutostartStatus, ApiError> {
        let data_dir = (crate::default_data_dir().ok().as_ref() != Some(&self.data_dir))
            .then(|| self.data_dir.clone());
        let target = AutostartTarget {
            app: app.to_path_buf(),
            data_dir,
        };
        set_autostart(on, &target)
    }
}

#[cfg(target_os = "linux")]
mod platform {
    use super::*;

    pub fn entry_path() -> Option<PathBuf> {
        let config = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| dirs::home_dir().map(|h| h.join(".config")))?;
        Some(config.join("autostart").join("loopline.desktop"))
    }

    /// One `Exec` argument, quoted as the Desktop Entry spec asks when it must be.
    pub fn exec_arg(arg: &str) -> String {
        let plain = !arg.is_empty()
            && arg
                .chars()
                .all(|c| !c.is_whitespace() && !"\"'\\><~|&;$*?#()`%".contains(c));
        if plain {
            return arg.to_string();
        }
        let mut out = String::from("\"");
        for c in arg.chars() {
            match c {
                // Escaped for the quoting rule, then the backslash again for the string
                // value the whole key is.
                '"' | '`' | '$' => {
                    out.push_str("\\\\");
                    out.push(c);
                }
                '\\' => out.push_str("\\\\\\\\"),
                '%' => out.push_str("%%"),
                _ => out.push(c),
            }
        }
        out.push('"');
        out
    }

    pub fn entry_text(target: &AutostartTarget) -> String {
        let exec = std::iter::once(target.app.display().to_string())
            .chain(target.args())
            .map(|a| exec_arg(&a))
            .collect::<Vec<_>>()
            .join(" ");
        format!(
            "[Desktop Entry]\nType=Application\nName=Loopline\n\
             Comment=Receive Label Studio and Aquarium webhooks in the tray\n\
             Exec={exec}\nIcon=loopline-app\nTerminal=false\nStartupNotify=false\n\
             X-GNOME-Autostart-enabled=true\n"
        )
    }

    pub fn set(on: bool, target: &AutostartTarget) -> Result<(), ApiError> {
        let path = entry_path().ok_or_else(|| failed("find the folder for", "no home folder"))?;
        if on {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| failed("write", e))?;
            }
            // Written beside it and renamed: a half-written entry never runs at login.
            let tmp = path.with_extension("desktop.tmp");
            std::fs::write(&tmp, entry_text(target)).map_err(|e| failed("write", e))?;
            std::fs::rename(&tmp, &path).map_err(|e| failed("write", e))?;
        } else {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(failed("remove", e)),
            }
        }
        Ok(())
    }

    pub fn status() -> AutostartStatus {
        let path = entry_path();
        let text = path.as_ref().and_then(|p| std::fs::read_to_string(p).ok());
        let command = text.as_deref().and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("Exec="))
                .map(str::to_string)
        });
        AutostartStatus {
            enabled: text.is_some(),
            entry: path.map(|p| p.display().to_string()),
            command,
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod platform {
    use super::*;

    fn launcher(target: &AutostartTarget) -> auto_launch::AutoLaunch {
        // auto-launch writes both as given: quoted for the Run key, escaped for the plist.
        #[cfg(windows)]
        let written = crate::companion::launch_args::windows_arg;
        #[cfg(target_os = "macos")]
        let written = crate::companion::launch_args::xml_text;
        #[cfg(not(any(windows, target_os = "macos")))]
        let written = |s: &str| s.to_string();
        let app = written(&target.app.display().to_string());
        let args: Vec<String> = target.args().iter().map(|a| written(a)).collect();
        auto_launch::AutoLaunchBuilder::new()
            .set_app_name("Loopline")
            .set_app_path(&app)
            .set_macos_launch_mode(auto_launch::MacOSLaunchMode::LaunchAgent)
            .set_args(&args)
            .build()
            .expect("app name and path are set")
    }

    pub fn set(on: bool, target: &AutostartTarget) -> Result<(), ApiError> {
        let l = launcher(target);
        if on {
            l.enable().map_err(|e| failed("write", e))
        } else if l.is_enabled().unwrap_or(false) {
            l.disable().map_err(|e| failed("remove", e))
        } else {
            Ok(())
        }
    }

    pub fn status() -> AutostartStatus {
        let exe = std::env::current_exe().unwrap_or_default();
        let l = launcher(&AutostartTarget {
            app: exe,
            data_dir: None,
        });
        AutostartStatus {
            enabled: l.is_enabled().unwrap_or(false),
            entry: None,
            command: None,
        }
    }
}

pub fn set_autostart(on: bool, target: &AutostartTarget) -> Result<AutostartStatus, ApiError> {
    platform::set(on, target)?;
    Ok(autostart_status())
}

pub fn autostart_status() -> AutostartStatus {
    platform::status()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::platform::*;
    use super::*;

    #[test]
    fn the_entry_starts_the_app_hidden_and_quotes_a_path_with_spaces() {
        let text = entry_text(&AutostartTarget {
            app: PathBuf::from("/home/ana maria/Apps/loopline-app"),
            data_dir: Some(PathBuf::from("/data/Loopline 100%")),
        });
        assert!(
            text.contains("Exec=\"/home/ana maria/Apps/loopline-app\" --hidden --data-dir \"/data/Loopline 100%%\"\n"),
            "{text}"
        );
        assert!(text.starts_with("[Desktop Entry]\nType=Application\n"));
        assert_eq!(exec_arg("/usr/bin/loopline-app"), "/usr/bin/loopline-app");
        assert_eq!(exec_arg("a\"b"), "\"a\\\\\"b\"");
    }
}
