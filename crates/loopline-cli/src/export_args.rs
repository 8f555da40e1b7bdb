//! `loopline aquarium export`: what the user asks for, the preview (`--dry-run`), and the
//! report of what each element became.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use loopline_core::{
    ApiError, ErrorCode, ExportLabels, ExportReport, ExportRequest, ExportState, ExportTarget,
};
use loopline_engine::Engine;

use crate::output::print_json;

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum TargetKind {
    LabelStudio,
    Rest,
    Graphql,
}

/// `--labels`: which of a frame's labels are sent.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LabelsArg {
    GroundTruth,
    Inferences,
    Both,
}

impl From<LabelsArg> for ExportLabels {
    fn from(a: LabelsArg) -> Self {
        match a {
            LabelsArg::GroundTruth => ExportLabels::GroundTruth,
            LabelsArg::Inferences => ExportLabels::Inferences,
            LabelsArg::Both => ExportLabels::Both,
        }
    }
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The issue's id, as `aquarium list` shows it.
    pub issue: String,
    #[arg(long, value_enum)]
    pub to: TargetKind,
    /// The Label Studio project id (`--to label-studio`).
    #[arg(long)]
    pub project: Option<i64>,
    /// The endpoint (`--to rest` or `--to graphql`).
    #[arg(long)]
    pub url: Option<String>,
    /// Only these elements (comma-separated ids); all of them when left out.
    #[arg(long, value_delimiter = ',')]
    pub elements: Option<Vec<String>>,
    /// Which of a frame's labels are sent: the ground truth (no score), the model's
    /// inferences (their confidence as score), or both side by side.
    #[arg(long, value_enum, default_value = "both")]
    pub labels: LabelsArg,
    /// A JSON body template for `--to rest` (fields: `{{issue.name}}`, `{{element.image_url}}`…).
    #[arg(long, value_name = "FILE")]
    pub body_template: Option<PathBuf>,
    /// The GraphQL mutation (`--to graphql`).
    #[arg(long, value_name = "FILE")]
    pub query_file: Option<PathBuf>,
    /// A JSON variables template for `--to graphql`.
    #[arg(long, value_name = "FILE")]
    pub variables_template: Option<PathBuf>,
    /// The keychain secret sent as `Authorization: Bearer …` (`loopline secret set NAME`).
    #[arg(long, value_name = "NAME")]
    pub auth_secret: Option<String>,
    /// Print the requests it would send (secrets masked) and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Queue the export for the running app or `loopline serve` and return at once.
    #[arg(long)]
    pub no_wait: bool,
    #[arg(long)]
    pub json: bool,
}

fn read(path: &Option<PathBuf>, what: &str) -> Result<Option<String>, ApiError> {
    path.as_ref()
        .map(|p| {
            std::fs::read_to_string(p).map_err(|e| {
                ApiError::new(
                    ErrorCode::InvalidArgument,
                    format!("The {what} file {} cannot be read: {e}.", p.display()),
                )
            })
        })
        .transpose()
}

fn missing(flag: &str, to: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidArgument,
        format!("`--to {to}` needs {flag}."),
    )
}

impl ExportArgs {
    fn request(&self) -> Result<ExportRequest, ApiError> {
        let target = match self.to {
            TargetKind::LabelStudio => ExportTarget::LabelStudio {
                project: self.project.ok_or_else(|| {
                    missing("--project N (the Label Studio project id)", "label-studio")
                })?,
            },
            TargetKind::Rest => ExportTarget::Rest {
                url: self
                    .url
                    .clone()
                    .ok_or_else(|| missing("--url URL", "rest"))?,
                body_template: read(&self.body_template, "body template")?,
                auth_secret: self.auth_secret.clone(),
            },
            TargetKind::Graphql => ExportTarget::Graphql {
                url: self
                    .url
                    .clone()
                    .ok_or_else(|| missing("--url URL", "graphql"))?,
                query: read(&self.query_file, "query")?
                    .ok_or_else(|| missing("--query-file FILE (the mutation)", "graphql"))?,
                variables_template: read(&self.variables_template, "variables template")?,
                auth_secret: self.auth_secret.clone(),
            },
        };
        Ok(ExportRequest {
            issue_id: self.issue.clone(),
            target,
            elements: self.elements.clone(),
            labels: self.labels.into(),
        })
    }
}

