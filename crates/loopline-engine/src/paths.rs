use std::path::PathBuf;

use loopline_core::{ApiError, ErrorCode};

/// The OS's standard place for app data, shared by the app and the CLI so that both see
/// the same sources and events: `~/.local/share/loopline` on Linux,
/// `~/Library/Application Support/loopline` on macOS, `%LOCALAPPDATA%\loopline` on Windows.
/// The local, not the roaming, folder on Windows: a roaming profile would copy the database
/// between machines at logon, and two laptops would then count and deliver the same events.
pub fn default_data_dir() -> Result<PathBuf, ApiError> {
    dirs::data_local_dir().map(|d| d.join("loopline")).ok_or_else(|| {
        ApiError::new(
            ErrorCode::DataDirUnavailable,
            "Loopline cannot find your user data folder (is HOME set?). Pass --data-dir DIR or set LOOPLINE_DATA_DIR.",
        )
    })
}
