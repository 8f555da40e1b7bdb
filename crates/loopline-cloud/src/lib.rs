//! Clients for the services Loopline talks to. No tauri, no storage: each client takes its
//! credentials as `Sensitive` values and the time from a `Clock`.

pub mod aws;
pub mod iam;
pub mod iam_users;
pub mod image_hosts;
pub mod image_resolver;
pub mod label_studio;
pub mod label_studio_activity;
pub mod label_studio_hooks;
pub mod label_studio_setup;
pub mod label_studio_tasks;
pub mod model_registry;
pub mod pipeline_definitions;
pub mod pipelines;
pub mod s3;
pub mod s3_names;
pub mod sagemaker;
mod shared_client;
pub mod standard_webhooks;
pub mod web;
