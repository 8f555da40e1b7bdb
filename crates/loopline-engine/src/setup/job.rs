//! The app runs the storage setup in the background, so the window stays live while a
//! folder uploads: the job's progress is read by polling, and a cancel stops it between
//! files and parts. One job at a time per engine.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use loopline_core::{ApiError, ErrorCode, SetupJob, StorageRequest, UploadProgress};

use crate::Engine;

#[derive(Default)]
pub(crate) struct JobSlot {
    state: Mutex<SetupJob>,
    cancel: Mutex<Option<Arc<AtomicBool>>>,
}

impl Engine {
    /// Starts `setup s3` in the background (the app's "Create" button). Refused while one
    /// runs.
    pub fn start_storage_setup(
        self: &Arc<Self>,
        req: StorageRequest,
    ) -> Result<SetupJob, ApiError> {
        let slot = self.setup_job.clone();
        let cancel = Arc::new(AtomicBool::new(false));
        {
            let mut state = slot.state.lock().map_err(|_| poisoned())?;
            if state.running {
                return Err(ApiError::new(
                    ErrorCode::InvalidArgument,
                    "A storage setup is already running; wait for it or cancel it.",
                ));
            }
            *state = SetupJob {
                running: true,
                ..Default::default()
            };
            *slot.cancel.lock().map_err(|_| poisoned())? = Some(cancel.clone());
        }
        let engine = self.clone();
        let progress_slot = slot.clone();
        let progress: crate::ProgressFn = Arc::new(move |p: &UploadProgress| {
            if let Ok(mut s) = progress_slot.state.lock() {
                s.progress = Some(p.clone());
            }
        });
        tokio::spawn(async move {
            let result = engine
                .setup_storage(req, false, Some(progress), Some(cancel))
                .await;
            if let Ok(mut s) = slot.state.lock() {
                s.running = false;
                match result {
                    Ok(report) => s.report = Some(report),
                    Err(e) => s.error = Some(e),
                }
            }
            if let Ok(mut c) = slot.cancel.lock() {
                *c = None;
            }
        });
        self.storage_setup_job()
    }

    /// Where the background storage setup is.
    pub fn storage_setup_job(&self) -> Result<SetupJob, ApiError> {
        Ok(self.setup_job.state.lock().map_err(|_| poisoned())?.clone())
    }

    /// Stops the background upload between files; what went up stays up.
    pub fn cancel_storage_setup(&self) -> Result<SetupJob, ApiError> {
        if let Some(c) = self
            .setup_job
            .cancel
            .lock()
            .map_err(|_| poisoned())?
            .as_ref()
        {
            c.store(true, Ordering::Relaxed);
        }
        self.storage_setup_job()
    }
}

fn poisoned() -> ApiError {
    ApiError::internal("the setup job's state is unreadable after a crash in it")
}
