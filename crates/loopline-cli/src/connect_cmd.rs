use std::io::Read;

use loopline_core::{
    ApiError, AwsIdentity, AwsMode, ErrorCode, LabelStudioIdentity, Sensitive, TokenKind,
};
use loopline_engine::{AwsCredentials, Engine};

use crate::args::{ConnectCommand, DisconnectCommand, GlobalArgs, VerifyCommand};
use crate::output::print_json;
use crate::source_cmd::read_secret;

pub async fn connect(global: &GlobalArgs, cmd: ConnectCommand) -> Result<(), ApiError> {
    match cmd {
        ConnectCommand::LabelStudio { url, json } => {
            let token = read_secret()?;
            let engine = Engine::open(global.engine_options()).await?;
            let result = engine.connect_label_studio(&url, token).await;
            engine.shutdown().await;
            show_ls(result?, json, "Connected to")
        }
        ConnectCommand::Aws {
            access_key_id,
            profile,
            region,
            json,
        } => {
            let credentials = match (access_key_id, profile) {
                (Some(id), _) => {
                    let (secret, session_token) = read_key_secrets()?;
                    AwsCredentials::Keys {
                        access_key_id: Sensitive::new(id),
                        secret_access_key: secret,
                        session_token,
                    }
                }
                (None, Some(p)) => AwsCredentials::Profile(p),
                (None, None) => unreachable!("clap requires one of them"),
            };
            let engine = Engine::open(global.engine_options()).await?;
            let result = engine.connect_aws(credentials, region.as_deref()).await;
            engine.shutdown().await;
            show_aws(result?, json, "Connected to")
        }
    }
}

/// Line 1: the secret access key. Line 2, optional: the session token.
fn read_key_secrets() -> Result<(Sensitive<String>, Option<Sensitive<String>>), ApiError> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidArgument,
            format!("Could not read the secret access key from stdin: {e}"),
        )
    })?;
    let mut lines = s.lines().map(str::trim).filter(|l| !l.is_empty());
    let secret = lines.next().ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidArgument,
            "No secret access key arrived on stdin. Pipe it in (a session token may follow on a second line), e.g. `pass aws/secret | loopline connect aws --access-key-id AKIA… --region eu-west-1`.",
        )
    })?;
    let token = lines.next().map(|t| Sensitive::new(t.to_string()));
    Ok((Sensitive::new(secret.to_string()), token))
}

pub async fn verify(global: &GlobalArgs, cmd: VerifyCommand) -> Result<(), ApiError> {
    let engine = Engine::open(global.engine_options()).await?;
    let result = match cmd {
        VerifyCommand::LabelStudio(flag) => engine
            .verify_label_studio()
            .await
            .and_then(|id| show_ls(id, flag.json, "Verified")),
        VerifyCommand::Aws(flag) => engine
            .verify_aws()
            .await
            .and_then(|id| show_aws(id, flag.json, "Verified")),
    };
    engine.shutdown().await;
    result
}

pub async fn disconnect(global: &GlobalArgs, cmd: DisconnectCommand) -> Result<(), ApiError> {
    let engine = Engine::open(global.engine_options()).await?;
    let result = match cmd {
        DisconnectCommand::LabelStudio => engine.disconnect_label_studio().await,
        DisconnectCommand::Aws => engine.disconnect_aws().await,
    };
    engine.shutdown().await;
    result?;
    println!("Forgotten.");
    Ok(())
}

fn show_ls(id: LabelStudioIdentity, json: bool, verb: &str) -> Result<(), ApiError> {
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

fn show_aws(id: AwsIdentity, json: bool, verb: &str) -> Result<(), ApiError> {
    if json {
        return print_json(&id);
    }
    let source = match (id.mode, &id.profile) {
        (AwsMode::Keys, _) => "stored access key".to_string(),
        (AwsMode::Profile, Some(p)) => format!("profile '{p}'"),
        _ => "the SDK's default chain".to_string(),
    };
    println!(
        "{verb} AWS account {} as {} in {} ({source}).",
        id.account, id.arn, id.region
    );
    Ok(())
}
