use std::sync::Arc;

use loopline_core::{ApiError, ErrorCode};
use loopline_engine::{Engine, EngineOptions};

use crate::LaunchArgs;

/// The engine, or why it could not open. The window still opens on failure so the user
/// reads the reason (say, a database from a newer Loopline) instead of a crash.
pub struct EngineSlot(Result<Arc<Engine>, ApiError>);

impl EngineSlot {
    pub fn engine(&self) -> Result<&Arc<Engine>, ApiError> {
        self.0.as_ref().map_err(|e| {
            ApiError::new(
                ErrorCode::EngineUnavailable,
                format!("Loopline could not start: {}", e.message),
            )
        })
    }

    pub fn startup_error(&self) -> Option<&ApiError> {
        self.0.as_ref().err()
    }
}

/// Opens the data directory and starts the receiver on the saved (or given) address.
/// A receiver that cannot bind is not fatal: its status says why and offers another port.
pub async fn open_engine(launch: &LaunchArgs) -> EngineSlot {
    let options = EngineOptions {
        data_dir: launch.data_dir.clone(),
        ..Default::default()
    };
    let engine = match Engine::open(options).await {
        Ok(e) => Arc::new(e),
        Err(e) => {
            tracing::error!(code = %e.code, "engine did not open: {}", e.message);
            return EngineSlot(Err(e));
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
    EngineSlot(Ok(engine))
}
