use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use loopline_core::{ApiError, AppInfo, Clock, Entropy, ReceiverStatus, TimelineChanged, VERSION};
use loopline_hooks::{router, Buckets, HooksState, ReceiverLimits, SourceTable};
use loopline_store::{EventWriter, Store, StoreOptions, DB_FILE_NAME};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clock::{OsEntropy, SystemClock};
use crate::listen::parse_listen;
use crate::paths::default_data_dir;
use crate::receiver::Receiver;
use crate::secrets::{Keychain, SecretStore};

/// Where the receiver listens when the user has not said otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";
const LISTEN_SETTING: &str = "receiver.listen";
/// An identical body from the same source within this window is flagged as a duplicate.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(10 * 60);

#[derive(Clone, Default)]
pub struct EngineOptions {
    /// `--data-dir` / `LOOPLINE_DATA_DIR`; the OS default when `None`.
    pub data_dir: Option<PathBuf>,
    pub store: StoreOptions,
    /// The system clock when `None`.
    pub clock: Option<Arc<dyn Clock>>,
    /// The OS random source when `None`.
    pub entropy: Option<Arc<dyn Entropy>>,
    /// The OS keychain when `None`.
    pub secrets: Option<Arc<dyn SecretStore>>,
}

/// One open data directory: its store, its receiver and the work behind them. The app holds
/// one for its whole life; each CLI command opens one for as long as it runs.
pub struct Engine {
    pub(crate) data_dir: PathBuf,
    pub(crate) store: Store,
    pub(crate) receiver: Receiver,
    pub(crate) writer: EventWriter,
    pub(crate) sources: SourceTable,
    pub(crate) limits: Arc<RwLock<ReceiverLimits>>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) entropy: Arc<dyn Entropy>,
    pub(crate) secrets: Arc<dyn SecretStore>,
    pub(crate) changes: watch::Sender<TimelineChanged>,
    /// Bumped whenever rules or runs change, for the app's Runs view and notifications.
    pub(crate) runs_rev: watch::Sender<u64>,
    /// How often registered Label Studio webhooks are checked (ms).
    pub(crate) hook_check_ms: std::sync::atomic::AtomicI64,
    /// Wakes the outbox worker when a run becomes due.
    pub(crate) outbox_wake: tokio::sync::Notify,
    /// The sources revision the receiver's table was built from (-1: never built).
    pub(crate) sources_loaded: std::sync::atomic::AtomicI64,
    pub(crate) background: Mutex<Vec<JoinHandle<()>>>,
}

impl Engine {
    pub async fn open(options: EngineOptions) -> Result<Engine, ApiError> {
        let data_dir = match options.data_dir {
            Some(d) => d,
            None => default_data_dir()?,
        };
        let clock: Arc<dyn Clock> = options.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let store = Store::open(&data_dir.join(DB_FILE_NAME), &options.store).await?;
        let writer = EventWriter::start(&store, DUPLICATE_WINDOW, clock.now_ms()).await?;
        let listen = store
            .setting(LISTEN_SETTING)
            .await?
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        let newest = store.newest_event_id().await?;
        let (changes, _) = watch::channel(TimelineChanged {
            newest_id: newest,
            revision: 0,
        });
        Ok(Engine {
            data_dir,
            store,
            receiver: Receiver::new(&listen),
            writer,
            sources: SourceTable::default(),
            limits: Arc::new(RwLock::new(ReceiverLimits::default())),
            clock,
            entropy: options.entropy.unwrap_or_else(|| Arc::new(OsEntropy)),
            secrets: options.secrets.unwrap_or_else(|| Arc::new(Keychain)),
            changes,
            sources_loaded: std::sync::atomic::AtomicI64::new(-1),
            runs_rev: watch::channel(0).0,
            outbox_wake: tokio::sync::Notify::new(),
            hook_check_ms: std::sync::atomic::AtomicI64::new(
                crate::hook_watch::DEFAULT_HOOK_CHECK.as_millis() as i64,
            ),
            background: Mutex::new(Vec::new()),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
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

    pub fn set_limits(&self, limits: ReceiverLimits) {
        if let Ok(mut l) = self.limits.write() {
            *l = limits;
        }
    }

    pub fn limits(&self) -> ReceiverLimits {
        self.limits.read().map(|l| l.clone()).unwrap_or_default()
    }

    /// Starts (or moves) the receiver, with the background work it needs (source table
    /// refresh, full-text indexing, retention, the change feed). `remember` saves the address
    /// for the next start, which is what the app does when the user picks a new port.
    pub async fn start_receiver(
        self: &Arc<Self>,
        listen: &str,
        public: bool,
        remember: bool,
    ) -> Result<SocketAddr, ApiError> {
        let addr = parse_listen(listen, public)?;
        self.reload_sources().await;
        self.start_background();
        let engine = Arc::downgrade(self);
        let state = HooksState {
            store: self.store.clone(),
            writer: self.writer.clone(),
            sources: self.sources.clone(),
            clock: self.clock.clone(),
            limits: self.limits.clone(),
            rate: Arc::new(Buckets::default()),
            rejections: Arc::new(Buckets::default()),
            reload: Arc::new(move || {
                let engine = engine.clone();
                Box::pin(async move {
                    if let Some(e) = engine.upgrade() {
                        e.reload_sources_if_changed().await;
                    }
                })
            }),
            last_miss_reload: Arc::new(Mutex::new(0)),
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

    /// Where the running receiver is bound, if it is.
    pub async fn receiver_addr(&self) -> Option<SocketAddr> {
        self.receiver.bound_addr().await
    }

    pub fn subscribe_timeline(&self) -> watch::Receiver<TimelineChanged> {
        self.changes.subscribe()
    }

    /// Tells timeline watchers that existing events changed (deleted, replayed, pruned).
    pub(crate) fn runs_changed(&self) {
        self.runs_rev.send_modify(|r| *r += 1);
    }

    /// Fires whenever a rule's progress or a run changes.
    pub fn subscribe_runs(&self) -> watch::Receiver<u64> {
        self.runs_rev.subscribe()
    }

    pub(crate) fn bump_revision(&self) {
        self.changes.send_modify(|c| c.revision += 1);
    }

    /// Stops the receiver (letting in-flight requests finish), the background work, and
    /// closes the database.
    pub async fn shutdown(&self) {
        self.receiver.stop().await;
        let tasks: Vec<JoinHandle<()>> = self
            .background
            .lock()
            .map(|mut b| b.drain(..).collect())
            .unwrap_or_default();
        for t in tasks {
            t.abort();
        }
        self.writer.close().await;
        self.store.close().await;
    }
}
