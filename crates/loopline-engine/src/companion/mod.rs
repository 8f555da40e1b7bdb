//! Loopline as a companion that stays running: its settings (what closing the window does,
//! what notifies), the tray's status, what Quit leaves for the next start, the login entry,
//! and the desktop notifications the shell shows.

mod autostart;
// Used only by the macOS and Windows login entries; its tests run everywhere.
#[cfg_attr(target_os = "linux", allow(dead_code))]
mod launch_args;
mod notice_gate;
mod notices;
mod quit_plan;
mod status;

pub use autostart::{autostart_status, set_autostart, AutostartTarget};
pub use notice_gate::NoticeGate;
pub(crate) use notices::watch_notices;
pub use notices::{run_notice, CATCH_UP_ACTION, NOTICE_WINDOW_MS};
pub use status::summarize;

use loopline_core::{ApiError, CompanionPrefs, ErrorCode};

use crate::Engine;

const PREFS: &str = "companion.prefs";

impl Engine {
    /// `loopline settings show`: what closing the window does, and what notifies.
    pub async fn companion_prefs(&self) -> Result<CompanionPrefs, ApiError> {
        Ok(match self.store.setting(PREFS).await? {
            // A value an older or newer version wrote still reads: unknown fields are
            // ignored and missing ones take their defaults.
            Some(json) => serde_json::from_str(&json).unwrap_or_default(),
            None => CompanionPrefs::default(),
        })
    }

    /// `loopline settings set …`: stored for every process on this data directory.
    pub async fn set_companion_prefs(
        &self,
        prefs: &CompanionPrefs,
    ) -> Result<CompanionPrefs, ApiError> {
        let json = serde_json::to_string(prefs)
            .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
        self.store.set_setting(PREFS, &json).await?;
        Ok(*prefs)
    }

    /// Whether this close is the first: the first says that Loopline keeps receiving, once.
    pub async fn take_first_close(&self) -> Result<bool, ApiError> {
        let mut prefs = self.companion_prefs().await?;
        if prefs.close_noticed {
            return Ok(false);
        }
        prefs.close_noticed = true;
        self.set_companion_prefs(&prefs).await?;
        Ok(true)
    }
}
