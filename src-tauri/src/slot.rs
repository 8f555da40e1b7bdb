use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use loopline_core::{ApiError, ErrorCode};
use loopline_engine::{Engine, EngineOptions};

use crate::LaunchArgs;

/// The engine, or why it could not open. The window still opens on failure so the user
/// reads the reason (say, a database from a newer Loopline) instead of a crash. Replaced
/// once, when a restore from backup lets the engine open after all.
///
/// The engine opens beside the window, not before it: with a large database the first
/// paint no longer waits for the integrity check and the migrations (`scripts/bench b8`).
/// Commands wait for it (`ready_engine`); the tray and the close button look without
/// waiting.
pub struct EngineSlot {
    /// Behind a lock: the engine error screen may open another data directory.
    launch: RwLock<LaunchArgs>,
    /// `None` while the engine is still opening.
    opened: RwLock<Option<Result<Arc<Engine>, ApiError>>>,
    /// Moves each time `opened` is set, for those waiting on it.
    generation: tokio::sync::watch::Sender<u64>,
}

impl EngineSlot {
    pub fn new(launch: LaunchArgs, opened: Result<Arc<Engine>, ApiError>) -> Self {
        let slot = EngineSlot::opening(launch);
        slot.replace(opened);
        slot
    }

    /// A slot whose engine is still opening.
    pub fn opening(launch: LaunchArgs) -> Self {
        EngineSlot {
            launch: RwLock::new(launch),
            opened: RwLock::new(None),
            generation: tokio::sync::watch::channel(0).0,
        }
    }

    /// The engine now, without waiting: an error while it is still opening.
    pub fn engine(&self) -> Result<Arc<Engine>, ApiError> {
        let opened = self.opened.read().map_err(|_| poisoned())?;
        match opened.as_ref() {
            None => Err(ApiError::new(
                ErrorCode::EngineUnavailable,
                "Loopline is still opening its data folder; try again in a moment.",
            )),
            Some(Ok(engine)) => Ok(engine.clone()),
            Some(Err(e)) => Err(ApiError::new(
                ErrorCode::EngineUnavailable,
                format!("Loopline could not start: {}", e.message),
            )),
        }
    }

    /// The engine, once it has opened (or why it did not).
    pub async fn ready_engine(&self) -> Result<Arc<Engine>, ApiError> {
        self.wait_opened().await;
        self.engine()
    }

    /// Whether the engine is still opening.
    pub fn is_opening(&self) -> bool {
        self.opened.read().map(|o| o.is_none()).unwrap_or(false)
    }

    /// Returns once the engine has opened or failed to.
    pub async fn wait_opened(&self) {
        // Subscribed before looking, so a `replace` in between is not missed.
        let mut changed = self.generation.subscribe();
        while self.is_opening() {
            if changed.changed().await.is_err() {
                return;
            }
        }
    }

    pub async fn startup_error(&self) -> Option<ApiError> {
        self.wait_opened().await;
        match self.opened.read() {
            Ok(opened) => opened.as_ref().and_then(|o| o.as_ref().err().cloned()),
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
            *slot = Some(opened);
        }
        self.generation.send_modify(|g| *g += 1);
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
