use std::io::Read;

use loopline_core::{ApiError, ErrorCode, EventQuery, EventStatus, RetentionPolicy};
use loopline_engine::Engine;

use crate::args::{EventsCommand, GlobalArgs, RetentionCommand, StatusArg};
use crate::output::print_json;

pub async fn run(global: &GlobalArgs, cmd: EventsCommand) -> Result<(), ApiError> {
    let engine = Engine::open(global.engine_options()).await?;
    let result = dispatch(&engine, cmd).await;
    engine.shutdown().await;
    result
}

async fn dispatch(engine: &Engine, cmd: EventsCommand) -> Result<(), ApiError> {
    match cmd {
        EventsCommand::List {
            source,
            action,
            status,
            project,
            search,
            before,
            limit,
            json,
        } => {
            let query = EventQuery {
                source_id: source,
                action,
                status: status.map(|s| match s {
                    StatusArg::Processed => EventStatus::Processed,
                    StatusArg::Duplicate => EventStatus::Duplicate,
                    StatusArg::Malformed => EventStatus::Malformed,
                    StatusArg::Rejected => EventStatus::Rejected,
                }),
                project_id: project,
                search,
                before_id: before,
                after_id: None,
                limit: None,
            };
            if query.search.is_some() {
                // Search covers everything stored, including what arrived a moment ago.
                engine.index_all().await?;
            }
            let page = engine
                .list_events_up_to(&query, limit.max(1) as usize)
                .await?;
            if json {
                return print_json(&page.events);
            }
            if page.events.is_empty() {
                println!("No events match. Send one with `loopline source test ID`.");
                return Ok(());
            }
            for e in &page.events {
                println!(
                    "{:>8}  {}  {:<10}  {:<20}  {}",
                    e.id,
                    e.received_at,
                    e.status.as_str(),
                    e.action.as_deref().unwrap_or("-"),
                    e.summary
                );
            }
            if let Some(next) = page.next_before_id {
                println!("… more: --before {next}");
            }
            Ok(())
        }
        EventsCommand::Show { id, json } => {
            let detail = engine.show_event(id).await?;
            if json {
                return print_json(&detail);
            }
            let e = &detail.event;
            println!("Event {}  {}  {}", e.id, e.received_at, e.status.as_str());
            println!("{}", e.summary);
            println!(
                "source {}  kind {}  action {}  project {}",
                e.source_id,
                e.kind.as_str(),
                e.action.as_deref().unwrap_or("-"),
                e.project_id
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "-".into())
            );
            println!();
            for h in &detail.headers {
                println!("{}: {}", h.name, h.value);
            }
            println!();
            match &detail.body_json {
                Some(v) => println!("{}", serde_json::to_string_pretty(v).unwrap_or_default()),
                None => println!("{}", detail.body_text),
            }
            if !detail.redacted_paths.is_empty() {
                println!();
                println!("Masked secret fields: {}", detail.redacted_paths.join(", "));
            }
            Ok(())
        }
        EventsCommand::Replay {
            id,
            body_stdin,
            json,
        } => {
            let outcome = if body_stdin {
                let mut body = String::new();
                std::io::stdin().read_to_string(&mut body).map_err(|e| {
                    ApiError::new(
                        ErrorCode::InvalidArgument,
                        format!("Could not read the body from stdin: {e}"),
                    )
                })?;
                engine.replay_edited(id, &body).await?
            } else {
                engine.replay_event(id).await?
            };
            if json {
                print_json(&outcome)
            } else {
                println!("{}", outcome.message);
                Ok(())
            }
        }
        EventsCommand::Delete { id, json } => {
            engine.delete_event(id).await?;
            if json {
                print_json(&serde_json::json!({ "deleted": id }))
            } else {
                println!("Deleted event {id}.");
                Ok(())
            }
        }
    }
}

pub async fn retention(global: &GlobalArgs, cmd: RetentionCommand) -> Result<(), ApiError> {
    let engine = Engine::open(global.engine_options()).await?;
    let result = async {
        let (stats, json) = match cmd {
            RetentionCommand::Show(f) => (engine.timeline_stats().await?, f.json),
            RetentionCommand::Set { days, events, json } => {
                let current = engine.timeline_stats().await?.retention;
                let policy = RetentionPolicy {
                    max_days: match days.as_deref() {
                        None => current.max_days,
                        Some(d) => limit(d)?.map(|n| n as u32),
                    },
                    max_events: match events.as_deref() {
                        None => current.max_events,
                        Some(e) => limit(e)?,
                    },
                };
                (engine.set_retention(&policy).await?, json)
            }
        };
        if json {
            return print_json(&stats);
        }
        println!(
            "Keeping {} and {}.",
            stats
                .retention
                .max_days
                .map(|d| format!("{d} days"))
                .unwrap_or_else(|| "every day".into()),
            stats
                .retention
                .max_events
                .map(|n| format!("the newest {n} events"))
                .unwrap_or_else(|| "every event".into())
        );
        println!(
            "{} events stored; database {} bytes.",
            stats.total_events, stats.db_size_bytes
        );
        Ok(())
    }
    .await;
    engine.shutdown().await;
    result
}

fn limit(s: &str) -> Result<Option<i64>, ApiError> {
    if s.eq_ignore_ascii_case("none") || s.is_empty() {
        return Ok(None);
    }
    s.parse::<i64>().map(Some).map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidArgument,
            format!("'{s}' is not a number (or 'none' for no limit)."),
        )
    })
}
