use loopline_core::ApiError;
use std::sync::Arc;

use loopline_engine::{Engine, ReceiverLimits};

use crate::args::{GlobalArgs, ServeArgs};

pub async fn run(global: &GlobalArgs, args: ServeArgs) -> Result<(), ApiError> {
    // Handlers go in before anything is announced, so a signal sent the moment the listen
    // line appears still shuts down cleanly instead of killing the process.
    let signals = ShutdownSignals::install();
    let engine = Arc::new(Engine::open(global.engine_options()).await?);
    engine.set_hook_check_interval(std::time::Duration::from_secs(
        crate::source_cmd::parse_duration(&args.label_studio_check)?.max(1) as u64,
    ));
    engine.set_limits(ReceiverLimits {
        max_body_bytes: args.max_body_mib.max(1) * 1024 * 1024,
        rate_per_source: args.rate_limit.max(0.0),
        burst_per_source: (args.rate_limit * 5.0).max(1.0),
        ..ReceiverLimits::default()
    });
    // With the engine, not the receiver: rules, runs and the monitor do not depend on it.
    engine.start_background("serve");
    let listen = match args.listen {
        Some(l) => l,
        None => engine.saved_listen().await?,
    };
    let bound = match engine.start_receiver(&listen, args.public, false).await {
        Ok(addr) => addr,
        Err(e) => {
            engine.shutdown().await;
            return Err(e);
        }
    };
    // stdout carries the one line scripts and tests wait for; logs go to stderr.
    println!(
        "Listening on http://{bound} (data dir {})",
        engine.data_dir().display()
    );
    signals.wait().await;
    eprintln!("Shutting down: finishing in-flight requests, then closing the database.");
    engine.shutdown().await;
    eprintln!("Stopped cleanly.");
    Ok(())
}

/// SIGINT (Ctrl-C) and SIGTERM, registered eagerly.
struct ShutdownSignals {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl ShutdownSignals {
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            ShutdownSignals {
                interrupt: signal(SignalKind::interrupt()).ok(),
                terminate: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        {
            ShutdownSignals {}
        }
    }

    async fn wait(self) {
        #[cfg(unix)]
        {
            let (mut interrupt, mut terminate) = (self.interrupt, self.terminate);
            tokio::select! {
                _ = recv(&mut interrupt) => {}
                _ = recv(&mut terminate) => {}
            }
        }
        #[cfg(windows)]
        {
            // Besides Ctrl-C: Ctrl-Break, the console window being closed, and logoff or
            // shutdown. Windows ends the process soon after these, so shut down at once.
            use tokio::signal::windows::{ctrl_break, ctrl_close, ctrl_shutdown};
            let (mut brk, mut close, mut shutdown) =
                (ctrl_break().ok(), ctrl_close().ok(), ctrl_shutdown().ok());
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                Some(_) = async { brk.as_mut()?.recv().await } => {}
                Some(_) = async { close.as_mut()?.recv().await } => {}
                Some(_) = async { shutdown.as_mut()?.recv().await } => {}
            }
        }
        #[cfg(not(any(unix, windows)))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(unix)]
async fn recv(signal: &mut Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}
