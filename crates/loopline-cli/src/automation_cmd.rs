//! `loopline automation …`: automations, a trigger and an action each (issue 26). This
//! version delivers the forward and notify actions; the others are refused with what to use
//! instead.

use clap::{Args, Subcommand, ValueEnum};
use loopline_core::{
    ApiError, Automation, AutomationAction, AutomationDetail, AutomationRequest, AutomationTrigger,
    Condition, Counter, ErrorCode, FireMode,
};
use loopline_engine::Engine;

use crate::args::CounterArg;
use crate::global_args::{GlobalArgs, JsonFlag};
use crate::output::print_json;

#[derive(Debug, Subcommand)]
pub enum AutomationCommand {
    /// Add an automation: which events (--source, --on, --project, --when), how often
    /// (--each or --every N), and what to do (--do forward --url U, --do notify
    /// [--desktop] [--slack-url-secret NAME] --message T, or --do dataset-version --bucket B).
    Add(Box<AutomationAdd>),
    /// What `add` with the same flags would have done on the last 50 matching events.
    Preview(Box<AutomationAdd>),
    /// The fields a --when condition may name.
    Fields(JsonFlag),
    /// The automations, with how often each fired.
    List(JsonFlag),
    /// One automation and its last 50 deliveries, with what each target answered.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Stop judging events (events that arrive meanwhile never fire it).
    Pause { id: String },
    /// Judge events again, from the next one on.
    Resume { id: String },
    /// Remove it; its deliveries stay as history, undelivered ones are not sent.
    Remove { id: String },
}

