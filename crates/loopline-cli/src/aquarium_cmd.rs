//! `loopline aquarium …`: the Aquarium issues received so far, for review, and their
//! exports to Label Studio, a REST endpoint or a GraphQL endpoint.

use clap::{Args, Subcommand};
use loopline_core::{ApiError, ElementType, Geometry, IssueLabel};
use loopline_engine::Engine;

use crate::global_args::{GlobalArgs, JsonFlag};
use crate::output::print_json;

#[derive(Debug, Subcommand)]
pub enum AquariumCommand {
    /// The issues received: id, project, name, element count, when received.
    List(JsonFlag),
    /// One issue's elements, with their labels, image URLs and sizes.
    Show(AquariumShow),
    /// Sends an issue's elements to a Label Studio project, a REST or a GraphQL endpoint.
    Export(crate::export_args::ExportArgs),
    /// The hosts whose images the Issues page loads; allow or forbid one.
    Hosts {
        #[arg(long, value_name = "HOST")]
        allow: Option<String>,
        #[arg(long, value_name = "HOST")]
        forbid: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Each export with its per-element results.
    Exports {
        /// Only this issue's exports.
        issue: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct AquariumShow {
    /// The issue's id, as `aquarium list` shows it.
    pub issue: String,
    /// Show at most this many elements.
    #[arg(long)]
    pub limit: Option<usize>,
    #[arg(long)]
    pub json: bool,
}

impl AquariumCommand {
    pub fn wants_json(&self) -> bool {
        match self {
            AquariumCommand::List(f) => f.json,
            AquariumCommand::Show(a) => a.json,
            AquariumCommand::Export(a) => a.json,
            AquariumCommand::Exports { json, .. } | AquariumCommand::Hosts { json, .. } => *json,
        }
    }
}

pub async fn run(global: &GlobalArgs, cmd: AquariumCommand) -> Result<(), ApiError> {
    let engine = Engine::open(global.engine_options()).await?;
    let result = match cmd {
        AquariumCommand::List(f) => match engine.aquarium_issues().await {
            Ok(list) if f.json => print_json(&list),
            Ok(list) if list.is_empty() => {
                println!("No Aquarium issue has been received yet. Add an Aquarium source (`loopline source add aquarium`) and export an issue to its URL.");
                Ok(())
            }
            Ok(list) => {
                println!(
                    "{:<28} {:<20} {:<24} {:>8}  RECEIVED",
                    "ISSUE", "PROJECT", "NAME", "ELEMENTS"
                );
                for i in &list {
                    println!(
                        "{:<28} {:<20} {:<24} {:>8}  {}",
                        i.issue_id,
                        i.project.as_deref().unwrap_or("-"),
                        i.name.as_deref().unwrap_or("-"),
                        i.elements,
                        i.received_at
                    );
                }
                Ok(())
            }
            Err(e) => Err(e),
        },
        AquariumCommand::Show(a) => match engine.aquarium_issue(&a.issue).await {
            Ok(mut issue) => {
                if let Some(n) = a.limit {
                    issue.elements.truncate(n);
                }
                if a.json {
                    print_json(&issue)
                } else {
                    print_issue(&issue);
                    Ok(())
                }
            }
            Err(e) => Err(e),
        },
        AquariumCommand::Export(a) => crate::export_args::run_export(&engine, a).await,
        AquariumCommand::Hosts {
            allow,
            forbid,
            json,
        } => {
            let mut result = engine.image_hosts().await;
            if let Some(h) = allow {
                result = engine.allow_image_host(&h, true).await;
            }
            if let (Some(h), Ok(_)) = (forbid, &result) {
                result = engine.allow_image_host(&h, false).await;
            }
            match result {
                Ok(hosts) if json => print_json(&hosts),
                Ok(hosts) if hosts.is_empty() => {
                    println!("No image host is allowed yet: the Issues page shows labels without images until you allow one.");
                    Ok(())
                }
                Ok(hosts) => {
                    hosts.iter().for_each(|h| println!("{h}"));
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
        AquariumCommand::Exports { issue, json } => {
            match engine.aquarium_exports(issue.as_deref()).await {
                Ok(list) if json => print_json(&list),
                Ok(list) if list.is_empty() => {
                    println!("No export yet. `loopline aquarium export ISSUE --to label-studio --project N` sends one.");
                    Ok(())
                }
                Ok(list) => {
                    for r in &list {
                        crate::export_args::print_report(r);
                    }
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
    };
    engine.shutdown().await;
    result
}

fn print_issue(issue: &loopline_core::AquariumIssue) {
    println!(
        "Issue {} '{}' of project {}: {} elements",
        issue.issue_id.as_deref().unwrap_or("?"),
        issue.name.as_deref().unwrap_or("-"),
        issue.project.as_deref().unwrap_or("-"),
        issue.elements.len()
    );
    for e in &issue.elements {
        let kind = match e.element_type {
            ElementType::Frame => "frame",
            ElementType::Crop => "crop",
        };
        let size = match (e.width, e.height) {
            (Some(w), Some(h)) => format!("{w}×{h}"),
            _ => "size unknown".into(),
        };
        println!(
            "  {} ({kind}, {size}) {}",
            e.element_id,
            e.image_url.as_deref().unwrap_or("-")
        );
        for l in &e.labels {
            println!("      {}", label_line(l, e.crop_label.as_deref()));
        }
    }
    for s in &issue.skipped {
        println!(
            "  skipped {}: {}",
            s.element_id.as_deref().unwrap_or("(no id)"),
            s.reason
        );
    }
}

fn label_line(l: &IssueLabel, crop: Option<&str>) -> String {
    let shape = match &l.geometry {
        Geometry::Box {
            left,
            top,
            width,
            height,
        } => format!("box at ({left}, {top}) {width}×{height}"),
        Geometry::Polygons { polygons } => format!("{} polygon(s)", polygons.len()),
        Geometry::Keypoints { points } => format!("{} keypoint(s)", points.len()),
        Geometry::Line { .. } => "line".into(),
        Geometry::Classification => "classification".into(),
        Geometry::Mask { .. } => "mask".into(),
        Geometry::Other { label_type } => label_type.clone(),
    };
    let who = match l.confidence {
        Some(c) => format!("inference {c:.2}"),
        None if l.inference => "inference".into(),
        None => "ground truth".into(),
    };
    let own = if crop == Some(l.uuid.as_str()) {
        " (the crop's label)"
    } else {
        ""
    };
    format!("{} {shape}, {who}{own}", l.class)
}
