use std::io::ErrorKind;
use std::net::SocketAddr;

use axum::Router;
use loopline_core::{ApiError, ErrorCode, ReceiverState, ReceiverStatus};
use tokio::sync::{oneshot, watch, Mutex};
use tokio::task::JoinHandle;

use crate::listen::suggest_free_addr;

struct Running {
    addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// The webhook receiver's HTTP server: started, restarted on another port, stopped, with
/// every state change published so the status bar and `/healthz` watchers stay current.
pub struct Receiver {
    status: watch::Sender<ReceiverStatus>,
    running: Mutex<Option<Running>>,
    thread: ReceiverThread,
}

/// The thread the server's connections are served on, with a runtime of its own: the
/// acknowledgement then never waits in the same task queues as the outbox's deliveries (at
/// 50 webhooks a second, each firing 8 automations, sharing them made its p99 several
/// times longer; `scripts/bench b9`). Without the thread (it could not start), the caller's
/// runtime serves.
struct ReceiverThread {
    handle: Option<tokio::runtime::Handle>,
    /// Dropped with the receiver: the thread's runtime then ends on that thread.
    _stop: Option<oneshot::Sender<()>>,
}

impl ReceiverThread {
    fn start() -> Self {
        let (stop, stopped) = oneshot::channel::<()>();
        let (ready, handle) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("loopline-receiver".into())
            .spawn(move || {
                // As many workers as cores, as the engine's runtime has: parsing and hashing
                // bodies at B1's rates needs more than one.
                let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(workers)
                    .thread_name("loopline-receiver")
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!("the receiver's own runtime did not start ({e}); it shares the engine's");
                        let _ = ready.send(None);
                        return;
                    }
                };
                let _ = ready.send(Some(runtime.handle().clone()));
                runtime.block_on(async {
                    let _ = stopped.await;
                });
            });
        let handle = match spawned {
            Ok(_) => handle.recv().ok().flatten(),
            Err(e) => {
                tracing::warn!(
                    "the receiver's thread did not start ({e}); it shares the engine's runtime"
                );
                None
            }
        };
        ReceiverThread {
            handle,
            _stop: Some(stop),
        }
    }
}

impl Receiver {
    pub fn new(initial_listen: &str) -> Self {
        let (status, _) = watch::channel(ReceiverStatus::stopped(initial_listen));
        Receiver {
            status,
            running: Mutex::new(None),
            thread: ReceiverThread::start(),
        }
    }

    pub fn status(&self) -> ReceiverStatus {
        self.status.borrow().clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<ReceiverStatus> {
        self.status.subscribe()
    }

    /// The address the server is bound to, once running.
    pub async fn bound_addr(&self) -> Option<SocketAddr> {
        self.running.lock().await.as_ref().map(|r| r.addr)
    }

    /// Binds `addr` and serves `router` on it, replacing any server already running. The
    /// new address is bound before the old server stops: Label Studio never retries, so a
    /// moment with no receiver loses events. A move that fails leaves the old server
    /// serving, and the status says why. On failure the status also says, for a taken
    /// port, which one is free instead.
    pub async fn start(&self, addr: SocketAddr, router: Router) -> Result<SocketAddr, ApiError> {
        let mut running = self.running.lock().await;
        if let Some(current) = running.as_ref() {
            if addr == current.addr {
                return Ok(current.addr); // already serving exactly there
            }
        }
        let previous_addr = running.as_ref().map(|r| r.addr);
        if previous_addr.is_none() {
            self.publish(ReceiverState::Starting, addr.to_string(), None, None);
        }
        // Bound here (so a taken port is told at once), served on the receiver's thread: a
        // tokio listener belongs to the runtime it was made in, so it is made there.
        let listener = match std::net::TcpListener::bind(addr).and_then(|l| {
            l.set_nonblocking(true)?;
            Ok(l)
        }) {
            Ok(l) => l,
            Err(e) => {
                let (err, suggestion) = bind_error(addr, &e);
                let suggestion = suggestion.map(|s| s.to_string());
                return Err(match previous_addr {
                    Some(old) => {
                        let err = ApiError::new(
                            err.code,
                            format!("{} The receiver keeps listening on {old}.", err.message),
                        );
                        self.publish(
                            ReceiverState::Running,
                            old.to_string(),
                            Some(err.clone()),
                            suggestion,
                        );
                        err
                    }
                    None => {
                        self.publish(
                            ReceiverState::Failed,
                            addr.to_string(),
                            Some(err.clone()),
                            suggestion,
                        );
                        err
                    }
                });
            }
        };
        let bound = listener
            .local_addr()
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let (tx, rx) = oneshot::channel::<()>();
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let serve = async move {
            let listener = match tokio::net::TcpListener::from_std(listener) {
                Ok(l) => l,
                Err(e) => {
                    tracing::error!(error = %e, "receiver could not take its socket");
                    return;
                }
            };
            let served = axum::serve(listener, service)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "receiver stopped with an error");
            }
        };
        let task = match &self.thread.handle {
            Some(h) => h.spawn(serve),
            None => tokio::spawn(serve),
        };
        let replaced = running.replace(Running {
            addr: bound,
            shutdown: tx,
            task,
        });
        tracing::info!(listen = %bound, "receiver listening");
        self.publish(ReceiverState::Running, bound.to_string(), None, None);
        if let Some(old) = replaced {
            // Only now: the new address is already accepting.
            stop_running(old).await;
        }
        Ok(bound)
    }

    /// Stops accepting connections and waits for in-flight requests to finish.
    pub async fn stop(&self) {
        let mut running = self.running.lock().await;
        if let Some(r) = running.take() {
            let addr = r.addr;
            stop_running(r).await;
            self.publish(ReceiverState::Stopped, addr.to_string(), None, None);
        }
    }

    fn publish(
        &self,
        state: ReceiverState,
        listen: String,
        error: Option<ApiError>,
        suggested_listen: Option<String>,
    ) {
        self.status.send_replace(ReceiverStatus {
            state,
            listen,
            error,
            suggested_listen,
        });
    }
}

async fn stop_running(r: Running) {
    let _ = r.shutdown.send(());
    let _ = r.task.await;
}

fn bind_error(addr: SocketAddr, e: &std::io::Error) -> (ApiError, Option<SocketAddr>) {
    match e.kind() {
        ErrorKind::AddrInUse => {
            let suggestion = suggest_free_addr(addr);
            let fix = match suggestion {
                Some(s) => format!("Stop the other program, or use {s} instead (--listen {s})."),
                None => "Stop the other program, or choose another port with --listen.".to_string(),
            };
            (
                ApiError::new(
                    ErrorCode::PortInUse,
                    format!("Port {} on {} is already in use by another program. {fix}", addr.port(), addr.ip()),
                ),
                suggestion,
            )
        }
        ErrorKind::PermissionDenied => (
            ApiError::new(
                ErrorCode::ListenInvalid,
                format!("Not allowed to listen on {addr} (ports below 1024 need special rights). Choose a port above 1024."),
            ),
            None,
        ),
        ErrorKind::AddrNotAvailable => (
            ApiError::new(
                ErrorCode::ListenInvalid,
                format!("{} is not an address of this machine. Use 127.0.0.1.", addr.ip()),
            ),
            None,
        ),
        _ => (
            ApiError::new(ErrorCode::ListenInvalid, format!("Cannot listen on {addr}: {e}.")),
            None,
        ),
    }
}
