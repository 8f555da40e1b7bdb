//! The engine's background tasks, each under a name: restarted with backoff after a panic,
//! and their states published (in this process, and in the database as this process's
//! heartbeat, so `loopline info --json` from another process sees them).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use loopline_core::{TaskState, TaskStatus};
use tokio::task::JoinHandle;

type TaskFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Aborts the task it holds when dropped: a supervised loop is stopped together with its
/// supervisor.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[derive(Default)]
pub struct Supervisor {
    states: Arc<Mutex<BTreeMap<&'static str, TaskStatus>>>,
    handles: Mutex<Vec<JoinHandle<()>>>,
}

/// 1 s after the first panic, doubling to a minute: a task that keeps failing neither spins
/// nor stays down for long.
pub fn restart_delay(restarts: u32) -> Duration {
    Duration::from_millis((1_000u64 << restarts.saturating_sub(1).min(6)).min(60_000))
}

impl Supervisor {
    /// True once any task was started.
    pub fn started(&self) -> bool {
        self.handles.lock().map(|h| !h.is_empty()).unwrap_or(true)
    }

    /// Runs `make()` as task `name`; a panic restarts it after `restart_delay`. A task that
    /// returns (its engine is gone) is not restarted.
    pub fn spawn(&self, name: &'static str, make: impl Fn() -> TaskFuture + Send + Sync + 'static) {
        let states = self.states.clone();
        set(&states, name, TaskState::Running, 0, None);
        let handle = tokio::spawn(async move {
            let mut restarts = 0u32;
            loop {
                let mut inner = AbortOnDrop(tokio::spawn(make()));
                let outcome = (&mut inner.0).await;
                match outcome {
                    Ok(()) => {
                        set(&states, name, TaskState::Stopped, restarts, None);
                        return;
                    }
                    Err(e) if e.is_panic() => {
                        restarts += 1;
                        let why = panic_text(e.into_panic());
                        tracing::error!(
                            task = name,
                            restarts,
                            "background task panicked, restarting: {why}"
                        );
                        set(
                            &states,
                            name,
                            TaskState::Restarting,
                            restarts,
                            Some(why.clone()),
                        );
                        tokio::time::sleep(restart_delay(restarts)).await;
                        set(&states, name, TaskState::Running, restarts, Some(why));
                    }
                    Err(_) => return, // cancelled: shutting down
                }
            }
        });
        if let Ok(mut h) = self.handles.lock() {
            h.push(handle);
        }
    }

    pub fn statuses(&self) -> Vec<TaskStatus> {
        self.states
            .lock()
            .map(|s| s.values().cloned().collect())
            .unwrap_or_default()
    }

    pub fn stop_all(&self) {
        let handles: Vec<JoinHandle<()>> = self
            .handles
            .lock()
            .map(|mut h| h.drain(..).collect())
            .unwrap_or_default();
        for h in handles {
            h.abort();
        }
        if let Ok(mut s) = self.states.lock() {
            for t in s.values_mut() {
                t.state = TaskState::Stopped;
            }
        }
    }
}

fn set(
    states: &Mutex<BTreeMap<&'static str, TaskStatus>>,
    name: &'static str,
    state: TaskState,
    restarts: u32,
    last_panic: Option<String>,
) {
    if let Ok(mut s) = states.lock() {
        let entry = s.entry(name).or_insert_with(|| TaskStatus {
            name: name.to_string(),
            state,
            restarts: 0,
            last_panic: None,
        });
        entry.state = state;
        entry.restarts = restarts;
        if last_panic.is_some() {
            entry.last_panic = last_panic;
        }
    }
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn restart_delay_doubles_to_a_minute() {
        assert_eq!(restart_delay(1), Duration::from_secs(1));
        assert_eq!(restart_delay(2), Duration::from_secs(2));
        assert_eq!(restart_delay(7), Duration::from_secs(60));
        assert_eq!(restart_delay(100), Duration::from_secs(60));
    }

    #[tokio::test]
    async fn a_panicking_task_is_restarted_and_its_state_shown() {
        let sup = Supervisor::default();
        let runs = Arc::new(AtomicU32::new(0));
        let r = runs.clone();
        sup.spawn("flaky", move || {
            let r = r.clone();
            Box::pin(async move {
                if r.fetch_add(1, Ordering::SeqCst) == 0 {
                    panic!("first run fails");
                }
                std::future::pending::<()>().await
            })
        });
        // Waits on the task's own count (the first restart comes after 1 s).
        while runs.load(Ordering::SeqCst) < 2 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let s = sup.statuses();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].name, "flaky");
        assert_eq!(s[0].state, TaskState::Running);
        assert_eq!(s[0].restarts, 1);
        assert_eq!(s[0].last_panic.as_deref(), Some("first run fails"));
        sup.stop_all();
        assert_eq!(sup.statuses()[0].state, TaskState::Stopped);
    }
}
