//! The flags every subcommand shares, in a module of their own so the subcommands' own
//! argument files can use them without importing `args.rs`, which names those files.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, ValueEnum};
use loopline_engine::secrets::{EnvSecrets, Keychain, SecretStore};
use loopline_engine::EngineOptions;

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum SecretsBackend {
    /// The OS keychain (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows).
    Keychain,
    /// LOOPLINE_SECRET_<NAME> environment variables; read-only, never written anywhere.
    Env,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Where Loopline keeps its database. Defaults to the OS's app-data folder
    /// (~/.local/share/loopline on Linux).
    #[arg(long, global = true, env = "LOOPLINE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Where secrets live.
    #[arg(
        long,
        global = true,
        env = "LOOPLINE_SECRETS",
        value_enum,
        default_value = "keychain"
    )]
    pub secrets: SecretsBackend,
}

impl GlobalArgs {
    pub fn engine_options(&self) -> EngineOptions {
        let secrets: Arc<dyn SecretStore> = match self.secrets {
            SecretsBackend::Keychain => Arc::new(Keychain),
            SecretsBackend::Env => Arc::new(EnvSecrets),
        };
        EngineOptions {
            data_dir: self.data_dir.clone(),
            secrets: Some(secrets),
            ..Default::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}
