use loopline_core::{
    ApiError, Counter, DeletedHookPolicy, ErrorCode, Overlap, PipelineParam, RetrainRule, Run,
};
use loopline_engine::{Engine, RuleRequest};

use crate::args::{
    CounterArg, GlobalArgs, LabelStudioCommand, OverlapArg, RuleAdd, RuleCommand, RunsCommand,
};
use crate::output::print_json;
use crate::source_cmd::parse_duration;

pub async fn rule(global: &GlobalArgs, cmd: RuleCommand) -> Result<(), ApiError> {
    let engine = Engine::open(global.engine_options()).await?;
    let result = run_rule(&engine, cmd).await;
    engine.shutdown().await;
    result
}

async fn run_rule(engine: &Engine, cmd: RuleCommand) -> Result<(), ApiError> {
    match cmd {
        RuleCommand::Add(RuleAdd::Retrain(a)) => {
            let params = parse_params(&a.params)?;
            let rule = engine
                .add_rule(RuleRequest {
                    source_id: a.source,
                    project_id: a.project,
                    every: a.every,
                    pipeline: a.pipeline,
                    params,
                    counter: match a.counter {
                        CounterArg::Useful => Counter::Useful,
                        CounterArg::Total => Counter::Total,
                    },
                    overlap: overlap_of(a.overlap),
                    dry_run: a.dry_run,
                    start_time_limit_secs: parse_duration(&a.start_time_limit)?,
                    start_count: a.start_count,
                    name: None,
                    dataset_automation: None,
                    even_if_shared: a.even_if_shared.then_some(true),
                })
                .await?;
            if a.json {
                return print_json(&rule);
            }
            println!(
                "Added {}: every {} on project {} from {}, start pipeline {}{}.",
                rule.id,
                rule.every,
                rule.project_id,
                rule.source_id,
                rule.pipeline,
                if rule.dry_run {
                    " (dry run: nothing is started)"
                } else {
                    ""
                }
            );
            println!("{}.", rule.progress_sentence());
            println!("Runs start while `loopline serve` (or the app) runs.");
            Ok(())
        }
        RuleCommand::List(flag) => {
            let rules = engine.list_rules().await?;
            if flag.json {
                let with_progress: Vec<serde_json::Value> = rules
                    .iter()
                    .map(|r| {
                        let mut v = serde_json::to_value(r).unwrap_or_default();
                        v["progress"] = r.progress_sentence().into();
                        v
                    })
                    .collect();
                return print_json(&with_progress);
            }
            if rules.is_empty() {
                println!("No rules yet. Add one with `loopline rule add retrain --source ID --project N --pipeline NAME`.");
            }
            for r in rules {
                print_rule(&r);
            }
            Ok(())
        }
        RuleCommand::Remove { id } => {
            engine.remove_rule(&id).await?;
            println!("Removed {id}. Its runs stay in `loopline runs list`.");
            Ok(())
        }
    }
}

fn print_rule(r: &RetrainRule) {
    println!(
        "{}  project {} via {}  every {}  → {}{}\n    {}",
        r.id,
        r.project_id,
        r.source_id,
        r.every,
        r.pipeline,
        if r.dry_run { "  (dry run)" } else { "" },
        r.progress_sentence()
    );
}

pub async fn runs(global: &GlobalArgs, cmd: RunsCommand) -> Result<(), ApiError> {
    let engine = Engine::open(global.engine_options()).await?;
    let result = match cmd {
        RunsCommand::List { limit, json } => engine.list_runs(limit).await.and_then(|runs| {
            if json {
                return print_json(&runs);
            }
            if runs.is_empty() {
                println!("No runs yet.");
            }
            for r in &runs {
                println!(
                    "{:>5}  {:<12}  {}  count {} (event {})  {}",
                    r.id,
                    r.status.as_str(),
                    r.created_at,
                    r.count,
                    r.event_id,
                    r.pipeline
                );
            }
            Ok(())
        }),
        RunsCommand::Show { id, json } => engine.run(id).await.and_then(|r| show_run(&r, json)),
        RunsCommand::Retry { id, json } => engine.retry_run(id).await.and_then(|r| {
            if json {
                return print_json(&r);
            }
            println!(
                "Run {} will be started again now (while `loopline serve` or the app runs).",
                r.id
            );
            Ok(())
        }),
    };
    engine.shutdown().await;
    result
}

