use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use loopline_core::{ApiError, ErrorCode};
use loopline_engine::{Engine, EngineOptions};

use crate::LaunchArgs;

/// The engine, or why it could not open. The window still opens on failure so the user
/// reads the reason (say, a database from a newer Loopline) instead of a crash. Replaced
/// once, when a restore from backup lets the engine open after all.
pub struct EngineSlot {
    /// Behind a lock: the engine error screen may open another data directory.
    launch: RwLock<LaunchArgs>,
    opened: RwLock<Result<Arc<Engine>, ApiError>>,
}

impl EngineSlot {
    pub fn new(launch: LaunchArgs, opened: Result<Arc<Engine>, ApiError>) -> Self {
        EngineSlot {
            launch: RwLock::new(launch),
            opened: RwLock::new(opened),
        }
    }

    pub fn engine(&self) -> Result<Arc<Engine>, ApiError> {
        let opened = self.opened.read().map_err(|_| poisoned())?;
        opened.as_ref().cloned().map_err(|e| {
            ApiError::new(
                ErrorCode::EngineUnavailable,
                format!("Loopline could not start: {}", e.message),
            )
        })
    }

    pub fn startup_error(&self) -> Option<ApiError> {
        match self.opened.read() {
            Ok(opened) => opened.as_ref().err().cloned(),
            Err(_) => Some(poisoned()),
        }
    }

    pub fn launch(&self) -> LaunchArgs {
        self.launch.read().map(|l| l.clone()).unwrap_or_default()
    }

    /// `--data-dir`, or `None` for the OS default (as the engine resolves it).
    pub fn data_dir(&self) -> Option<PathBuf> {
        self.launch().data_dir
    }

    /// From now on, this session's engine lives in `dir`.
    pub(crate) fn set_data_dir(&self, dir: PathBuf) {
        if let Ok(mut launch) = self.launch.write() {
            launch.data_dir = Some(dir);
        }
    }

    pub(crate) fn replace(&self, opened: Result<Arc<Engine>, ApiError>) {
        if let Ok(mut slot) = self.opened.write() {
            *slot = opened;
        }
    }
}

fn poisoned() -> ApiError {
    ApiError::internal("the engine slot was poisoned by a panic; restart Loopline")
}

/// Opens the data directory and starts the receiver on the saved (or given) address.
/// A receiver that cannot bind is not fatal: its status says why and offers another port.
pub async fn open_engine(launch: &LaunchArgs) -> Result<Arc<Engine>, ApiError> {
    let options = EngineOptions {
        data_dir: launch.data_dir.clone(),
        ..Default::default()
    };
    let engine = match Engine::open(options).await {
        Ok(e) => Arc::new(e),
        Err(e) => {
            tracing::error!(code = %e.code, "engine did not open: {}", e.message);
            return Err(e);
        }
    };
    // Rules, runs and the run monitor start with the engine, whatever the receiver does.
    engine.start_background("app");
    let listen = match &launch.listen {
        Some(l) => l.clone(),
        None => engine
            .saved_listen()
            .await
            .unwrap_or_else(|_| loopline_engine::DEFAULT_LISTEN.to_string()),
    };
    if let Err(e) = engine.start_receiver(&listen, false, false).await {
        tracing::warn!(code = %e.code, "receiver did not start: {}", e.message);
    }
    Ok(engine)
}
