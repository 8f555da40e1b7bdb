//! Loopline's engine: the one API behind both the desktop app and the `loopline` CLI.
//!
//! Nothing here knows about windows or terminals; both front ends are thin adapters.

mod about;
mod annotation_reads;
mod aquarium;
pub mod aquarium_export;
mod automation_delivery;
pub mod automation_eval;
mod automation_notify;
pub mod automation_preview;
pub mod automation_rules;
mod automations;
mod aws;
mod background;
mod catch_up;
mod change_watch;
mod clock;
pub mod companion;
mod connections;
mod database;
mod dataset_version;
mod datasets;
mod deleted_hooks;
pub mod delivery_error;
mod engine;
mod events;
mod heartbeat;
mod hook_watch;
mod listen;
pub mod logs;
pub mod models;
pub mod outbox;
mod paths;
mod receiver;
mod retrain;
mod review_images;
mod rule_eval;
mod run_dataset;
mod run_monitor;
mod secret_cache;
mod secret_names;
pub mod secrets;
mod setup;
mod shared_project;
mod sources;
mod supervisor;
mod test_event;
mod tokens;
mod tunnel;
mod wake_watch;
mod worker_id;

pub use about::{commit, set_commit, DIAGNOSTIC_LOG_LINES};
pub use aws::{AwsCredentials, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN};
pub use catch_up::CATCH_UP_ACTION;
pub use clock::{OsEntropy, SystemClock};
pub use connections::LS_TOKEN_SECRET;
pub use database::{check_database, database_path, restore_database, BACKUP_EVERY_MS};
pub use engine::{Engine, EngineOptions, DEFAULT_LISTEN, DUPLICATE_WINDOW};
pub use listen::{parse_listen, suggest_free_addr};
pub use loopline_core::RuleRequest;
pub use loopline_hooks::ReceiverLimits;
pub use outbox::DEFAULT_LEASE;
pub use paths::default_data_dir;
pub use receiver::Receiver;
pub use retrain::PARAM_PLACEHOLDERS;
pub use rule_eval::{client_request_token, firing};
pub use setup::{
    storage_user_name, trust_policy as setup_trust_policy, ChosenPipeline, ProgressFn,
    DEFAULT_ROLE, DEFAULT_TRAINING_INSTANCE, IMAGE_FILTER, STEPS as SETUP_STEPS, TEMP_PREFIX,
};
