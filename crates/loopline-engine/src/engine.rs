use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use loopline_core::{ApiError, AppInfo, ReceiverStatus, VERSION};
use loopline_hooks::{router, HooksState};
use loopline_store::{Store, StoreOptions, DB_FILE_NAME};
use tokio::sync::watch;

use crate::listen::parse_listen;
use crate::paths::default_data_dir;
use crate::receiver::Receiver;

/// Where the receiver listens when the user has not said otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";
const LISTEN_SETTING: &str = "receiver.listen";

#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// `--data-dir` / `LOOPLINE_DATA_DIR`; the OS default when `None`.
    pub data_dir: Option<PathBuf>,
    pub store: StoreOptions,
}

/// One open data directory: its store and its receiver. The app holds one for its whole
/// life; each CLI command opens one for as long as it runs.
pub struct Engine {
    data_dir: PathBuf,
    store: Store,
    receiver: Receiver,
}

impl Engine {
    pub async fn open(options: EngineOptions) -> Result<Engine, ApiError> {
        let data_dir = match options.data_dir {
            Some(d) => d,
            None => default_data_dir()?,
        };
        let store = Store::open(&data_dir.join(DB_FILE_NAME), &options.store).await?;
        let listen = store
            .setting(LISTEN_SETTING)
            .await?
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        Ok(Engine {
            data_dir,
            store,
            receiver: Receiver::new(&listen),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub async fn info(&self) -> Result<AppInfo, ApiError> {
        Ok(AppInfo {
            version: VERSION.to_string(),
            data_dir: self.data_dir.display().to_string(),
            db_path: self.store.path().display().to_string(),
            schema_version: self.store.schema_version().await?,
            db_size_bytes: self.store.size_bytes(),
        })
    }

    /// The listen address the user chose last, or the default.
    pub async fn saved_listen(&self) -> Result<String, ApiError> {
        Ok(self
            .store
            .setting(LISTEN_SETTING)
            .await?
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string()))
    }

    /// Starts (or moves) the receiver. `remember` saves the address for the next start,
    /// which is what the app does when the user picks a new port.
    pub async fn start_receiver(
        &self,
        listen: &str,
        public: bool,
        remember: bool,
    ) -> Result<SocketAddr, ApiError> {
        let addr = parse_listen(listen, public)?;
        let state = HooksState {
            store: self.store.clone(),
        };
        let bound = self.receiver.start(addr, router(state)).await?;
        if remember {
            self.store
                .set_setting(LISTEN_SETTING, &addr.to_string())
                .await?;
        }
        Ok(bound)
    }

    pub fn receiver_status(&self) -> ReceiverStatus {
        self.receiver.status()
    }

    pub fn subscribe_receiver(&self) -> watch::Receiver<ReceiverStatus> {
        self.receiver.subscribe()
    }

    /// Stops the receiver (letting in-flight requests finish) and closes the database.
    pub async fn shutdown(&self) {
        self.receiver.stop().await;
        self.store.close().await;
    }
}

#[cfg(test)]
mod tests {
    use loopline_core::{ErrorCode, ReceiverState};

    use super::*;

    async fn engine(dir: &tempfile::TempDir) -> Engine {
        Engine::open(EngineOptions {
            data_dir: Some(dir.path().to_path_buf()),
            ..Default::default()
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn receiver_starts_reports_and_stops() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(&dir).await;
        let mut updates = engine.subscribe_receiver();
        let bound = engine
            .start_receiver("127.0.0.1:0", false, false)
            .await
            .unwrap();
        let status = engine.receiver_status();
        assert_eq!(status.state, ReceiverState::Running);
        assert_eq!(status.listen, bound.to_string());
        assert!(updates.has_changed().unwrap());
        updates.mark_unchanged();
        engine.shutdown().await;
        assert_eq!(engine.receiver_status().state, ReceiverState::Stopped);
        assert!(updates.has_changed().unwrap());
    }

    #[tokio::test]
    async fn taken_port_fails_with_a_suggestion_and_remembering_moves_it() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(&dir).await;
        let blocker = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let taken = blocker.local_addr().unwrap().to_string();
        let err = engine
            .start_receiver(&taken, false, true)
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::PortInUse);
        let status = engine.receiver_status();
        assert_eq!(status.state, ReceiverState::Failed);
        let suggested = status
            .suggested_listen
            .clone()
            .expect("a free port is offered");
        assert!(err.message.contains(&suggested));
        assert_eq!(
            engine.saved_listen().await.unwrap(),
            DEFAULT_LISTEN,
            "a failed start is not remembered"
        );

        engine
            .start_receiver(&suggested, false, true)
            .await
            .unwrap();
        assert_eq!(engine.receiver_status().state, ReceiverState::Running);
        assert_eq!(engine.saved_listen().await.unwrap(), suggested);
        engine.shutdown().await;
    }

    #[tokio::test]
    async fn public_address_needs_public_flag() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(&dir).await;
        let err = engine
            .start_receiver("0.0.0.0:0", false, false)
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::ListenNotLoopback);
        assert_eq!(engine.receiver_status().state, ReceiverState::Stopped);
    }
}
