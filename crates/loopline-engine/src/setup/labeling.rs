//! Labeling setup (`loopline setup label-studio`, Setup → Labeling project): the Label
//! Studio project with its labeling config, the credentials Label Studio reaches the bucket
//! with, the source storage (images → tasks, synced), the target storage (annotations →
//! the bucket) and Loopline's webhook. Each step shows its plan, acts when asked, reads
//! the result back, and changes nothing on a second run.

use std::sync::Arc;

use loopline_cloud::iam::Iam;
use loopline_cloud::iam_users::StorageUsers;
use loopline_cloud::label_studio_setup::{LabelingProjects, ProjectInfo};
use loopline_core::{
    ApiError, ErrorCode, LabelingChoice, LabelingRequest, SetupReport, SetupWork, StepStatus,
    StorageLayout,
};

use super::label_configs::{label_config, same_config};
use super::labeling_storage::StorageRun;
use super::pipeline_template::check_labels;
use super::StepLog;
use crate::Engine;

const LABELING_SETTING: &str = "setup.labeling";

impl Engine {
    /// Label Studio for the labeling setup (or the test's fake).
    pub(crate) async fn labeling(&self) -> Result<Arc<dyn LabelingProjects>, ApiError> {
        if let Some(l) = &self.labeling_override {
            return Ok(l.clone());
        }
        Ok(Arc::new(self.label_studio().await?))
    }

    /// IAM for the Label Studio user (or the test's fake).
    pub(crate) async fn storage_users(
        &self,
        region: &str,
    ) -> Result<Arc<dyn StorageUsers>, ApiError> {
        if let Some(u) = &self.users_override {
            return Ok(u.clone());
        }
        Ok(Arc::new(Iam::new(self.aws_in(region).await?)?))
    }

    pub async fn labeling_choice(&self) -> Result<Option<LabelingChoice>, ApiError> {
        Ok(self
            .store
            .setting(LABELING_SETTING)
            .await?
            .and_then(|j| serde_json::from_str(&j).ok()))
    }

