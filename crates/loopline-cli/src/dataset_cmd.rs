//! `loopline dataset list|show|diff`: the dataset versions dataset-version automations made,
//! read from their manifests in S3.

use clap::Subcommand;
use loopline_core::{ApiError, DatasetDiff, DatasetManifest};
use loopline_engine::Engine;

use crate::global_args::GlobalArgs;
use crate::output::print_json;

#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    /// Every dataset version, oldest first.
    List {
        /// Only this automation's.
        #[arg(long)]
        automation: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// One version's manifest: its objects, label counts, project and trigger.
    Show {
        /// v3, or AUTOMATION/v3 when more than one automation makes versions.
        version: String,
        #[arg(long)]
        json: bool,
    },
    /// The annotations added, changed and removed from V1 to V2, and the labels side by side.
    Diff {
        from: String,
        to: String,
        #[arg(long)]
        json: bool,
    },
}

impl DatasetCommand {
    pub fn json(&self) -> bool {
        match self {
            DatasetCommand::List { json, .. }
            | DatasetCommand::Show { json, .. }
            | DatasetCommand::Diff { json, .. } => *json,
        }
    }
}

fn print_manifest(m: &DatasetManifest) {
    println!("{} {} ({})", m.automation_id, m.version, m.uri);
    println!(
        "  made {} by event {} ({} from {})",
        m.created_at,
        m.trigger.event_id,
        m.trigger.action.as_deref().unwrap_or("event"),
        m.trigger.source_id
    );
    if let Some(p) = &m.project {
        println!(
            "  Label Studio project {}, label config sha256 {}",
            p.id, p.label_config_sha256
        );
    }
    println!(
        "  {} annotation objects under s3://{}/{} ({} cancelled, {} unreadable)",
        m.objects.len(),
        m.bucket,
        m.prefix,
        m.cancelled,
        m.unreadable.len()
    );
    for (label, n) in &m.labels {
        println!("  {label:<24}{n:>8}");
    }
}

fn print_diff(d: &DatasetDiff) {
    println!(
        "{} -> {}: {} added, {} changed, {} removed",
        d.from,
        d.to,
        d.added.len(),
        d.changed.len(),
        d.removed.len()
    );
    for (sign, keys) in [("+", &d.added), ("~", &d.changed), ("-", &d.removed)] {
        keys.iter().for_each(|k| println!("  {sign} {k}"));
    }
    println!("  {:<24}{:>8}{:>8}", "label", d.from, d.to);
    for l in &d.labels {
        println!("  {:<24}{:>8}{:>8}", l.label, l.from, l.to);
    }
}

pub async fn run(global: &GlobalArgs, cmd: DatasetCommand) -> Result<(), ApiError> {
    let engine = Engine::open(global.engine_options()).await?;
    let result = run_on(&engine, cmd).await;
    engine.shutdown().await;
    result
}

async fn run_on(engine: &Engine, cmd: DatasetCommand) -> Result<(), ApiError> {
    match cmd {
        DatasetCommand::List { automation, json } => {
            let all = engine.list_dataset_versions(automation.as_deref()).await?;
            if json {
                return print_json(&all);
            }
            if all.is_empty() {
                println!(
                    "No dataset versions yet. A dataset-version automation makes one each time it fires."
                );
            }
            for v in &all {
                println!(
                    "{}/{}  {}  event {}  {}{}",
                    v.automation_id,
                    v.version,
                    v.created_at,
                    v.event_id,
                    v.uri,
                    if v.kept {
                        ""
                    } else {
                        "  (deleted: older than the versions kept)"
                    }
                );
            }
            Ok(())
        }
        DatasetCommand::Show { version, json } => {
            let m = engine.dataset_manifest(&version).await?;
            if json {
                return print_json(&m);
            }
            print_manifest(&m);
            Ok(())
        }
        DatasetCommand::Diff { from, to, json } => {
            let d = engine.dataset_diff(&from, &to).await?;
            if json {
                return print_json(&d);
            }
            print_diff(&d);
            Ok(())
        }
    }
}
