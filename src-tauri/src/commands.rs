//! One-line adapters from IPC to the engine. Each has a CLI twin over the same engine call.

use loopline_core::{ApiError, AppInfo, ReceiverStatus};
use tauri::State;

use crate::EngineSlot;

/// The receiver's current state (`loopline serve` prints the same on start).
#[tauri::command]
pub async fn receiver_status(slot: State<'_, EngineSlot>) -> Result<ReceiverStatus, ApiError> {
    Ok(slot.engine()?.receiver_status())
}

/// Moves the receiver to `listen` and remembers it (`loopline serve --listen`).
#[tauri::command]
pub async fn receiver_start(
    slot: State<'_, EngineSlot>,
    listen: String,
) -> Result<ReceiverStatus, ApiError> {
    let engine = slot.engine()?;
    engine.start_receiver(&listen, false, true).await?;
    Ok(engine.receiver_status())
}

/// Where the data lives (`loopline info`).
#[tauri::command]
pub async fn app_info(slot: State<'_, EngineSlot>) -> Result<AppInfo, ApiError> {
    slot.engine()?.info().await
}

/// Why the engine did not start, if it did not; `null` when all is well.
#[tauri::command]
pub async fn engine_status(slot: State<'_, EngineSlot>) -> Result<Option<ApiError>, ApiError> {
    Ok(slot.startup_error().cloned())
}