pub async fn run_export(engine: &Engine, a: ExportArgs) -> Result<(), ApiError> {
    let req = a.request()?;
    if a.dry_run {
        let preview = engine.preview_export(&req).await?;
        if a.json {
            return print_json(&preview);
        }
        println!(
            "Would send {} element(s) to {} in {} request(s):",
            preview.sending,
            preview.target,
            preview.requests.len()
        );
        for r in &preview.requests {
            println!("{} {}", r.method, r.url);
            for h in &r.headers {
                println!("  {}: {}", h.name, h.value);
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&r.body).unwrap_or_default()
            );
        }
        for s in &preview.skipped {
            println!("  skip {}: {}", s.element_id, s.reason);
        }
        for m in &preview.misfits {
            println!("  does not fit: {m}");
        }
        return Ok(());
    }
    let mut report = engine.export_issue(&req).await?;
    if !a.no_wait {
        report = wait(engine, report.export_id).await?;
    }
    if a.json {
        print_json(&report)?;
    } else {
        print_report(&report);
    }
    if report.state == ExportState::Failed {
        return Err(ApiError::new(
            ErrorCode::TargetUnavailable,
            report
                .last_error
                .unwrap_or_else(|| "The export failed.".into()),
        ));
    }
    if report.state == ExportState::Pending {
        return left_to_a_running_process(engine, &report, a.json).await;
    }
    Ok(())
}

/// An export not finished here is kept, and only a running app or `loopline serve` sends the
/// rest. Saying "retrying" with none running promised a retry nobody would make.
async fn left_to_a_running_process(
    engine: &Engine,
    report: &ExportReport,
    json: bool,
) -> Result<(), ApiError> {
    let others = engine.processes().await?;
    if let Some(p) = others.first() {
        if !json {
            println!(
                "  {} (pid {}) sends the rest; follow it with `loopline aquarium exports {}`.",
                p.kind, p.pid, report.issue_id
            );
        }
        return Ok(());
    }
    let why = report
        .last_error
        .as_deref()
        .map(|e| format!(" The last try failed: {e}"))
        .unwrap_or_default();
    Err(ApiError::new(
        ErrorCode::TargetUnavailable,
        format!(
            "Export {} is kept but not sent: {} element(s) wait.{why} No Loopline app or `loopline serve` is running on this data directory, so nothing will send it until one runs. Start the app or `loopline serve` and it goes on by itself, or run this command again.",
            report.export_id, report.pending
        ),
    ))
}

/// Delivers the export here, or waits while another process (the app, `loopline serve`)
/// delivers it. A retry scheduled for later is left to the background worker.
async fn wait(engine: &Engine, id: i64) -> Result<ExportReport, ApiError> {
    loop {
        engine.deliver_export_now(id).await?;
        let report = engine.export_report(id).await?;
        if report.state != ExportState::Pending || report.last_error.is_some() {
            return Ok(report);
        }
        // Held by another process: its results land in the store as it goes.
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

pub fn print_report(r: &ExportReport) {
    let state = match r.state {
        ExportState::Pending if r.last_error.is_some() => "retrying",
        ExportState::Pending => "sending",
        ExportState::Done => "done",
        ExportState::Failed => "failed",
    };
    println!(
        "Export {} of issue {} to {} ({state}, {}): {} created, {} skipped, {} failed, {} pending",
        r.export_id,
        r.issue_id,
        r.target,
        r.created_at,
        r.created.len(),
        r.skipped.len(),
        r.failed.len(),
        r.pending
    );
    for c in &r.created {
        let note = c
            .note
            .as_deref()
            .map(|n| format!(", {n}"))
            .unwrap_or_default();
        match c.task_id {
            Some(t) => println!("  created {}: task {t}{note}", c.element_id),
            None => println!("  sent {}{note}", c.element_id),
        }
    }
    for s in &r.skipped {
        println!("  skipped {}: {}", s.element_id, s.reason);
    }
    for f in &r.failed {
        println!("  failed {} ({}): {}", f.element_id, f.code, f.message);
    }
    if let Some(e) = &r.last_error {
        println!("  last error: {e}");
    }
}
