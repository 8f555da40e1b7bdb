//! `loopline`: the headless face of the engine. Every action in the app is also here,
//! so power users can script it and tests can drive it.

mod aquarium_cmd;
mod args;
mod automation_cmd;
mod automation_preview_cmd;
mod catch_up_cmd;
mod companion_cmd;
mod connect_cmd;
mod dataset_cmd;
mod db_cmd;
mod events_cmd;
mod export_args;
mod global_args;
mod info;
mod models_cmd;
mod output;
mod rule_cmd;
mod secret_cmd;
mod serve;
mod setup_args;
mod setup_cmd;
mod source_cmd;
mod tunnel_cmd;

use clap::Parser;

use crate::args::{Cli, Command};

// mimalloc rather than glibc's malloc: the receiver allocates and frees a few kilobytes per
// webhook on two threads and hands buffers between them, which glibc served with bin
// consolidation; B1 (`scripts/bench b1`, quiet machine, alternated runs) went from 15.0k
// to 16.0k req/s and ~7 µs less CPU per event.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // Behave like a Unix tool when piped into `head`: end quietly, do not panic.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    loopline_engine::set_commit(env!("LOOPLINE_COMMIT"));
    let cli = Cli::parse();
    // serve is the one long-lived command: it logs to its rotating file too.
    loopline_engine::logs::init(match cli.command {
        Command::Serve(_) => loopline_engine::logs::LogKind::Serve,
        _ => loopline_engine::logs::LogKind::Cli,
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error[internal]: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let json = cli.command.wants_json();
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve::run(&cli.global, args).await,
            Command::Info(args) => info::run(&cli.global, args).await,
            Command::Diagnostics(args) => info::diagnostics(&cli.global, args).await,
            Command::Source(cmd) => source_cmd::run(&cli.global, cmd).await,
            Command::Events(cmd) => events_cmd::run(&cli.global, cmd).await,
            Command::Retention(cmd) => events_cmd::retention(&cli.global, cmd).await,
            Command::Secret(cmd) => secret_cmd::run(&cli.global, cmd).await,
            Command::Connect(cmd) => connect_cmd::connect(&cli.global, cmd).await,
            Command::Verify(cmd) => connect_cmd::verify(&cli.global, cmd).await,
            Command::Disconnect(cmd) => connect_cmd::disconnect(&cli.global, cmd).await,
            Command::Rule(cmd) => rule_cmd::rule(&cli.global, cmd).await,
            Command::Runs(cmd) => rule_cmd::runs(&cli.global, cmd).await,
            Command::LabelStudio(cmd) => rule_cmd::label_studio(&cli.global, cmd).await,
            Command::Tunnel(cmd) => tunnel_cmd::run(&cli.global, cmd).await,
            Command::Setup(cmd) => setup_cmd::run(&cli.global, cmd).await,
            Command::Aquarium(cmd) => aquarium_cmd::run(&cli.global, cmd).await,
            Command::Automation(cmd) => automation_cmd::run(&cli.global, cmd).await,
            Command::Dataset(cmd) => dataset_cmd::run(&cli.global, cmd).await,
            Command::Models(cmd) => models_cmd::run(&cli.global, cmd).await,
            Command::Db(cmd) => db_cmd::run(&cli.global, cmd).await,
            Command::Status(f) => companion_cmd::status(&cli.global, f).await,
            Command::Settings(cmd) => companion_cmd::settings(&cli.global, cmd).await,
            Command::Autostart(cmd) => companion_cmd::autostart(&cli.global, cmd).await,
            Command::CatchUp(args) => catch_up_cmd::run(&cli.global, args).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            output::print_error(&err, json);
            std::process::ExitCode::FAILURE
        }
    }
}