fn show_run(r: &Run, json: bool) -> Result<(), ApiError> {
    if json {
        return print_json(r);
    }
    println!("Run {}: {}", r.id, r.status.as_str());
    println!("  pipeline   {}", r.pipeline);
    println!(
        "  trigger    event {} at count {} (multiples {}..={} of the rule's N)",
        r.event_id, r.count, r.bucket_from, r.bucket_to
    );
    for p in &r.params {
        println!("  param      {} = {}", p.name, p.value);
    }
    println!("  created    {}", r.created_at);
    if let Some(s) = &r.started_at {
        println!("  started    {s}");
    }
    if let Some(f) = &r.finished_at {
        println!("  finished   {f}");
    }
    if let Some(arn) = &r.execution_arn {
        println!("  execution  {arn}");
    }
    if let Some(url) = &r.console_url {
        println!("  console    {url}");
    }
    if let Some(e) = &r.error {
        println!("  error      {e}");
    }
    if let Some(f) = &r.failure_reason {
        println!("  failure    {f}");
    }
    match (&r.steps, &r.steps_note) {
        (Some(steps), _) => {
            for s in steps {
                println!(
                    "  step       {} {}{}",
                    s.name,
                    s.status,
                    s.failure_reason
                        .as_deref()
                        .map(|f| format!(": {f}"))
                        .unwrap_or_default()
                );
            }
        }
        (None, Some(note)) => println!("  steps      {note}"),
        _ => {}
    }
    Ok(())
}

pub async fn label_studio(global: &GlobalArgs, cmd: LabelStudioCommand) -> Result<(), ApiError> {
    let (source, project, public_url, json) = match cmd {
        LabelStudioCommand::Hook {
            source,
            project,
            public_url,
            json,
        } => (source, project, public_url, json),
        LabelStudioCommand::HookPolicy { if_deleted, json } => {
            return hook_policy(global, if_deleted, json).await
        }
    };
    let engine = Engine::open(global.engine_options()).await?;
    let result = match public_url {
        Some(url) => engine.label_studio_hook(&source, project, &url).await,
        None => match engine.tunnel_public_url().await {
            Ok(url) => engine.label_studio_hook(&source, project, &url).await,
            Err(e) => Err(e),
        },
    };
    engine.shutdown().await;
    let hook = result?;
    if json {
        return print_json(&hook);
    }
    println!(
        "Webhook {} on project {project} {}: {} (header X-Loopline-Token, annotation actions).",
        hook.webhook_id, hook.change, hook.url
    );
    Ok(())
}

async fn hook_policy(
    global: &GlobalArgs,
    if_deleted: Option<String>,
    json: bool,
) -> Result<(), ApiError> {
    let engine = Engine::open(global.engine_options()).await?;
    let result = match if_deleted.as_deref().map(DeletedHookPolicy::parse) {
        Some(Some(p)) => engine.set_deleted_hook_policy(p).await,
        Some(None) => Err(ApiError::new(
            ErrorCode::InvalidArgument,
            "--if-deleted takes recreate or report.",
        )),
        None => engine.deleted_hook_policy().await,
    };
    engine.shutdown().await;
    let policy = result?;
    if json {
        return print_json(&serde_json::json!({ "if_deleted": policy }));
    }
    match policy {
        DeletedHookPolicy::Recreate => println!(
            "A Loopline webhook deleted in Label Studio is registered again, and the timeline says so."
        ),
        DeletedHookPolicy::Report => println!(
            "A Loopline webhook deleted in Label Studio stays deleted; the timeline says so once."
        ),
    }
    Ok(())
}

/// `--param NAME=VALUE`, repeated: a rule's and a start-pipeline automation's.
pub fn parse_params(params: &[String]) -> Result<Vec<PipelineParam>, ApiError> {
    params
        .iter()
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| PipelineParam {
                    name: k.trim().to_string(),
                    value: v.to_string(),
                })
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::InvalidArgument,
                        format!("--param '{p}' needs the form NAME=VALUE."),
                    )
                })
        })
        .collect()
}

pub fn overlap_of(a: OverlapArg) -> Overlap {
    match a {
        OverlapArg::Coalesce => Overlap::Coalesce,
        OverlapArg::Parallel => Overlap::Parallel,
        OverlapArg::Skip => Overlap::Skip,
    }
}
