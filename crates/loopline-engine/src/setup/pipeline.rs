//! Training setup, its second part: the scripts uploaded to the bucket, the quota for the
//! training instance type, and the SageMaker pipeline from Loopline's template, created or
//! updated only when its definition changed (or an existing pipeline, checked and shown).

use std::sync::Arc;

use bytes::Bytes;
use loopline_cloud::pipeline_definitions::{PipelineDefinitions, QuotaCheck};
use loopline_cloud::s3::ObjectStore;
use loopline_cloud::sagemaker::{CallError, SageMaker};
use loopline_core::{ApiError, ErrorCode, StepStatus, StorageLayout};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::model_group::{group_name_for, group_step};
use super::pipeline_record::Record;
use super::pipeline_template::{
    check_pipeline_name, definition, labels_of, parameters_of, TemplateInput, STEP_NAMES,
    TEMP_PREFIX, VERSION_NOTES,
};
use super::scripts::SHIPPED;
use super::StepLog;
use crate::Engine;

const PIPELINE_SETTING: &str = "setup.pipeline";

/// The pipeline the last training setup settled on, for the retrain rule and the next run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChosenPipeline {
    pub name: String,
    pub arn: String,
    pub region: String,
    /// Empty for a pipeline Loopline did not build.
    pub labels: Vec<String>,
}

/// What the pipeline part of a training setup works with.
pub(crate) struct PipelineAsk<'a> {
    pub name: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub layout: &'a StorageLayout,
    /// The role's ARN, and whether it exists (in a plan it may only be planned).
    pub role_arn: &'a str,
    pub role_ready: bool,
    pub labels: &'a [String],
    pub training_instance: &'a str,
    pub use_existing: bool,
}

impl Engine {
    /// SageMaker for the pipeline setup (or the test's fake).
    pub(crate) async fn pipeline_definitions(
        &self,
        region: &str,
    ) -> Result<Arc<dyn PipelineDefinitions>, ApiError> {
        if let Some(p) = &self.pipeline_definitions_override {
            return Ok(p.clone());
        }
        Ok(Arc::new(SageMaker::new(self.aws_in(region).await?)?))
    }

    /// The pipeline the last training setup chose.
    pub async fn chosen_pipeline(&self) -> Result<Option<ChosenPipeline>, ApiError> {
        Ok(self
            .store
            .setting(PIPELINE_SETTING)
            .await?
            .and_then(|j| serde_json::from_str(&j).ok()))
    }
}

pub(crate) async fn run_pipeline_steps(
    log: &mut StepLog<'_>,
    ask: PipelineAsk<'_>,
) -> Result<(), ApiError> {
    let engine = log.engine;
    check_pipeline_name(ask.name)?;
    let sagemaker = engine.pipeline_definitions(ask.region).await?;
    if !ask.use_existing {
        let store = engine.object_store(ask.region).await?;
        scripts_step(log, store.as_ref(), ask.layout).await?;
        quota_step(log, sagemaker.as_ref(), ask.region, ask.training_instance).await?;
        let registry = engine.model_registry(ask.region).await?;
        group_step(log, registry.as_ref(), ask.name, ask.region, ask.account).await?;
    }
    pipeline_step(log, sagemaker.as_ref(), &ask).await
}

