use std::path::PathBuf;

/// What the app was started with. The app takes the same `--data-dir` and `--listen` as
/// `loopline serve` (and `LOOPLINE_DATA_DIR`), so tests and power users can point it anywhere.
#[derive(Debug, Clone, Default)]
pub struct LaunchArgs {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
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
                _ => {}
            }
        }
        out
    }
}
