use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use loopline_cloud::aws::Aws;
use loopline_cloud::pipelines::PipelineService;
use loopline_core::{
    ApiError, AppInfo, Clock, Entropy, ReceiverStatus, Run, TimelineChanged, VERSION,
};
use loopline_hooks::{router, Buckets, HooksState, ReceiverLimits, SourceTable};
use loopline_store::{EventWriter, Store, StoreOptions, DB_FILE_NAME};
use tokio::sync::{broadcast, watch};

use crate::clock::{OsEntropy, SystemClock};
use crate::listen::parse_listen;
use crate::paths::default_data_dir;
use crate::receiver::Receiver;
use crate::secrets::{Keychain, SecretStore};
use crate::supervisor::Supervisor;

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
    /// SageMaker Pipelines (with the configured AWS credentials) when `None`.
    pub pipelines: Option<Arc<dyn PipelineService>>,
    /// How long a claim on a run holds without renewal; `outbox::DEFAULT_LEASE` when `None`.
    pub lease: Option<Duration>,
    /// The tunnel provider, whatever the saved configuration says (tests put a fake here);
    /// the configured provider when `None`.
    pub tunnel: Option<Arc<dyn loopline_tunnel::TunnelProvider>>,
    /// S3 for the storage setup; `None` for the real one, in the region asked for.
    pub object_store: Option<Arc<dyn loopline_cloud::s3::ObjectStore>>,
    /// IAM for the role setup; `None` for the real one.
    pub roles: Option<Arc<dyn loopline_cloud::iam::Roles>>,
    /// SageMaker for the pipeline setup; `None` for the real one, in the region asked for.
    pub pipeline_definitions:
        Option<Arc<dyn loopline_cloud::pipeline_definitions::PipelineDefinitions>>,
    /// SageMaker's model registry (the pipeline's model versions); `None` for the real one,
    /// in the region asked for.
    pub model_registry: Option<Arc<dyn loopline_cloud::model_registry::ModelRegistry>>,
    /// Label Studio for the labeling setup; `None` for the connected one.
    pub labeling: Option<Arc<dyn loopline_cloud::label_studio_setup::LabelingProjects>>,
    /// Label Studio for Aquarium exports; `None` for the connected one.
    pub labeling_tasks: Option<Arc<dyn loopline_cloud::label_studio_tasks::LabelingTasks>>,
    /// Plain HTTP for export targets and image headers; `None` for the real one.
    pub web: Option<Arc<dyn loopline_cloud::web::Web>>,
    /// IAM for the Label Studio storage user; `None` for the real one.
    pub users: Option<Arc<dyn loopline_cloud::iam_users::StorageUsers>>,
    /// Label Studio for catching up after a gap; `None` for the connected one.
    pub project_activity: Option<Arc<dyn loopline_cloud::label_studio_activity::ProjectActivity>>,
    /// How long the setup waits between tries while a new role cannot be assumed yet;
    /// about a minute in all when `None`.
    pub setup_retry_delays: Option<Vec<Duration>>,
}

