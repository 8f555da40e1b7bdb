//! `loopline setup …`: the same steps as the app's Setup page. `--plan` prints what would be
//! done and does nothing; without it each step prints its outcome and the resource it
//! touched. Progress goes to stderr, so `--json` output stays clean.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use loopline_core::{
    ApiError, ErrorCode, LabelTemplate, LabelingRequest, RolePolicy, RoleRequest, SetupReport,
    SetupStep, SetupWork, StepStatus, StorageCredentials, StorageRequest, UploadProgress,
};
use loopline_engine::{Engine, ProgressFn};

use crate::args::{GlobalArgs, SetupCommand, SetupS3};
use crate::output::print_json;
use crate::setup_args::SetupLabelStudio;

pub async fn run(global: &GlobalArgs, cmd: SetupCommand) -> Result<(), ApiError> {
    let engine = Engine::open(global.engine_options()).await?;
    let result = match cmd {
        SetupCommand::S3(a) => s3(&engine, a).await,
        SetupCommand::Sagemaker(a) => {
            let req = RoleRequest {
                region: a.region,
                bucket: a.bucket,
                role: a.role,
                role_arn: a.role_arn,
                policy: if a.policy == "scoped" {
                    RolePolicy::Scoped
                } else {
                    RolePolicy::Managed
                },
                pipeline: a.pipeline,
                labels: a.labels,
                training_instance: a.training_instance,
                use_existing_pipeline: a.use_existing_pipeline,
            };
            match cancellable(&engine, SetupWork::Role, engine.setup_role(req, a.plan)).await {
                Ok(report) => finish(&report, a.json),
                Err(e) => Err(e),
            }
        }
        SetupCommand::LabelStudio(a) => label_studio(&engine, *a).await,
        SetupCommand::Check(a) => match cancellable(
            &engine,
            SetupWork::Check,
            engine.check_loop(&a.source, a.project),
        )
        .await
        {
            Ok(report) => finish(&report, a.json),
            Err(e) => Err(e),
        },
        SetupCommand::Status(f) => match engine.setup_status().await {
            Ok(steps) if f.json => print_json(&steps),
            Ok(steps) => {
                for s in &steps {
                    print_step(s);
                }
                Ok(())
            }
            Err(e) => Err(e),
        },
    };
    engine.shutdown().await;
    result
}

async fn s3(engine: &Engine, a: SetupS3) -> Result<(), ApiError> {
    let req = StorageRequest {
        bucket: a.bucket,
        region: a.region,
        images_dir: a.images.map(|p| p.display().to_string()),
        images_prefix: Some(a.prefix_images),
        annotations_prefix: Some(a.prefix_annotations),
        scripts_prefix: Some(a.prefix_scripts),
        model_prefix: Some(a.prefix_model),
    };
    // Ctrl-C stops the upload between files and parts; what went up stays up.
    let cancel = Arc::new(AtomicBool::new(false));
    let c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            c.store(true, Ordering::Relaxed);
        }
    });
    let report = engine
        .setup_storage(req, a.plan, Some(progress_printer()), Some(cancel))
        .await?;
    finish(&report, a.json)
}

async fn label_studio(engine: &Engine, a: SetupLabelStudio) -> Result<(), ApiError> {
    let label_config = match &a.label_config {
        Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
            ApiError::new(
                ErrorCode::InvalidArgument,
                format!("Could not read the labeling config {}: {e}", path.display()),
            )
        })?),
        None => None,
    };
    let req = LabelingRequest {
        project_title: a.project_title,
        project: a.project,
        template: if a.template == "bounding-boxes" {
            LabelTemplate::BoundingBoxes
        } else {
            LabelTemplate::SemanticSegmentationPolygons
        },
        label_config,
        labels: a.labels,
        bucket: a.bucket,
        region: a.region,
        images_prefix: a.images_prefix,
        annotations_prefix: a.annotations_prefix,
        storage_credentials: match a.storage_credentials.as_str() {
            "keys" => StorageCredentials::Keys,
            "none" => StorageCredentials::None,
            _ => StorageCredentials::ScopedUser,
        },
        access_key_id: a.access_key_id,
        secret_key_secret: a.secret_key_secret,
        source: Some(a.source),
        public_url: a.public_url,
    };
    let report = cancellable(
        engine,
        SetupWork::Labeling,
        engine.setup_label_studio(req, a.plan),
    )
    .await?;
    finish(&report, a.json)
}