    /// `loopline setup label-studio`: with `plan`, says what it would do.
    pub async fn setup_label_studio(
        &self,
        req: LabelingRequest,
        plan: bool,
    ) -> Result<SetupReport, ApiError> {
        let layout = self.labeling_layout(&req).await?;
        let title = req.project_title.trim().to_string();
        if req.project.is_none() && !(3..=50).contains(&title.chars().count()) {
            return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                "A Label Studio project title has 3 to 50 characters.",
            ));
        }
        // The config is wanted only when the user says what it is (labels, a template's
        // labels from the pipeline, or their own XML); an existing project picked by id is
        // otherwise left as it is.
        let explicit = req.label_config.is_some() || !req.labels.is_empty();
        let config = match &req.label_config {
            Some(xml) if !xml.trim().is_empty() => Some(xml.clone()),
            _ => {
                let labels = if req.labels.is_empty() {
                    self.chosen_pipeline()
                        .await?
                        .map(|p| p.labels)
                        .unwrap_or_default()
                } else {
                    req.labels.clone()
                };
                if labels.is_empty() && req.project.is_some() {
                    None
                } else {
                    Some(label_config(req.template, &check_labels(&labels)?))
                }
            }
        };
        let ls = self.labeling().await?;
        let work = self.begin_setup_work(SetupWork::Labeling);
        let mut log = StepLog::new(self, plan);
        log.cancel = Some(work.token.clone());
        let project = project_step(
            &mut log,
            ls.as_ref(),
            &req,
            &title,
            config.as_deref(),
            explicit,
        )
        .await?;

        let mut storage = StorageRun {
            log,
            ls: ls.as_ref(),
            layout: &layout,
            project: project.as_ref().map(|p| p.id),
        };
        let (source_storage, target_storage) = storage.run(&req).await?;
        let mut log = storage.log;

        match (&req.source, &project) {
            (None, _) => {
                log.push(log.plain(
                    "ls.webhook",
                    "Webhook",
                    "",
                    StepStatus::Skipped,
                    "Not registered here: no Loopline source was given. It is registered with the retrain rule once the tunnel is verified (step 7 in the app, or `loopline label-studio hook`).".into(),
                ))
                .await?
            }
            (Some(_), None) => log.waits("ls.webhook", "Webhook", "", "the project"),
            (Some(_), Some(_)) if log.is_cancelled() => {
                log.waits("ls.webhook", "Webhook", "", "the setup to run again (cancelled)")
            }
            (Some(source), Some(p)) => webhook_step(&mut log, &req, source, p).await?,
        }
        let report = log.report("labeling");
        if !plan {
            if let Some(p) = project.filter(|p| p.id > 0) {
                let choice = LabelingChoice {
                    project: p.id,
                    title: p.title,
                    source_storage,
                    target_storage,
                    source: req.source.clone(),
                };
                let json = serde_json::to_string(&choice)
                    .map_err(|e| ApiError::internal(e.to_string()))?;
                self.store.set_setting(LABELING_SETTING, &json).await?;
            }
        }
        Ok(report)
    }

    /// The bucket, region and prefixes: the request's, else the storage setup's.
    async fn labeling_layout(&self, req: &LabelingRequest) -> Result<StorageLayout, ApiError> {
        let saved = self.storage_layout().await?;
        let bucket = req
            .bucket
            .as_deref()
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(str::to_string)
            .or_else(|| saved.as_ref().map(|l| l.bucket.clone()))
            .ok_or_else(|| ApiError::new(ErrorCode::InvalidArgument, "Set up the storage first (`loopline setup s3`), or name the bucket with --bucket."))?;
        let region = req
            .region
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .or_else(|| saved.as_ref().map(|l| l.region.clone()))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidArgument,
                    "Name the bucket's region with --region.",
                )
            })?;
        let mut layout = match saved {
            Some(l) if l.bucket == bucket => l,
            _ => StorageLayout::with_defaults(&bucket, &region),
        };
        layout.region = region;
        let clean = |p: &Option<String>| {
            p.as_deref()
                .map(|s| s.trim().trim_matches('/').to_string())
                .filter(|s| !s.is_empty())
        };
        if let Some(p) = clean(&req.images_prefix) {
            layout.images = p;
        }
        if let Some(p) = clean(&req.annotations_prefix) {
            layout.annotations = p;
        }
        Ok(layout)
    }
}