async fn scripts_step(
    log: &mut StepLog<'_>,
    store: &dyn ObjectStore,
    layout: &StorageLayout,
) -> Result<(), ApiError> {
    let (key, title) = ("sm.scripts", "Pipeline scripts");
    let resource = format!("s3://{}/{}/", layout.bucket, layout.scripts);
    let mut missing = Vec::new();
    let mut error = None;
    for script in SHIPPED {
        match store
            .head_object(&layout.bucket, &script.key(&layout.scripts))
            .await
        {
            Ok(Some(info)) if info.sha256.as_deref() == Some(script.sha256().as_str()) => {}
            Ok(_) => missing.push(script),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let names = |list: &[&super::scripts::ShippedScript]| {
        list.iter()
            .map(|s| format!("{} (v{})", s.file, s.version()))
            .collect::<Vec<_>>()
            .join(" and ")
    };
    let step = if let Some(e) = error {
        log.failed(key, title, &resource, e)
    } else if missing.is_empty() {
        log.plain(
            key,
            title,
            &resource,
            StepStatus::Unchanged,
            format!(
                "{} are uploaded and match the copies Loopline ships (SHA-256 checked).",
                names(&SHIPPED)
            ),
        )
    } else if log.plan {
        log.plain(
            key,
            title,
            &resource,
            StepStatus::Planned,
            format!("Upload {}, each under its own prefix.", names(&missing)),
        )
    } else {
        let mut failed = None;
        for script in &missing {
            let k = script.key(&layout.scripts);
            let sha = script.sha256();
            let put = store
                .put_object(
                    &layout.bucket,
                    &k,
                    Bytes::from_static(script.source.as_bytes()),
                    "text/x-python",
                    &sha,
                )
                .await;
            let verified = match put {
                Ok(()) => store.head_object(&layout.bucket, &k).await,
                Err(e) => Err(e),
            };
            match verified {
                Ok(Some(info)) if info.sha256.as_deref() == Some(sha.as_str()) => {}
                Ok(_) => {
                    failed = Some(ApiError::new(
                        ErrorCode::AwsError,
                        format!("s3://{}/{k} does not read back with the uploaded content. Run the setup again.", layout.bucket),
                    ))
                }
                Err(e) => failed = Some(e),
            }
            if failed.is_some() {
                break;
            }
        }
        match failed {
            Some(e) => log.failed(key, title, &resource, e),
            None => log.plain(
                key,
                title,
                &resource,
                StepStatus::Uploaded,
                format!("Uploaded {}; SHA-256 checked.", names(&missing)),
            ),
        }
    };
    log.push(step).await
}

async fn quota_step(
    log: &mut StepLog<'_>,
    sagemaker: &dyn PipelineDefinitions,
    region: &str,
    instance: &str,
) -> Result<(), ApiError> {
    let (key, title) = ("sm.quota", "Training quota");
    let resource = format!("servicequotas:sagemaker/{instance} for training job usage ({region})");
    let step = match sagemaker.training_quota(instance).await {
        QuotaCheck::Known { value, .. } if value > 0.0 => log.plain(
            key,
            title,
            &resource,
            StepStatus::Unchanged,
            format!("The account may train on {value} {instance} instance(s) at once in {region}."),
        ),
        QuotaCheck::Known { name, .. } => {
            let e = ApiError::new(
                ErrorCode::NoQuota,
                format!("The account's quota for {instance} training is 0 in {region}, common on new accounts: a run would fail at its training step. Request an increase in the Service Quotas console (Amazon SageMaker › \"{name}\"), or choose a type the account may use with --training-instance (the pipeline's TrainingInstanceType parameter)."),
            );
            log.failed(key, title, &resource, e)
        }
        QuotaCheck::Skipped { reason } => log.plain(
            key,
            title,
            &resource,
            StepStatus::Skipped,
            format!("Not checked: {reason}"),
        ),
    };
    log.push(step).await
}

async fn pipeline_step(
    log: &mut StepLog<'_>,
    sagemaker: &dyn PipelineDefinitions,
    ask: &PipelineAsk<'_>,
) -> Result<(), ApiError> {
    let (key, title) = ("sm.pipeline", "Pipeline");
    let arn_guess = format!(
        "arn:{}:sagemaker:{}:{}:pipeline/{}",
        super::policies::partition(ask.region),
        ask.region,
        ask.account,
        ask.name.to_lowercase()
    );
    let fail = |log: &StepLog, resource: &str, e: ApiError| log.failed(key, title, resource, e);
    let existing = match sagemaker.describe_pipeline(ask.name).await {
        Ok(p) => p,
        Err(e) => {
            let s = fail(log, &arn_guess, e.error);
            return log.push(s).await;
        }
    };
    let existing_doc = existing
        .as_ref()
        .and_then(|p| serde_json::from_str::<Value>(&p.definition).ok());

    if ask.use_existing {
        let step = match (&existing, &existing_doc) {
            (None, _) => fail(log, &arn_guess, ApiError::new(ErrorCode::NotFound, format!("SageMaker has no pipeline '{}' in {}. Check the name and the region, or leave --use-existing-pipeline out and Loopline creates one.", ask.name, ask.region))),
            (Some(p), doc) => {
                let params = doc.as_ref().map(parameters_of).unwrap_or_default();
                let summary = format!(
                    "Uses the existing pipeline as it is{}. Its parameters: {}.",
                    p.role_arn.as_deref().map(|r| format!(" (runs as {r})")).unwrap_or_default(),
                    if params.is_empty() { "none".to_string() } else { params.join(", ") }
                );
                log.step(key, title, &p.arn, StepStatus::Unchanged, summary, doc.as_ref().map(pretty), None)
            }
        };
        let ok = step.status.is_done();
        let arn = step.resource.clone();
        log.push(step).await?;
        if ok && !log.plan {
            remember(log.engine, ask, &arn, Vec::new()).await?;
        }
        return Ok(());
    }

    // The definition is built even for a plan, so the user sees the exact document.
    let wanted = match definition(&TemplateInput {
        pipeline: ask.name,
        region: ask.region,
        layout: ask.layout,
        role_arn: ask.role_arn,
        labels: ask.labels,
        training_instance: ask.training_instance,
    }) {
        Ok(d) => d,
        Err(e) => {
            let s = fail(log, &arn_guess, e);
            return log.push(s).await;
        }
    };
    if ask.layout.images == TEMP_PREFIX || ask.layout.annotations == TEMP_PREFIX {
        let s = fail(log, &arn_guess, ApiError::new(ErrorCode::InvalidArgument, format!("The prefix '{TEMP_PREFIX}' is where each run keeps its intermediate data; give the images and annotations other prefixes.")));
        return log.push(s).await;
    }
    let labels = labels_of(&wanted).unwrap_or_default();
    let detail = Some(pretty(&wanted));
    let shape = format!(
        "{} (scikit-learn image) → {} (semantic segmentation, FCN on ResNet-50, {} classes: {} and background; {} by default) → {} (validation mIOU and pixel accuracy to s3://{}/{}/metrics/<execution id>/) → {} (a new version of the model package group '{}', PendingManualApproval by default), and {}; each run's temporary data under s3://{}/{TEMP_PREFIX}/<execution id>/",
        STEP_NAMES[0],
        STEP_NAMES[1],
        labels.len() + 1,
        labels.join(", "),
        ask.training_instance,
        STEP_NAMES[2],
        ask.layout.bucket,
        ask.layout.model,
        STEP_NAMES[3],
        group_name_for(ask.name),
        STEP_NAMES[4],
        ask.layout.bucket,
    );
    let text = serde_json::to_string(&wanted).map_err(|e| ApiError::internal(e.to_string()))?;
    let description = "Label Studio annotations to a semantic-segmentation model; built by Loopline from its template.";

    let step = match (&existing, &existing_doc) {
        (Some(p), Some(doc)) if same_build(doc, &wanted) && p.role_arn.as_deref().is_none_or(|r| r == ask.role_arn) => {
            let older = if Record::is_old_form(doc) {
                " Its record is still the Metadata.loopline object of earlier Loopline versions; it becomes string values at the next change."
            } else {
                ""
            };
            log.step(key, title, &p.arn, StepStatus::Unchanged, format!("Up to date: {shape}.{older}"), detail, None)
        }
        (Some(p), doc) if doc.as_ref().and_then(Record::read).is_none() => fail(log, &p.arn, ApiError::new(ErrorCode::InvalidArgument, format!("A pipeline named '{}' exists in {} and Loopline did not build it, so it is left as it is. Train with it as it is (--use-existing-pipeline, or \"Use an existing pipeline\" in the app), or choose another name.", ask.name, ask.region))),
        _ if !ask.role_ready => {
            if log.plan {
                let verb = if existing.is_some() { "Update" } else { "Create" };
                log.step(key, title, existing.as_ref().map_or(arn_guess.as_str(), |p| p.arn.as_str()), StepStatus::Planned, format!("{verb} the pipeline once the role exists: {shape}."), detail, None)
            } else {
                log.waits(key, title, arn_guess.as_str(), "the execution role");
                return Ok(());
            }
        }
        (Some(p), doc) => {
            let change = what_changed(doc.as_ref(), &wanted, p.role_arn.as_deref(), ask.role_arn);
            if log.plan {
                log.step(key, title, &p.arn, StepStatus::Planned, format!("Update the pipeline ({change}): {shape}."), detail, None)
            } else {
                match with_role_retry(log, || sagemaker.update_pipeline(ask.name, &text, ask.role_arn, description)).await {
                    Err(e) => fail(log, &p.arn, e.error),
                    Ok(_) => match verify(sagemaker, ask.name, &wanted).await {
                        Ok(arn) => log.step(key, title, &arn, StepStatus::Updated, format!("Updated ({change}): {shape}."), detail, None),
                        Err(e) => fail(log, &p.arn, e),
                    },
                }
            }
        }
        (None, _) if log.plan => log.step(key, title, &arn_guess, StepStatus::Planned, format!("Create the pipeline: {shape}."), detail, None),
        (None, _) => {
            let token = hex(&Sha256::digest(format!("{}\n{}\n{text}", ask.name, ask.role_arn).as_bytes()));
            match with_role_retry(log, || sagemaker.create_pipeline(ask.name, &text, ask.role_arn, description, &token)).await {
                Err(e) => fail(log, &arn_guess, e.error),
                Ok(_) => match verify(sagemaker, ask.name, &wanted).await {
                    Ok(arn) => log.step(key, title, &arn, StepStatus::Created, format!("Created: {shape}."), detail, None),
                    Err(e) => fail(log, &arn_guess, e),
                },
            }
        }
    };
    let ok = step.status.is_done();
    let arn = step.resource.clone();
    log.push(step).await?;
    if ok && !log.plan {
        remember(log.engine, ask, &arn, labels).await?;
    }
    Ok(())
}

/// Whether a stored definition is the one Loopline would write now. Its steps and
/// parameters must be equal; its metadata need only carry the same record, so a pipeline
/// whose record is in the older form is not rewritten for that alone.
fn same_build(stored: &Value, wanted: &Value) -> bool {
    if stored == wanted {
        return true;
    }
    let without_metadata = |d: &Value| {
        let mut d = d.clone();
        if let Some(o) = d.as_object_mut() {
            o.remove("Metadata");
        }
        d
    };
    without_metadata(stored) == without_metadata(wanted)
        && Record::read(stored).is_some()
        && Record::read(stored) == Record::read(wanted)
}

/// Reads the pipeline back: the stored definition must be the one sent.
async fn verify(
    sagemaker: &dyn PipelineDefinitions,
    name: &str,
    wanted: &Value,
) -> Result<String, ApiError> {
    match sagemaker.describe_pipeline(name).await {
        Ok(Some(p)) if serde_json::from_str::<Value>(&p.definition).ok().as_ref() == Some(wanted) => Ok(p.arn),
        Ok(Some(_)) => Err(ApiError::new(ErrorCode::AwsError, format!("SageMaker accepted the pipeline '{name}' but reads back another definition. Run the setup again."))),
        Ok(None) => Err(ApiError::new(ErrorCode::AwsError, format!("SageMaker accepted the pipeline '{name}' but does not show it yet. Run the setup again in a minute."))),
        Err(e) => Err(e.error),
    }
}

/// Tries `call` again while SageMaker cannot assume a role that IAM has only just created
/// (new roles take seconds to be usable everywhere).
async fn with_role_retry<F, Fut>(log: &StepLog<'_>, mut call: F) -> Result<String, CallError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<String, CallError>>,
{
    let mut delays = log.engine.setup_retry_delays.iter();
    loop {
        match call().await {
            Err(e) if cannot_assume_role(&e) => match delays.next() {
                Some(d) => {
                    if let Err(c) = log
                        .pause(*d, "while IAM made the new role usable by SageMaker")
                        .await
                    {
                        return Err(CallError { error: c, ..e });
                    }
                }
                None => {
                    return Err(CallError {
                        error: ApiError::new(e.error.code, format!("{} SageMaker still cannot assume the role after a minute: check that its trust policy allows sagemaker.amazonaws.com, then run the setup again.", e.error.message)),
                        ..e
                    })
                }
            },
            other => return other,
        }
    }
}

fn cannot_assume_role(e: &CallError) -> bool {
    let m = e.error.message.to_lowercase();
    (m.contains("unable to assume")
        || m.contains("could not assume")
        || m.contains("cannot assume"))
        && m.contains("role")
}

fn what_changed(
    old: Option<&Value>,
    new: &Value,
    old_role: Option<&str>,
    new_role: &str,
) -> String {
    let mut out = Vec::new();
    let (a, b) = (
        old.and_then(labels_of).unwrap_or_default(),
        labels_of(new).unwrap_or_default(),
    );
    if a != b {
        out.push(format!("labels {} → {}", a.join(","), b.join(",")));
    }
    let param = |d: Option<&Value>, n: &str| {
        d.and_then(|d| d["Parameters"].as_array().cloned())
            .unwrap_or_default()
            .into_iter()
            .find(|p| p["Name"] == n)
            .map(|p| p["DefaultValue"].clone())
    };
    let (ta, tb) = (
        param(old, "TrainingInstanceType"),
        param(Some(new), "TrainingInstanceType"),
    );
    if ta != tb {
        out.push(format!(
            "training instance {} → {}",
            ta.as_ref().and_then(Value::as_str).unwrap_or("?"),
            tb.as_ref().and_then(Value::as_str).unwrap_or("?")
        ));
    }
    if old_role.is_some_and(|r| r != new_role) {
        out.push(format!("role → {new_role}"));
    }
    let (ra, rb) = (old.and_then(Record::read), Record::read(new));
    if ra.as_ref().map(|r| &r.scripts) != rb.as_ref().map(|r| &r.scripts) {
        out.push("new script versions".into());
    }
    if let (Some(ra), Some(rb)) = (&ra, &rb) {
        if ra.version != rb.version {
            out.push(format!(
                "template version {} → {}{}",
                ra.version,
                rb.version,
                version_notes(&ra.version, &rb.version)
            ));
        }
    }
    let names = |d: Option<&Value>| -> Vec<String> {
        d.and_then(|d| d["Parameters"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|p| p["Name"].as_str().map(str::to_string))
            .collect()
    };
    let (pa, pb) = (names(old), names(Some(new)));
    let added: Vec<&String> = pb.iter().filter(|n| !pa.contains(n)).collect();
    if !added.is_empty() {
        let shown: Vec<String> = parameters_of(new)
            .into_iter()
            .filter(|line| added.iter().any(|n| line.starts_with(&format!("{n} ("))))
            .collect();
        out.push(format!("new parameters {}", shown.join(", ")));
    }
    if out.is_empty() {
        out.push("template or layout changed".into());
    }
    out.join("; ")
}

/// What the template versions after `from` up to `to` add, in words (": adds …").
fn version_notes(from: &str, to: &str) -> String {
    let (Ok(a), Ok(b)) = (from.parse::<u32>(), to.parse::<u32>()) else {
        return String::new();
    };
    let notes: Vec<&str> = VERSION_NOTES
        .iter()
        .filter(|(v, _)| v.parse::<u32>().is_ok_and(|v| v > a && v <= b))
        .map(|(_, n)| *n)
        .collect();
    if notes.is_empty() {
        String::new()
    } else {
        format!(": {}", notes.join("; "))
    }
}

async fn remember(
    engine: &Engine,
    ask: &PipelineAsk<'_>,
    arn: &str,
    labels: Vec<String>,
) -> Result<(), ApiError> {
    let chosen = ChosenPipeline {
        name: ask.name.to_string(),
        arn: arn.to_string(),
        region: ask.region.to_string(),
        labels,
    };
    let json = serde_json::to_string(&chosen).map_err(|e| ApiError::internal(e.to_string()))?;
    engine.store.set_setting(PIPELINE_SETTING, &json).await
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