/// Runs `work`; a Ctrl-C cancels it in the engine rather than killing the process, so it
/// stops at its next wait, cleans up (the loop check's test annotation, a key no storage
/// took) and reports what was done.
async fn cancellable<T>(
    engine: &Engine,
    what: SetupWork,
    work: impl std::future::Future<Output = T>,
) -> T {
    tokio::pin!(work);
    tokio::select! {
        out = &mut work => return out,
        signal = tokio::signal::ctrl_c() => {
            if signal.is_ok() && engine.cancel_setup(what) {
                eprintln!("Cancelling: finishing the current request and cleaning up; what was done is kept and reported.");
            }
        }
    }
    work.await
}

fn finish(report: &SetupReport, json: bool) -> Result<(), ApiError> {
    if json {
        print_json(report)?;
    } else {
        if report.planned {
            println!("Plan (nothing was done; run again without --plan to do it):");
        }
        for s in &report.steps {
            print_step(s);
        }
    }
    match report.failed().and_then(|s| s.error.clone()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn print_step(s: &SetupStep) {
    let status = match s.status {
        StepStatus::Planned => "to do",
        StepStatus::Unchanged => "unchanged",
        StepStatus::Created => "created",
        StepStatus::Updated => "updated",
        StepStatus::Uploaded => "uploaded",
        StepStatus::Skipped => "skipped",
        StepStatus::Failed => "failed",
    };
    let resource = if s.resource.is_empty() {
        String::new()
    } else {
        format!("  {}", s.resource)
    };
    println!("{:<20} {:<9}{resource}", s.title, status);
    println!("{:<20} {}", "", s.summary);
    // A plan shows the exact documents it would write.
    if s.status == StepStatus::Planned {
        if let Some(d) = &s.detail {
            for line in d.lines() {
                println!("{:<20}   {line}", "");
            }
        }
    }
}

/// A one-line bar on a terminal; elsewhere (CI logs, pipes) a line every few seconds.
fn progress_printer() -> ProgressFn {
    let tty = std::io::stderr().is_terminal();
    let last: Mutex<Option<Instant>> = Mutex::new(None);
    Arc::new(move |p: &UploadProgress| {
        if p.files_total == 0 {
            return;
        }
        let every = if tty {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(5)
        };
        if let Ok(mut l) = last.lock() {
            if !p.finished && l.is_some_and(|t| t.elapsed() < every) {
                return;
            }
            *l = Some(Instant::now());
        }
        let line = progress_line(p);
        let mut err = std::io::stderr();
        if tty {
            let _ = write!(err, "\r\x1b[2K{line}");
            if p.finished {
                let _ = writeln!(err);
            }
        } else {
            let _ = writeln!(err, "{line}");
        }
    })
}

fn progress_line(p: &UploadProgress) -> String {
    let pct = (p.bytes_done * 100)
        .checked_div(p.bytes_total)
        .unwrap_or(100);
    let filled = (pct as usize) / 5;
    let bar = format!("[{}{}]", "#".repeat(filled), ".".repeat(20 - filled));
    let left = match p.seconds_left {
        Some(s) if !p.finished => format!(", {}m{:02}s left", s / 60, s % 60),
        _ => String::new(),
    };
    format!(
        "{bar} {pct:>3}%  {}/{} files  {:.1}/{:.1} MB  {:.1} MB/s{left}",
        p.files_done,
        p.files_total,
        p.bytes_done as f64 / 1e6,
        p.bytes_total as f64 / 1e6,
        p.bytes_per_second as f64 / 1e6,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_has_files_bytes_rate_and_time_left() {
        let p = UploadProgress {
            files_total: 500,
            files_done: 250,
            bytes_total: 100_000_000,
            bytes_done: 50_000_000,
            bytes_per_second: 10_000_000,
            seconds_left: Some(65),
            ..Default::default()
        };
        let line = progress_line(&p);
        assert!(line.starts_with("[##########..........]  50%"), "{line}");
        assert!(line.contains("250/500 files"));
        assert!(line.contains("50.0/100.0 MB"));
        assert!(line.contains("10.0 MB/s"));
        assert!(line.contains("1m05s left"));
    }
}