/// One open data directory: its store, its receiver and the work behind them. The app holds
/// one for its whole life; each CLI command opens one for as long as it runs.
/// What background tasks hold: they end when the engine is dropped. Here, beside `Engine`,
/// so the tasks and the heartbeat need not import each other for it.
pub(crate) type WeakEngine = std::sync::Weak<Engine>;

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
    /// What other processes on this data directory changed, looked at once a second
    /// (`change_watch.rs`): the background loops wait on it instead of polling.
    pub(crate) marks: watch::Sender<loopline_store::ChangeMarks>,
    /// How often registered Label Studio webhooks are checked (ms).
    pub(crate) hook_check_ms: std::sync::atomic::AtomicI64,
    /// Moves on whenever something is enqueued in the outbox: every lane watches it, so each
    /// sees the change however many lanes there are and whether or not it was waiting then
    /// (a `Notify::notify_one` woke one lane, often not the one the item was for).
    pub(crate) outbox_wake: watch::Sender<u64>,
    /// What each annotation object said, by ETag, so a dataset version reads only new ones.
    pub(crate) annotation_reads: crate::annotation_reads::AnnotationReads,
    /// Secrets read recently, so a delivery does not go to the keychain each time.
    pub(crate) secret_cache: crate::secret_cache::SecretCache,
    /// The sources revision the receiver's table was built from (-1: never built).
    pub(crate) sources_loaded: std::sync::atomic::AtomicI64,
    /// Why the last reload of the source table failed (the previous table stayed).
    pub(crate) sources_error: Mutex<Option<ApiError>>,
    pub(crate) supervisor: Supervisor,
    /// `app` or `serve`, once background work started.
    pub(crate) process_kind: Mutex<&'static str>,
    pub(crate) started_at_ms: i64,
    /// This engine's id as an outbox worker: the owner of the leases it takes.
    pub(crate) worker_id: String,
    pub(crate) lease_ms: i64,
    pub(crate) pipelines: Option<Arc<dyn PipelineService>>,
    /// The AWS configuration and the `aws.revision` it was built from.
    pub(crate) aws_cache: tokio::sync::Mutex<Option<(String, Aws)>>,
    pub(crate) aws_loads: std::sync::atomic::AtomicU64,
    /// Each run that ended, published once.
    pub(crate) run_endings: broadcast::Sender<Run>,
    pub(crate) tunnel_override: Option<Arc<dyn loopline_tunnel::TunnelProvider>>,
    pub(crate) object_store_override: Option<Arc<dyn loopline_cloud::s3::ObjectStore>>,
    pub(crate) roles_override: Option<Arc<dyn loopline_cloud::iam::Roles>>,
    pub(crate) pipeline_definitions_override:
        Option<Arc<dyn loopline_cloud::pipeline_definitions::PipelineDefinitions>>,
    pub(crate) model_registry_override:
        Option<Arc<dyn loopline_cloud::model_registry::ModelRegistry>>,
    pub(crate) setup_retry_delays: Vec<Duration>,
    pub(crate) labeling_override:
        Option<Arc<dyn loopline_cloud::label_studio_setup::LabelingProjects>>,
    pub(crate) users_override: Option<Arc<dyn loopline_cloud::iam_users::StorageUsers>>,
    pub(crate) labeling_tasks_override:
        Option<Arc<dyn loopline_cloud::label_studio_tasks::LabelingTasks>>,
    /// Plain HTTP for export targets, image headers and thumbnails: one client, so its
    /// connections are reused across the hundreds of requests an export may make.
    pub(crate) web: Arc<dyn loopline_cloud::web::Web>,
    /// Aquarium issues already read (see `aquarium.rs`).
    pub(crate) issues: std::sync::Mutex<crate::aquarium::IssueCache>,
    /// The storage setup the app runs in the background.
    pub(crate) setup_job: Arc<crate::setup::JobSlot>,
    /// Wakes the tunnel keeper when this process changed the tunnel.
    pub(crate) tunnel_wake: tokio::sync::Notify,
    /// The setup work running here that the user may cancel.
    pub(crate) setup_cancels: crate::setup::Cancels,
    /// Desktop notifications to show (the app shows them), after settings and rate limits.
    pub(crate) notices: broadcast::Sender<loopline_core::Notice>,
    pub(crate) notice_gate: Mutex<crate::companion::NoticeGate>,
    /// Catching up after a sleep, a closed app or a tunnel outage (`catch_up.rs`).
    pub(crate) catch_ups: crate::catch_up::CatchUps,
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
        let entropy: Arc<dyn Entropy> = options.entropy.unwrap_or_else(|| Arc::new(OsEntropy));
        let worker_id = crate::worker_id::new_worker_id(entropy.as_ref());
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
            clock: clock.clone(),
            entropy,
            secrets: options.secrets.unwrap_or_else(|| Arc::new(Keychain)),
            changes,
            sources_loaded: std::sync::atomic::AtomicI64::new(-1),
            runs_rev: watch::channel(0).0,
            marks: watch::channel(loopline_store::ChangeMarks::default()).0,
            outbox_wake: watch::channel(0).0,
            annotation_reads: Default::default(),
            secret_cache: Default::default(),
            hook_check_ms: std::sync::atomic::AtomicI64::new(
                crate::hook_watch::DEFAULT_HOOK_CHECK.as_millis() as i64,
            ),
            sources_error: Mutex::new(None),
            supervisor: Supervisor::default(),
            process_kind: Mutex::new(""),
            started_at_ms: clock.now_ms(),
            worker_id,
            lease_ms: options
                .lease
                .unwrap_or(crate::outbox::DEFAULT_LEASE)
                .as_millis() as i64,
            pipelines: options.pipelines,
            aws_cache: tokio::sync::Mutex::new(None),
            aws_loads: std::sync::atomic::AtomicU64::new(0),
            run_endings: broadcast::channel(64).0,
            tunnel_override: options.tunnel,
            object_store_override: options.object_store,
            roles_override: options.roles,
            pipeline_definitions_override: options.pipeline_definitions,
            model_registry_override: options.model_registry,
            labeling_override: options.labeling,
            users_override: options.users,
            labeling_tasks_override: options.labeling_tasks,
            issues: crate::aquarium::new_issue_cache(),
            web: match options.web {
                Some(w) => w,
                None => Arc::new(loopline_cloud::web::Http::new()?),
            },
            setup_retry_delays: options.setup_retry_delays.unwrap_or_else(|| {
                [2, 4, 6, 8, 10, 10, 10, 10]
                    .map(Duration::from_secs)
                    .to_vec()
            }),
            setup_job: Arc::default(),
            tunnel_wake: tokio::sync::Notify::new(),
            setup_cancels: Default::default(),
            notices: broadcast::channel(64).0,
            notice_gate: Mutex::new(crate::companion::NoticeGate::new(
                crate::companion::NOTICE_WINDOW_MS,
            )),
            catch_ups: crate::catch_up::CatchUps::new(options.project_activity),
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
            commit: crate::about::commit().to_string(),
            data_dir: self.data_dir.display().to_string(),
            db_path: self.store.path().display().to_string(),
            schema_version: self.store.schema_version().await?,
            db_size_bytes: self.store.size_bytes(),
            activity: self.store.quiescence(self.clock.now_ms()).await?,
            processes: self.processes().await?,
            log_dir: crate::logs::log_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
            log_file: crate::logs::current_file().map(|p| p.display().to_string()),
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

    /// Starts (or moves) the receiver. Background work is started separately, with the
    /// engine (`start_background`), so it runs even when the receiver cannot. `remember`
    /// saves the address for the next start, which is what the app does when the user picks
    /// a new port.
    pub async fn start_receiver(
        self: &Arc<Self>,
        listen: &str,
        public: bool,
        remember: bool,
    ) -> Result<SocketAddr, ApiError> {
        let addr = parse_listen(listen, public)?;
        self.reload_sources().await;
        let selftest_key = self.selftest_key().await?;
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
            selftest_key: Some(Arc::new(loopline_core::Sensitive::new(selftest_key))),
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

    /// Each run that ended (succeeded, failed, stopped, could not start), once, whichever
    /// process recorded the end. Needs the background work (`start_background`).
    pub fn subscribe_run_endings(&self) -> broadcast::Receiver<Run> {
        self.run_endings.subscribe()
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
        // Read before stopping: `stop_all` empties the task list that `started` looks at, so
        // asking after it skipped the clear and a stopped `serve` looked alive for 10 s.
        let ran_background = self.supervisor.started();
        self.supervisor.stop_all();
        if let Err(e) = self.release_tunnel_keeper().await {
            tracing::warn!(code = %e.code, "tunnel keeper lease not released: {}", e.message);
        }
        if ran_background {
            self.clear_heartbeat().await;
            // The start of the gap the next start catches up on.
            self.mark_alive().await;
        }
        self.writer.close().await;
        self.store.close().await;
    }
}
