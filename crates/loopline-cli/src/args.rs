use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use loopline_engine::EngineOptions;

#[derive(Debug, Parser)]
#[command(
    name = "loopline",
    version,
    about = "Receive Label Studio and Aquarium webhooks, keep them, and act on them.",
    long_about = "Loopline receives webhooks from Label Studio and Aquarium on your machine, stores every \
                  one before acknowledging it, and drives the annotation-to-training loop. This is the \
                  headless command; the desktop app runs the same engine."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Where Loopline keeps its database. Defaults to the OS's app-data folder
    /// (~/.local/share/loopline on Linux).
    #[arg(long, global = true, env = "LOOPLINE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

impl GlobalArgs {
    pub fn engine_options(&self) -> EngineOptions {
        EngineOptions {
            data_dir: self.data_dir.clone(),
            ..Default::default()
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the webhook receiver until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// Show where Loopline keeps its data and which schema it is on.
    Info(InfoArgs),
}

impl Command {
    pub fn wants_json(&self) -> bool {
        match self {
            Command::Serve(_) => false,
            Command::Info(a) => a.json,
        }
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Defaults to the last one chosen in the app, else 127.0.0.1:8787.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Allow a non-loopback address such as 0.0.0.0. Without it, Loopline only listens on
    /// this machine and a tunnel brings the internet to it.
    #[arg(long)]
    pub public: bool,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}
