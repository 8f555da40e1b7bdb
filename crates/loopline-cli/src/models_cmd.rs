//! `loopline models list|approve|reject`: the model versions the pipeline's RegisterModel
//! step added to its model package group, with their metrics against the approved version,
//! and the decision on one of them (UpdateModelPackage).

use clap::Subcommand;
use loopline_core::{ApiError, ModelDecision, ModelVersion};
use loopline_engine::models::DEFAULT_LIMIT;
use loopline_engine::Engine;

use crate::global_args::GlobalArgs;
use crate::output::print_json;

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// The newest versions, each with its status, metrics and the deltas against the
    /// version approved now.
    List {
        /// The pipeline whose group to list; the one the training setup chose by default.
        #[arg(long)]
        pipeline: Option<String>,
        #[arg(long, default_value_t = DEFAULT_LIMIT)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// The version a run registered, as the run's detail in the app shows it.
    Show {
        #[arg(long)]
        run: i64,
        #[arg(long)]
        json: bool,
    },
    /// Approve a version (its number in the group, as `models list` shows it, or its ARN).
    Approve {
        version: String,
        /// Why: kept as the version's ApprovalDescription.
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        pipeline: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Reject a version (its number or its ARN).
    Reject {
        version: String,
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        pipeline: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

impl ModelsCommand {
    pub fn json(&self) -> bool {
        match self {
            ModelsCommand::List { json, .. }
            | ModelsCommand::Show { json, .. }
            | ModelsCommand::Approve { json, .. }
            | ModelsCommand::Reject { json, .. } => *json,
        }
    }
}

/// `mIOU 0.625 (+0.125 vs v1)  pixel_accuracy 0.875 (-0.025 vs v1)`.
fn metrics_line(v: &ModelVersion) -> String {
    if v.metrics.is_empty() {
        return v
            .metrics_note
            .clone()
            .unwrap_or_else(|| "no metrics".into());
    }
    v.metrics
        .iter()
        .map(|m| match (m.delta, v.compared_with) {
            (Some(d), Some(a)) => format!("{} {:.4} ({d:+.4} vs v{a})", m.name, m.value),
            _ => format!("{} {:.4}", m.name, m.value),
        })
        .collect::<Vec<_>>()
        .join("  ")
}

fn print_version(v: &ModelVersion) {
    println!(
        "v{:<4} {:<22} {}  {}{}",
        v.version,
        v.status,
        v.created_at.as_deref().unwrap_or("-"),
        v.run_id.map(|r| format!("run {r}  ")).unwrap_or_default(),
        if v.approved_now { "(approved now)" } else { "" }
    );
    println!("      {}", metrics_line(v));
    if let Some(n) = &v.note {
        println!("      note: {n}");
    }
    println!("      {}", v.arn);
}

pub async fn run(global: &GlobalArgs, cmd: ModelsCommand) -> Result<(), ApiError> {
    let engine = Engine::open(global.engine_options()).await?;
    let result = run_on(&engine, cmd).await;
    engine.shutdown().await;
    result
}

async fn run_on(engine: &Engine, cmd: ModelsCommand) -> Result<(), ApiError> {
    let (version, decision, note, pipeline, json) = match cmd {
        ModelsCommand::List {
            pipeline,
            limit,
            json,
        } => {
            let list = engine.list_models(pipeline.as_deref(), limit).await?;
            if json {
                return print_json(&list);
            }
            println!(
                "{} ({}): model package group {} in {}",
                list.pipeline, list.group_arn, list.group, list.region
            );
            if list.versions.is_empty() {
                println!("No model versions yet. Each run of the pipeline registers one when it succeeds.");
            }
            list.versions.iter().for_each(print_version);
            return Ok(());
        }
        ModelsCommand::Show { run, json } => {
            let v = engine.run_model(run).await?;
            if json {
                return print_json(&v);
            }
            match &v {
                Some(v) => print_version(v),
                None => println!("Run {run} has registered no model version yet: a run registers one when its RegisterModel step ends."),
            }
            return Ok(());
        }
        ModelsCommand::Approve {
            version,
            note,
            pipeline,
            json,
        } => (version, ModelDecision::Approve, note, pipeline, json),
        ModelsCommand::Reject {
            version,
            note,
            pipeline,
            json,
        } => (version, ModelDecision::Reject, note, pipeline, json),
    };
    let v = engine
        .decide_model(&version, decision, note.as_deref(), pipeline.as_deref())
        .await?;
    if json {
        return print_json(&v);
    }
    print_version(&v);
    Ok(())
}
