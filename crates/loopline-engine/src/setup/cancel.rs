//! Cancel for the setup work that waits on others: the loop check (webhook, count, export),
//! the labeling setup (storage retries while a new key spreads, the sync) and the SageMaker
//! setup (retries while a new role spreads through IAM). The app's Cancel button and the
//! CLI's Ctrl-C set the token of that work in this engine; the work stops at its next wait,
//! marks the step it was in as cancelled, still cleans up what must not stay (the test
//! annotation, a key no storage took), and reports what was done.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use loopline_core::{ApiError, ErrorCode, SetupWork};
use tokio::sync::watch;

use crate::Engine;

pub(crate) struct CancelToken {
    flag: watch::Sender<bool>,
}

impl CancelToken {
    fn new() -> Self {
        CancelToken {
            flag: watch::channel(false).0,
        }
    }

    pub fn is_cancelled(&self) -> bool {
        *self.flag.borrow()
    }

    /// Returns once the work is cancelled (at once if it already was).
    pub async fn cancelled(&self) {
        let mut rx = self.flag.subscribe();
        let _ = rx.wait_for(|c| *c).await;
    }

    /// Waits `d`, or less when cancelled: then the error that says `during` what.
    pub async fn pause(&self, d: Duration, during: &str) -> Result<(), ApiError> {
        // Biased: work cancelled already stops here, even when the wait is zero.
        tokio::select! {
            biased;
            _ = self.cancelled() => Err(cancelled(during)),
            _ = tokio::time::sleep(d) => Ok(()),
        }
    }
}

pub(crate) fn cancelled(during: &str) -> ApiError {
    ApiError::new(
        ErrorCode::Cancelled,
        format!("Cancelled {during}. What was done before is kept; run it again to go on."),
    )
}

/// The tokens of the work running in this engine, by kind.
#[derive(Default)]
pub(crate) struct Cancels(Mutex<HashMap<SetupWork, Vec<Arc<CancelToken>>>>);

/// Running work: its token is registered until this is dropped.
pub(crate) struct Running<'a> {
    cancels: &'a Cancels,
    work: SetupWork,
    pub token: Arc<CancelToken>,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if let Ok(mut all) = self.cancels.0.lock() {
            if let Some(v) = all.get_mut(&self.work) {
                v.retain(|t| !Arc::ptr_eq(t, &self.token));
            }
        }
    }
}

impl Engine {
    pub(crate) fn begin_setup_work(&self, work: SetupWork) -> Running<'_> {
        let token = Arc::new(CancelToken::new());
        if let Ok(mut all) = self.setup_cancels.0.lock() {
            all.entry(work).or_default().push(token.clone());
        }
        Running {
            cancels: &self.setup_cancels,
            work,
            token,
        }
    }

    /// Cancels that setup work where it runs in this engine (the app's Cancel, the CLI's
    /// Ctrl-C). Returns whether any was running.
    pub fn cancel_setup(&self, work: SetupWork) -> bool {
        let Ok(all) = self.setup_cancels.0.lock() else {
            return false;
        };
        let running = all.get(&work).map(Vec::as_slice).unwrap_or_default();
        for t in running {
            t.flag.send_replace(true);
        }
        !running.is_empty()
    }
}
