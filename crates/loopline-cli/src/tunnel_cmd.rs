//! `loopline tunnel …`: choose the tunnel, read its status, self-test it. The tunnel itself
//! runs inside `loopline serve` or the app; these commands talk to it through the data
//! directory, so a change here takes effect there without a restart.

use loopline_core::{ApiError, NamedTunnel, TunnelConfig, TunnelState, TunnelStatus};
use loopline_engine::Engine;

use crate::args::{GlobalArgs, TunnelCommand, TunnelSet};
use crate::output::print_json;

pub async fn run(global: &GlobalArgs, cmd: TunnelCommand) -> Result<(), ApiError> {
    let json = cmd.json();
    let engine = Engine::open(global.engine_options()).await?;
    let result = run_with(&engine, cmd).await;
    engine.shutdown().await;
    match result? {
        Shown::Status(status) => show_status(&status, json),
        Shown::Test(test) => {
            if json {
                print_json(&test)?;
            } else if test.reachable {
                println!(
                    "Reachable from the internet · {} ms ({}, {} attempt{})",
                    test.rtt_ms.unwrap_or_default(),
                    test.public_url,
                    test.attempts,
                    if test.attempts == 1 { "" } else { "s" }
                );
            }
            match test.error {
                Some(e) if !test.reachable && !json => Err(e),
                _ if !test.reachable => std::process::exit(1),
                _ => Ok(()),
            }
        }
    }
}

enum Shown {
    Status(TunnelStatus),
    Test(loopline_core::TunnelTest),
}

async fn run_with(engine: &Engine, cmd: TunnelCommand) -> Result<Shown, ApiError> {
    Ok(match cmd {
        TunnelCommand::Set(set) => Shown::Status(engine.set_tunnel(config_of(set)).await?),
        TunnelCommand::Off => Shown::Status(engine.tunnel_off().await?),
        TunnelCommand::Status(_) => Shown::Status(engine.tunnel_status().await?),
        TunnelCommand::Test(_) => Shown::Test(engine.tunnel_test().await?),
    })
}

fn config_of(set: TunnelSet) -> TunnelConfig {
    match set {
        TunnelSet::Cloudflared {
            binary,
            named,
            token_secret,
            hostname,
            ..
        } => TunnelConfig::Cloudflared {
            binary,
            named: match (named, token_secret, hostname) {
                (true, Some(token_secret), Some(hostname)) => Some(NamedTunnel {
                    token_secret,
                    hostname,
                }),
                _ => None,
            },
        },
        TunnelSet::Ngrok {
            authtoken_secret,
            domain,
            ..
        } => TunnelConfig::Ngrok {
            authtoken_secret,
            domain,
        },
        TunnelSet::Bore {
            server,
            secret_name,
            https_url,
            ..
        } => TunnelConfig::Bore {
            server,
            secret_name,
            https_url,
        },
        TunnelSet::Url { public_url, .. } => TunnelConfig::Url { public_url },
    }
}

fn show_status(status: &TunnelStatus, json: bool) -> Result<(), ApiError> {
    if json {
        return print_json(status);
    }
    let provider = status.provider.as_deref().unwrap_or("none");
    let state = match status.state {
        TunnelState::Stopped => "stopped".to_string(),
        TunnelState::Starting => "starting".to_string(),
        TunnelState::Reachable => format!(
            "reachable from the internet · {} ms",
            status.rtt_ms.unwrap_or_default()
        ),
        TunnelState::Unreachable => "unreachable".to_string(),
    };
    println!("Tunnel: {provider}, {state}");
    if let Some(url) = &status.public_url {
        println!("  public URL: {url}");
    }
    if let Some(at) = &status.verified_at {
        println!("  last verified: {at}");
    }
    if let Some(by) = &status.kept_by {
        println!("  kept by: {by}");
    }
    if let Some(e) = &status.error {
        println!("  error[{}]: {}", e.code, e.message);
    }
    if let Some(note) = &status.note {
        println!("  {note}");
    }
    if status.provider.is_none() {
        match &status.cloudflared_found {
            Some(path) => println!(
                "  cloudflared is installed ({path}): `loopline tunnel set cloudflared` opens a quick tunnel, no account needed."
            ),
            None => {
                println!("  The choices:");
                println!("    loopline tunnel set cloudflared            a Cloudflare quick tunnel, no account (cloudflared is not installed yet; this command says how to get it)");
                println!("    loopline tunnel set ngrok --authtoken-secret ngrok-authtoken [--domain D]   your ngrok account");
                println!("    loopline tunnel set bore --server HOST [--https-url URL]                    your own bore server");
                println!("    loopline tunnel set url --public-url URL   your own reverse proxy, Tailscale Funnel or VPN");
            }
        }
    }
    Ok(())
}
