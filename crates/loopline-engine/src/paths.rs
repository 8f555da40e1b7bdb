use std::path::PathBuf;

use loopline_core::{ApiError, ErrorCode};

/// The OS's standard place for app data, shared by the app and the CLI so that both see
/// the same sources and events: `~/.local/share/loopline` on Linux,
/// `~/Library/Application Support/loopline` on macOS, `%APPDATA%\loopline` on Windows.
pub fn default_data_dir() -> Result<PathBuf, ApiError> {
    dirs::data_dir().map(|d| d.join("loopline")).ok_or_else(|| {
        ApiError::new(
            ErrorCode::DataDirUnavailable,
            "Loopline cannot find your user data folder (is HOME set?). Pass --data-dir DIR or set LOOPLINE_DATA_DIR.",
        )
    })
}
