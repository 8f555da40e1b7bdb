use std::io::Read;

use loopline_core::{ApiError, CreatedSource, ErrorCode, Sensitive, SourceKind};
use loopline_engine::Engine;

use crate::args::{GlobalArgs, KindArg, SourceCommand};
use crate::output::print_json;

pub async fn run(global: &GlobalArgs, cmd: SourceCommand) -> Result<(), ApiError> {
    let engine = Engine::open(global.engine_options()).await?;
    let result = dispatch(&engine, cmd).await;
    engine.shutdown().await;
    result
}

async fn dispatch(engine: &Engine, cmd: SourceCommand) -> Result<(), ApiError> {
    match cmd {
        SourceCommand::Add {
            kind,
            name,
            secret_stdin,
            no_secret,
            json,
        } => {
            if no_secret {
                if kind != KindArg::Aquarium {
                    return Err(ApiError::new(
                        ErrorCode::InvalidArgument,
                        "--no-secret is for Aquarium sources only: Label Studio and generic sources always get a secret.",
                    ));
                }
                let created = engine.add_source_without_secret(&name).await?;
                if !json {
                    eprintln!("This source accepts deliveries without X-Aquarium-Secret. Set a secret in Aquarium and `loopline source rotate {} --secret-stdin` to require it.", created.id);
                }
                return print_created(&created, json, "Added");
            }
            let kind = match kind {
                KindArg::LabelStudio => SourceKind::LabelStudio,
                KindArg::Aquarium => SourceKind::Aquarium,
                KindArg::Generic => SourceKind::Generic,
            };
            let secret = if secret_stdin {
                Some(read_secret()?)
            } else {
                None
            };
            let created = engine.add_source(kind, &name, secret).await?;
            print_created(&created, json, "Added")
        }
        SourceCommand::List(f) => {
            let sources = engine.list_sources().await?;
            if f.json {
                return print_json(&sources);
            }
            if sources.is_empty() {
                println!("No sources yet. Add one: loopline source add label-studio --name \"My project\"");
                return Ok(());
            }
            println!(
                "{:<17} {:<13} {:<24} {:>7}  HOOK PATH",
                "ID", "KIND", "NAME", "EVENTS"
            );
            for s in sources {
                println!(
                    "{:<17} {:<13} {:<24} {:>7}  {}{}",
                    s.id,
                    s.kind.as_str(),
                    s.name,
                    s.event_count,
                    s.hook_path,
                    s.previous_secret_valid_until
                        .map(|t| format!("  (previous secret valid until {t})"))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
        SourceCommand::Rotate {
            id,
            grace,
            secret_stdin,
            json,
        } => {
            let grace_secs = parse_duration(&grace)?;
            let secret = if secret_stdin {
                Some(read_secret()?)
            } else {
                None
            };
            let created = engine.rotate_source(&id, grace_secs, secret).await?;
            print_created(&created, json, "Rotated")
        }
        SourceCommand::Remove { id, json } => {
            engine.remove_source(&id).await?;
            if json {
                print_json(&serde_json::json!({ "removed": id }))
            } else {
                println!("Removed source {id}. Its events stay on the timeline.");
                Ok(())
            }
        }
        SourceCommand::Test { id, url, json } => {
            let event_id = engine.send_test_event(&id, url.as_deref()).await?;
            if json {
                print_json(&serde_json::json!({ "event_id": event_id }))
            } else {
                println!("Test event received as event {event_id}.");
                Ok(())
            }
        }
    }
}

fn print_created(created: &CreatedSource, json: bool, verb: &str) -> Result<(), ApiError> {
    if json {
        return print_json(created);
    }
    println!(
        "{verb} {} source '{}' ({}).",
        created.kind.as_str(),
        created.name,
        created.id
    );
    println!();
    println!("  Hook URL: {}", created.hook_url);
    match (&created.token, created.kind) {
        (Some(token), SourceKind::Generic) => {
            println!("  Signing secret (Standard Webhooks): {token}");
        }
        (Some(token), _) => println!("  Header:   {}: {token}", created.header_name),
        (None, _) => println!(
            "  Header:   {} (the secret you provided)",
            created.header_name
        ),
    }
    if created.token.is_some() {
        println!();
        println!("This secret is shown once. Loopline keeps only a digest of it (and the keychain keeps the secret).");
    }
    Ok(())
}

/// Secrets come from stdin, never from argv, where other users and shell history see them.
pub fn read_secret() -> Result<Sensitive<String>, ApiError> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidArgument,
            format!("Could not read the secret from stdin: {e}"),
        )
    })?;
    let trimmed = s.trim().to_string();
    if trimmed.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidArgument,
            "No secret arrived on stdin. Pipe it in, e.g. `pbpaste | loopline source add aquarium --name X --secret-stdin`.",
        ));
    }
    Ok(Sensitive::new(trimmed))
}

/// `0`, `90`, `90s`, `30m`, `24h`, `7d` → seconds.
pub fn parse_duration(s: &str) -> Result<i64, ApiError> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num.parse().map_err(|_| bad_duration(s))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad_duration(s)),
    };
    Ok(n * mult)
}

fn bad_duration(s: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidArgument,
        format!("'{s}' is not a duration. Use a number with s, m, h or d, e.g. 24h."),
    )
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("0").unwrap(), 0);
        assert_eq!(parse_duration("90").unwrap(), 90);
        assert_eq!(parse_duration("30m").unwrap(), 1800);
        assert_eq!(parse_duration("24h").unwrap(), 86_400);
        assert_eq!(parse_duration("7d").unwrap(), 604_800);
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5y").is_err());
    }
}
