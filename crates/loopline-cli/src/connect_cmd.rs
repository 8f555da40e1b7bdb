use loopline_core::{ApiError, LabelStudioIdentity, TokenKind};
use loopline_engine::Engine;

use crate::args::{ConnectCommand, GlobalArgs, VerifyCommand};
use crate::output::print_json;
use crate::source_cmd::read_secret;

pub async fn connect(global: &GlobalArgs, cmd: ConnectCommand) -> Result<(), ApiError> {
    let ConnectCommand::LabelStudio { url, json } = cmd;
    let token = read_secret()?;
    let engine = Engine::open(global.engine_options()).await?;
    let result = engine.connect_label_studio(&url, token).await;
    engine.shutdown().await;
    show(result?, json, "Connected to")
}

pub async fn verify(global: &GlobalArgs, cmd: VerifyCommand) -> Result<(), ApiError> {
    let VerifyCommand::LabelStudio(flag) = cmd;
    let engine = Engine::open(global.engine_options()).await?;
    let result = engine.verify_label_studio().await;
    engine.shutdown().await;
    show(result?, flag.json, "Verified")
}

fn show(id: LabelStudioIdentity, json: bool, verb: &str) -> Result<(), ApiError> {
    if json {
        return print_json(&id);
    }
    println!(
        "{verb} Label Studio {} at {} as {} ({}).",
        id.version.as_deref().unwrap_or("(version unknown)"),
        id.url,
        id.email,
        match id.token_kind {
            TokenKind::Legacy => "legacy token",
            TokenKind::PersonalAccessToken => "personal access token, refreshed automatically",
        }
    );
    Ok(())
}