impl AutomationCommand {
    pub fn json(&self) -> bool {
        match self {
            AutomationCommand::Add(a) | AutomationCommand::Preview(a) => a.json,
            AutomationCommand::Fields(f) => f.json,
            AutomationCommand::List(f) => f.json,
            AutomationCommand::Show { json, .. } => *json,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum DoArg {
    /// POST the event to --url, signed with Standard Webhooks headers.
    Forward,
    /// A desktop notice and/or a Slack-compatible webhook, with --message T.
    Notify,
    /// Start --pipeline P each time the project's counter passes a multiple of --every N
    /// (the retrain rule: `loopline rule add retrain` adds the same).
    StartPipeline,
    /// Freeze the annotation objects in --bucket as a dataset version (a manifest in S3).
    DatasetVersion,
}

#[derive(Debug, Args)]
pub struct AutomationAdd {
    #[arg(long)]
    pub name: String,
    /// The source's id (`loopline source list`).
    #[arg(long)]
    pub source: String,
    /// Only this Label Studio project.
    #[arg(long)]
    pub project: Option<i64>,
    /// The actions to react to, comma-separated: ANNOTATION_CREATED, PROJECT_CREATED, ...
    #[arg(long, value_delimiter = ',', required = true)]
    pub on: Vec<String>,
    /// A condition on a parsed field, such as 'annotation.was_cancelled = false'; repeat for more (all must hold).
    #[arg(long = "when", value_name = "FIELD OP VALUE")]
    pub when: Vec<String>,
    /// Fire for each matching event.
    #[arg(long, conflicts_with = "every")]
    pub each: bool,
    /// Fire each time the project's counter reaches a multiple of N.
    #[arg(long)]
    pub every: Option<i64>,
    #[arg(long, value_enum, default_value = "useful")]
    pub counter: CounterArg,
    #[arg(long = "do", value_enum)]
    pub action: DoArg,
    /// Where a forward POSTs.
    #[arg(long)]
    pub url: Option<String>,
    /// The keychain secret (whsec_...) a forward signs with; unsigned without it.
    #[arg(long = "secret-name")]
    pub secret_name: Option<String>,
    /// A file holding a JSON template for a forward's body ({{body.project.title}},
    /// {{event.id}}, ...); the original body without it. Its text is stored.
    #[arg(long = "body-template", value_name = "FILE")]
    pub body_template: Option<std::path::PathBuf>,
    /// A notify's desktop notice (shown by the app; it can be switched off in Settings).
    #[arg(long)]
    pub desktop: bool,
    /// The keychain secret holding a Slack-compatible incoming webhook's URL
    /// (`loopline secret set NAME`, from stdin): the URL is never given on the command line.
    #[arg(long = "slack-url-secret", value_name = "NAME")]
    pub slack_url_secret: Option<String>,
    /// A notify's message, with the event's fields: "New project '{project.title}' is ready".
    #[arg(long)]
    pub message: Option<String>,
    /// The SageMaker pipeline a start-pipeline automation starts (name or ARN).
    #[arg(long)]
    pub pipeline: Option<String>,
    /// A start-pipeline parameter, NAME=VALUE; VALUE may use {count}, {project_id}, {event_id}, … Repeatable.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// What a start does while the previous run still executes.
    #[arg(long, value_enum, default_value = "coalesce")]
    pub overlap: crate::args::OverlapArg,
    /// How long starting a run may keep retrying before it is shown as failed: 90s, 15m, 1h.
    #[arg(long, default_value = "15m")]
    pub start_time_limit: String,
    /// A dataset-version automation of the same project: each run trains on its newest
    /// version at the run's trigger, passed as the pipeline's DatasetManifest parameter.
    #[arg(long, value_name = "AUTOMATION")]
    pub dataset: Option<String>,
    /// Add the start-pipeline automation even though another Loopline receives the
    /// project's annotations (each would start the pipeline).
    #[arg(long)]
    pub even_if_shared: bool,
    /// The bucket a dataset version lists and writes its manifests to.
    #[arg(long)]
    pub bucket: Option<String>,
    /// The annotations' prefix in --bucket (default: the storage setup's, or `annotations`).
    #[arg(long)]
    pub prefix: Option<String>,
    /// The bucket's region (default: the storage setup's, for its bucket).
    #[arg(long)]
    pub region: Option<String>,
    /// How many dataset versions to keep; older manifests are deleted, never the annotations.
    #[arg(long, default_value_t = 10)]
    pub keep: i64,
    /// For --every: the project's annotation count now, when Loopline cannot ask Label
    /// Studio; it fires from there, never on older annotations.
    #[arg(long, value_name = "N")]
    pub start_count: Option<i64>,
    /// Record what would fire, send nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long)]
    pub json: bool,
}

fn invalid(message: &str) -> ApiError {
    ApiError::new(ErrorCode::InvalidArgument, message)
}

/// The request an `automation add` asks for, checked as far as the arguments go.
pub fn request(a: &AutomationAdd) -> Result<AutomationRequest, ApiError> {
    let fire = match (a.each, a.every) {
        (true, None) => FireMode::Each,
        (false, Some(n)) => FireMode::Every {
            n,
            counter: match a.counter {
                CounterArg::Useful => Counter::Useful,
                CounterArg::Total => Counter::Total,
            },
        },
        _ => return Err(invalid("Say how often it fires: --each, or --every N.")),
    };
    let notify_flags = a.desktop || a.slack_url_secret.is_some() || a.message.is_some();
    let forward_flags = a.url.is_some() || a.secret_name.is_some() || a.body_template.is_some();
    if a.action != DoArg::Notify && notify_flags {
        return Err(invalid(
            "--desktop, --slack-url-secret and --message belong to --do notify.",
        ));
    }
    if a.action != DoArg::Forward && forward_flags {
        return Err(invalid(
            "--url, --secret-name and --body-template belong to --do forward.",
        ));
    }
    if a.action != DoArg::StartPipeline
        && (a.pipeline.is_some() || !a.params.is_empty() || a.dataset.is_some() || a.even_if_shared)
    {
        return Err(invalid(
            "--pipeline, --param, --dataset and --even-if-shared belong to --do start-pipeline.",
        ));
    }
    let dataset_flags = a.bucket.is_some() || a.prefix.is_some() || a.region.is_some();
    if a.action != DoArg::DatasetVersion && dataset_flags {
        return Err(invalid(
            "--bucket, --prefix and --region belong to --do dataset-version.",
        ));
    }
    let action = match a.action {
        DoArg::Forward => AutomationAction::Forward {
            url: a
                .url
                .clone()
                .ok_or_else(|| invalid("--do forward needs --url U."))?,
            secret_name: a.secret_name.clone(),
            body_template: a.body_template.as_deref().map(read_template).transpose()?,
        },
        DoArg::Notify => AutomationAction::Notify {
            desktop: a.desktop,
            slack_url_secret: a.slack_url_secret.clone(),
            message: a.message.clone().ok_or_else(|| {
                invalid("--do notify needs --message T, e.g. --message \"New project '{project.title}' is ready for labeling\".")
            })?,
        },
        DoArg::StartPipeline => AutomationAction::StartPipeline {
            pipeline: a
                .pipeline
                .clone()
                .ok_or_else(|| invalid("--do start-pipeline needs --pipeline P."))?,
            params: crate::rule_cmd::parse_params(&a.params)?,
            overlap: crate::rule_cmd::overlap_of(a.overlap),
            start_time_limit_secs: crate::source_cmd::parse_duration(&a.start_time_limit)?,
            dataset: a.dataset.clone(),
        },
        DoArg::DatasetVersion => AutomationAction::DatasetVersion {
            bucket: a
                .bucket
                .clone()
                .ok_or_else(|| invalid("--do dataset-version needs --bucket B."))?,
            prefix: a.prefix.clone(),
            region: a.region.clone(),
            keep: a.keep,
        },
    };
    let conditions = a
        .when
        .iter()
        .map(|w| Condition::parse(w))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(AutomationRequest {
        name: a.name.clone(),
        trigger: AutomationTrigger {
            source_id: a.source.clone(),
            actions: a.on.iter().map(|s| s.trim().to_string()).collect(),
            project_id: a.project,
            conditions,
            fire,
        },
        action,
        dry_run: a.dry_run,
        start_count: a.start_count,
        even_if_shared: a.even_if_shared.then_some(true),
    })
}

/// The template's text, read here so the engine stores what the user wrote.
fn read_template(path: &std::path::Path) -> Result<String, ApiError> {
    std::fs::read_to_string(path).map_err(|e| {
        invalid(&format!(
            "--body-template {} cannot be read: {e}.",
            path.display()
        ))
    })
}

fn line(a: &Automation) -> String {
    let when = match &a.trigger.fire {
        FireMode::Each => "each".to_string(),
        FireMode::Every { n, .. } => format!("every {n}"),
    };
    let what = a.action.summary();
    format!(
        "{}  {}  {} {} from {}: {}; fired {}{}{}",
        a.id,
        a.name,
        when,
        a.trigger.actions.join(","),
        a.trigger.source_id,
        what,
        a.fired,
        if a.paused { " (paused)" } else { "" },
        if a.dry_run { " (dry run)" } else { "" },
    )
}

fn print_detail(d: &AutomationDetail) {
    println!("{}", line(&d.automation));
    if d.deliveries.is_empty() {
        println!("No deliveries yet.");
    }
    for x in &d.deliveries {
        println!(
            "  event {}  {:?}  attempts {}  HTTP {}  {}",
            x.event_id,
            x.status,
            x.attempts,
            x.http_status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "-".into()),
            x.error.as_deref().or(x.response.as_deref()).unwrap_or("")
        );
    }
}

pub async fn run(global: &GlobalArgs, cmd: AutomationCommand) -> Result<(), ApiError> {
    let engine = Engine::open(global.engine_options()).await?;
    let result = run_on(&engine, cmd).await;
    engine.shutdown().await;
    result
}

async fn run_on(engine: &Engine, cmd: AutomationCommand) -> Result<(), ApiError> {
    match cmd {
        AutomationCommand::Add(a) => {
            let created = engine.add_automation(request(&a)?).await?;
            if a.json {
                return print_json(&created);
            }
            println!("Added {}", line(&created));
            println!("It judges events from now on, while `loopline serve` (or the app) runs.");
            Ok(())
        }
        AutomationCommand::Preview(a) => crate::automation_preview_cmd::preview(engine, &a).await,
        AutomationCommand::Fields(f) => crate::automation_preview_cmd::fields(f.json),
        AutomationCommand::List(f) => {
            let all = engine.list_automations().await?;
            if f.json {
                return print_json(&all);
            }
            if all.is_empty() {
                println!("No automations. Add one with `loopline automation add`.");
            }
            all.iter().for_each(|a| println!("{}", line(a)));
            Ok(())
        }
        AutomationCommand::Show { id, json } => {
            let d = engine.automation_detail(&id).await?;
            if json {
                return print_json(&d);
            }
            print_detail(&d);
            Ok(())
        }
        AutomationCommand::Pause { id } => {
            println!(
                "Paused {}",
                line(&engine.pause_automation(&id, true).await?)
            );
            Ok(())
        }
        AutomationCommand::Resume { id } => {
            println!(
                "Resumed {}",
                line(&engine.pause_automation(&id, false).await?)
            );
            Ok(())
        }
        AutomationCommand::Remove { id } => {
            engine.remove_automation(&id).await?;
            println!("Removed {id}; its deliveries stay in the history.");
            Ok(())
        }
    }
}