/// The project: picked by id, or found by its exact title, or created. Its labeling config
/// is brought in step when the user said what it should be.
async fn project_step(
    log: &mut StepLog<'_>,
    ls: &dyn LabelingProjects,
    req: &LabelingRequest,
    title: &str,
    config: Option<&str>,
    explicit: bool,
) -> Result<Option<ProjectInfo>, ApiError> {
    let (key, name) = ("ls.project", "Labeling project");
    let found = match req.project {
        Some(id) => match ls.project(id).await {
            Ok(Some(p)) => Ok(Some(p)),
            Ok(None) => Err(ApiError::new(ErrorCode::NotFound, format!("Label Studio has no project {id} (or this token cannot see it). Check the id in the project's URL."))),
            Err(e) => Err(e),
        },
        None => match ls.projects_titled(title).await {
            Ok(list) if list.len() > 1 => Err(ApiError::new(
                ErrorCode::InvalidArgument,
                format!(
                    "{} projects are titled '{title}' (ids {}). Pick one with --project ID, or choose another title.",
                    list.len(),
                    list.iter().map(|p| p.id.to_string()).collect::<Vec<_>>().join(", ")
                ),
            )),
            Ok(mut list) => Ok(list.pop()),
            Err(e) => Err(e),
        },
    };
    let resource = |p: &ProjectInfo| format!("Label Studio project {} ('{}')", p.id, p.title);
    let (step, project) = match found {
        Err(e) => (
            log.failed(key, name, format!("Label Studio project '{title}'"), e),
            None,
        ),
        Ok(None) => {
            let Some(config) = config else {
                let e = ApiError::new(ErrorCode::InvalidArgument, "Name the labels (--labels Beak,Head,Wing,Body) or give a labeling config (--label-config FILE) for the new project.");
                let s = log.failed(key, name, format!("Label Studio project '{title}'"), e);
                log.push(s).await?;
                return Ok(None);
            };
            if log.plan {
                let s = log.step(
                    key,
                    name,
                    format!("Label Studio project '{title}' (new)"),
                    StepStatus::Planned,
                    format!("Create the project '{title}' with this labeling config."),
                    Some(config.to_string()),
                    None,
                );
                (
                    s,
                    Some(ProjectInfo {
                        id: 0,
                        title: title.to_string(),
                        label_config: config.to_string(),
                        task_number: 0,
                    }),
                )
            } else {
                match ls.create_project(title, config).await {
                    Ok(p) => (
                        log.step(
                            key,
                            name,
                            resource(&p),
                            StepStatus::Created,
                            "Created with the labeling config shown.".into(),
                            Some(p.label_config.clone()),
                            None,
                        ),
                        Some(p),
                    ),
                    Err(e) => (
                        log.failed(key, name, format!("Label Studio project '{title}'"), e),
                        None,
                    ),
                }
            }
        }
        Ok(Some(p)) => match config {
            Some(c) if !same_config(&p.label_config, c) && (explicit || req.project.is_none()) => {
                if log.plan {
                    (log.step(key, name, resource(&p), StepStatus::Planned, "Update the project's labeling config to the one shown. Label Studio refuses this when existing annotations use a label or tag it drops.".into(), Some(c.to_string()), None), Some(p))
                } else {
                    match ls.set_label_config(p.id, c).await {
                        Ok(()) => (
                            log.step(
                                key,
                                name,
                                resource(&p),
                                StepStatus::Updated,
                                "The labeling config was updated.".into(),
                                Some(c.to_string()),
                                None,
                            ),
                            Some(ProjectInfo {
                                label_config: c.to_string(),
                                ..p
                            }),
                        ),
                        Err(e) => {
                            let e = ApiError::new(e.code, format!("Label Studio kept the project's labeling config: {} To change the labels of a project with annotations, keep the labels its annotations use and add new ones.", e.message));
                            let r = resource(&p);
                            (log.failed(key, name, r, e), Some(p))
                        }
                    }
                }
            }
            _ => (
                log.step(
                    key,
                    name,
                    resource(&p),
                    StepStatus::Unchanged,
                    format!(
                        "The project exists ({} tasks); its labeling config is as wanted.",
                        p.task_number
                    ),
                    Some(p.label_config.clone()),
                    None,
                ),
                Some(p),
            ),
        },
    };
    log.push(step).await?;
    Ok(project)
}

async fn webhook_step(
    log: &mut StepLog<'_>,
    req: &LabelingRequest,
    source: &str,
    project: &ProjectInfo,
) -> Result<(), ApiError> {
    let (key, name) = ("ls.webhook", "Webhook");
    let engine = log.engine;
    let url = match &req.public_url {
        Some(u) if !u.trim().is_empty() => Ok(u.trim().to_string()),
        _ => engine.tunnel_public_url().await,
    };
    let url = match url {
        Ok(u) => u,
        Err(e) => {
            let s = log.failed(key, name, format!("Label Studio project {}", project.id), e);
            return log.push(s).await;
        }
    };
    let resource = format!("{url} (Label Studio project {})", project.id);
    let step = if log.plan || project.id == 0 {
        log.plain(key, name, resource, StepStatus::Planned, format!("Register Loopline's webhook for annotation events at {url}, with the source's X-Loopline-Token header."))
    } else {
        match engine.label_studio_hook(source, project.id, &url).await {
            Ok(h) => {
                let status = match h.change.as_str() {
                    "created" => StepStatus::Created,
                    "unchanged" => StepStatus::Unchanged,
                    _ => StepStatus::Updated,
                };
                log.plain(key, name, format!("webhook {} → {}", h.webhook_id, h.url), status, format!("Label Studio sends annotation events to {} with the source's token header ({}).", h.url, h.change))
            }
            Err(e) => log.failed(key, name, resource, e),
        }
    };
    log.push(step).await
}
