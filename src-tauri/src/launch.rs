use std::path::PathBuf;

/// What the app was started with. The app takes the same `--data-dir` and `--listen` as
/// `loopline serve` (and `LOOPLINE_DATA_DIR`), so tests and power users can point it anywhere.
#[derive(Debug, Clone, Default)]
pub struct LaunchArgs {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
    /// `--hidden`: start in the tray without showing the window (the login entry's start).
    pub hidden: bool,
    /// Whether to create the tray icon: the real app does, the command-layer tests do not.
    pub tray: bool,
}

impl LaunchArgs {
    pub fn from_env() -> Self {
        let mut parsed = Self::parse(std::env::args().skip(1));
        if parsed.data_dir.is_none() {
            parsed.data_dir = std::env::var_os("LOOPLINE_DATA_DIR")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from);
        }
        parsed
    }

    /// Unknown arguments are ignored: desktop launchers and WebDriver add their own.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Self {
        let mut out = LaunchArgs::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (key, inline) = match arg.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (arg, None),
            };
            match key.as_str() {
                "--data-dir" => out.data_dir = inline.or_else(|| args.next()).map(PathBuf::from),
                "--listen" => out.listen = inline.or_else(|| args.next()),
                "--hidden" => out.hidden = true,
                _ => {}
            }
        }
        out
    }
}

/// The program a login entry should start: an AppImage's own file (`$APPIMAGE`), not the
/// temporary mount it runs from; otherwise this executable.
pub fn own_executable() -> Result<PathBuf, loopline_core::ApiError> {
    if let Some(appimage) = std::env::var_os("APPIMAGE").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(appimage));
    }
    std::env::current_exe().map_err(|e| {
        loopline_core::ApiError::new(
            loopline_core::ErrorCode::AutostartFailed,
            format!("Loopline could not tell where its own program is ({e}), so it cannot write the login entry."),
        )
    })
}
