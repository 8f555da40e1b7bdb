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
}

impl Receiver {
    pub fn new(initial_listen: &str) -> Self {
        let (status, _) = watch::channel(ReceiverStatus::stopped(initial_listen));
        Receiver {
            status,
            running: Mutex::new(None),
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
        let listener = match tokio::net::TcpListener::bind(addr).await {
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
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, service)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "receiver stopped with an error");
            }
        });
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
