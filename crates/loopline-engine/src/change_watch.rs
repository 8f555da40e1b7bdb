//! One look a second at what other processes on this data directory changed
//! (`Store::change_marks`), published to the background loops.
//!
//! The loops wait on it (and on their own process's signals) instead of each polling the
//! database several times a second, so an idle companion wakes a few times a second, not
//! thirty. What this process changes still reaches them at once through those signals.

use std::time::Duration;

use loopline_store::ChangeMarks;
use tokio::sync::watch;

use crate::engine::WeakEngine;

/// How often the marks are read: how long another process's change can take to be seen.
pub(crate) const LOOK_EVERY: Duration = Duration::from_secs(1);
/// The longest a loop sleeps without any signal: a safety net for a change the marks do not
/// cover (a setting written by another process, say).
pub(crate) const IDLE_RECHECK: Duration = Duration::from_secs(30);

pub(crate) async fn watch_changes(engine: WeakEngine) {
    loop {
        {
            let Some(e) = engine.upgrade() else { return };
            match e.store.change_marks().await {
                Ok(now) => {
                    e.marks.send_if_modified(|m| {
                        let moved = *m != now;
                        *m = now;
                        moved
                    });
                }
                Err(err) => {
                    tracing::debug!(code = %err.code, "change marks not read: {}", err.message)
                }
            }
        }
        tokio::time::sleep(LOOK_EVERY).await;
    }
}

/// Waits until the marks move, or at most `limit`. A closed channel (the engine is going
/// away) waits out the limit rather than spinning.
pub(crate) async fn marks_moved(marks: &mut watch::Receiver<ChangeMarks>, limit: Duration) {
    match tokio::time::timeout(limit, marks.changed()).await {
        Ok(Ok(())) => {}
        Ok(Err(_)) => tokio::time::sleep(limit).await,
        Err(_) => {}
    }
}
