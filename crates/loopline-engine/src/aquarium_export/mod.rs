//! Aquarium exports (`loopline aquarium export|exports`, the Issues page's "Send"): the
//! chosen elements of a received issue go to a Label Studio project (a task each, with
//! predictions), a REST endpoint or a GraphQL endpoint.
//!
//! Asking for an export builds every element's request at once and files it with a
//! per-element state, in one transaction with its outbox item; the preview is the same
//! build, not filed. The outbox delivers it with retries and resumes it after a crash.
//! Nothing is sent twice: elements already at the target (for Label Studio, found by the
//! Aquarium ids in the tasks' data; for REST and GraphQL, by earlier exports' records) are
//! skipped with the task that holds them, and an element whose batch was in flight when the
//! process stopped is found at the target before anything is resent.

mod delivery;
mod http_targets;
pub mod image_size;
pub mod ls_tasks;
mod report;
pub mod template;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use futures_util::stream::{self, StreamExt};
use loopline_cloud::label_studio_tasks::{LabelingTasks, TargetProject};
use loopline_core::{
    ApiError, AquariumIssue, ElementState, ElementType, ErrorCode, ExportLabels, ExportPreview,
    ExportReport, ExportRequest, ExportSkipped, ExportState, ExportTarget, Geometry, IssueElement,
    PreviewHeader, PreviewRequest,
};
use loopline_store::NewExportElement;
use serde_json::{json, Value};

use crate::Engine;

/// Tasks per import request: large enough that 1,000 elements are 4 requests, small enough
/// that one request stays well under Label Studio's upload limits with predictions.
pub const BATCH: usize = 250;
/// A target may be down for a while (a laptop asleep, a server restarting).
const DEADLINE_MS: i64 = 24 * 3600 * 1000;
/// Image headers read at once, for elements without a size.
const SIZE_READS: usize = 8;

/// An export worked out: each chosen element's request or why it is not sent.
struct Plan {
    issue: Arc<AquariumIssue>,
    issue_id: String,
    target: ExportTarget,
    rows: Vec<NewExportElement>,
    misfits: Vec<String>,
    /// Label Studio: the model version to make current on the project.
    model_version: Option<String>,
    /// The delivery the issue was read from (the timeline line goes under its source).
    event_id: i64,
}

impl Plan {
    fn issue_fields(&self) -> Value {
        http_targets::issue_fields(&self.issue_id, &self.issue)
    }
}

impl Engine {
    pub(crate) async fn labeling_tasks(&self) -> Result<Arc<dyn LabelingTasks>, ApiError> {
        if let Some(l) = &self.labeling_tasks_override {
            return Ok(l.clone());
        }
        Ok(Arc::new(self.label_studio().await?))
    }

    /// A URL the engine can GET: `s3://bucket/key` becomes a presigned URL from the user's
    /// AWS credentials; anything else is itself. Called only once the bucket is allowed
    /// (`image_request`): a payload must not get the user's credentials used on any bucket.
    pub(crate) async fn fetchable_url(&self, url: &str) -> Result<String, ApiError> {
        let Some(rest) = url.strip_prefix("s3://") else {
            return Ok(url.to_string());
        };
        let (bucket, key) = rest.split_once('/').ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidArgument,
                format!("{url} names no object."),
            )
        })?;
        let s3 = loopline_cloud::s3::S3::new(self.aws().await?)?;
        s3.presigned_get(bucket, key, std::time::Duration::from_secs(3600))
            .await
    }

    /// What an export would send, without sending or filing anything.
    pub async fn preview_export(&self, req: &ExportRequest) -> Result<ExportPreview, ApiError> {
        let plan = self.plan_export(req).await?;
        let sending: Vec<&NewExportElement> = plan
            .rows
            .iter()
            .filter(|r| r.state == ElementState::Pending)
            .collect();
        let requests = match &plan.target {
            ExportTarget::LabelStudio { project } => {
                let base = self.label_studio_base().await;
                let auth = vec![PreviewHeader {
                    name: "Authorization".into(),
                    value: "Token ••••".into(),
                }];
                let mut out = Vec::new();
                for chunk in sending.chunks(BATCH) {
                    let tasks: Vec<Value> = chunk
                        .iter()
                        .filter_map(|r| r.request_json.as_deref())
                        .filter_map(|j| serde_json::from_str(j).ok())
                        .collect();
                    out.push(PreviewRequest {
                        method: "POST".into(),
                        url: format!("{base}/api/projects/{project}/import?return_task_ids=true"),
                        headers: auth.clone(),
                        body: Value::Array(tasks),
                    });
                }
                if let Some(v) = &plan.model_version {
                    out.push(PreviewRequest {
                        method: "PATCH".into(),
                        url: format!("{base}/api/projects/{project}/"),
                        headers: auth.clone(),
                        body: json!({ "model_version": v }),
                    });
                }
                out
            }
            target => {
                let fields = requests_of(&sending);
                if fields.is_empty() {
                    Vec::new()
                } else {
                    let ids: Vec<&str> = sending.iter().map(|r| r.element_id.as_str()).collect();
                    let (url, secret) = http_parts(target);
                    vec![PreviewRequest {
                        method: "POST".into(),
                        url: url.to_string(),
                        headers: http_targets::headers(
                            &target.key(),
                            &plan.issue_id,
                            &ids,
                            secret.map(|_| "••••"),
                        ),
                        body: http_targets::build_body(target, &plan.issue_fields(), &fields)?,
                    }]
                }
            }
        };
        Ok(ExportPreview {
            target: plan.target.describe(),
            sending: sending.len() as u32,
            requests,
            skipped: plan
                .rows
                .iter()
                .filter(|r| r.state != ElementState::Pending)
                .map(|r| ExportSkipped {
                    element_id: r.element_id.clone(),
                    reason: r.message.clone().unwrap_or_default(),
                    task_id: r.task_id,
                })
                .collect(),
            misfits: plan.misfits,
        })
    }

    /// Files the export and queues its delivery; the report says what each element is so
    /// far (the worker sends the pending ones).
    pub async fn export_issue(&self, req: &ExportRequest) -> Result<ExportReport, ApiError> {
        let plan = self.plan_export(req).await?;
        if let ExportTarget::Rest {
            auth_secret: Some(name),
            ..
        }
        | ExportTarget::Graphql {
            auth_secret: Some(name),
            ..
        } = &plan.target
        {
            // Said now, not after the first attempt in the background.
            self.export_secret(name).await?;
        }
        let mut target =
            serde_json::to_value(&plan.target).map_err(|e| ApiError::internal(e.to_string()))?;
        target["model_version"] = json!(plan.model_version);
        target["event_id"] = json!(plan.event_id);
        target["issue"] = plan.issue_fields();
        let now = self.clock.now_ms();
        let id = self
            .store
            .create_export(
                &plan.issue_id,
                &plan.target.key(),
                &target.to_string(),
                &plan.rows,
                now,
                now + DEADLINE_MS,
            )
            .await?;
        tracing::info!(export = id, issue = %plan.issue_id, target = %plan.target.describe(), "export queued");
        if let Some(row) = self
            .store
            .export(id)
            .await?
            .filter(|r| r.state == ExportState::Done)
        {
            // Nothing to send (all there already, or all skipped): said on the timeline now.
            self.export_settled(&row, None).await?;
        }
        self.wake_outbox();
        self.bump_revision();
        self.export_report(id).await
    }

    pub(crate) async fn export_secret(&self, name: &str) -> Result<String, ApiError> {
        self.secret(name)
            .await?
            .map(|s| s.expose().to_string())
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::SecretUnavailable,
                    format!("The auth secret '{name}' is not in the secret store. Add it with `loopline secret set {name}` (the value is read from stdin)."),
                )
            })
    }

    async fn label_studio_base(&self) -> String {
        self.store
            .setting(crate::connections::LS_URL)
            .await
            .ok()
            .flatten()
            .map(|u| u.trim_end_matches('/').to_string())
            .unwrap_or_else(|| "(Label Studio)".into())
    }

    async fn plan_export(&self, req: &ExportRequest) -> Result<Plan, ApiError> {
        let (event_id, issue) = self.latest_issue(&req.issue_id).await?;
        let chosen = chosen_elements(&issue, req.elements.as_deref())?;
        let key = req.target.key();
        // Elements on their way in an export that has not finished, or already sent.
        let mut earlier: HashMap<String, (Option<i64>, i64)> = HashMap::new();
        for (element, task, export) in self.store.exported_elements(&req.issue_id, &key).await? {
            earlier.insert(element, (task, export));
        }
        let mut rows = Vec::new();
        let mut misfits = Vec::new();
        let mut versions: BTreeMap<String, usize> = BTreeMap::new();
        // Elements the issue holds but no export can use: in the report all the same.
        let unusable = unusable_rows(&issue, req.elements.as_deref());
        match &req.target {
            ExportTarget::LabelStudio { project } => {
                let ls = self.labeling_tasks().await?;
                let target = ls.target_project(*project).await?.ok_or_else(|| {
                    ApiError::new(ErrorCode::NotFound, format!("Label Studio has no project {project}. Pick one from `loopline setup label-studio --plan`, or check the id in its URL."))
                })?;
                check_image_target(&target)?;
                let existing: HashMap<String, i64> = ls
                    .tasks_of_issue(*project, &req.issue_id)
                    .await?
                    .into_iter()
                    .collect();
                // Headers are read only for elements that will be built.
                let unsent: Vec<&IssueElement> = chosen
                    .iter()
                    .copied()
                    .filter(|e| {
                        !existing.contains_key(&e.element_id)
                            && !earlier.contains_key(&e.element_id)
                    })
                    .collect();
                let sizes = self.sizes_for(&unsent).await;
                let ids = ls_tasks::IssueIds {
                    issue_id: &req.issue_id,
                    project: issue.project.as_deref(),
                };
                for e in &chosen {
                    if let Some(task) = existing.get(&e.element_id) {
                        rows.push(skipped(
                            e,
                            format!("already in Label Studio project {project} as task {task}"),
                            Some(*task),
                        ));
                        continue;
                    }
                    if let Some((_, export)) = earlier.get(&e.element_id) {
                        rows.push(skipped(
                            e,
                            format!(
                                "on its way to Label Studio project {project} in export {export}"
                            ),
                            None,
                        ));
                        continue;
                    }
                    let size = match sizes.get(&e.element_id) {
                        Some(Ok(s)) => Some(*s),
                        Some(Err(err)) => {
                            rows.push(NewExportElement {
                                element_id: e.element_id.clone(),
                                state: ElementState::Failed,
                                request_json: None,
                                task_id: None,
                                message: Some(format!(
                                    "its image size is unknown: Aquarium sent none, and {}",
                                    err.message
                                )),
                            });
                            continue;
                        }
                        None => None,
                    };
                    match ls_tasks::build_task(&ids, e, &target.controls, size, req.labels) {
                        Ok(built) => {
                            if let Some(v) = &built.model_version {
                                *versions.entry(v.clone()).or_default() += 1;
                            }
                            rows.push(NewExportElement {
                                element_id: e.element_id.clone(),
                                state: ElementState::Pending,
                                request_json: Some(built.task.to_string()),
                                task_id: None,
                                // Kept once created: "created: task N, masks not sent: …".
                                message: built.note,
                            });
                        }
                        Err(not_sent) => {
                            if let ls_tasks::NotSent::Misfits(m) = &not_sent {
                                misfits.extend(m.iter().cloned());
                            }
                            rows.push(skipped(e, not_sent.reason(), None));
                        }
                    }
                }
                rows.extend(unusable);
                misfits.sort();
                misfits.dedup();
                // The inference set the issue is about, as the issue asks; ground truth
                // only when no element has inferences.
                let model_version = versions
                    .into_iter()
                    .max_by_key(|(v, n)| (v != ls_tasks::GROUND_TRUTH_VERSION, *n))
                    .map(|(v, _)| v);
                let model_version =
                    model_version.filter(|v| target.model_version.as_ref() != Some(v));
                return Ok(Plan {
                    issue_id: req.issue_id.clone(),
                    issue,
                    target: req.target.clone(),
                    rows,
                    misfits,
                    model_version,
                    event_id,
                });
            }
            ExportTarget::Rest {
                url, auth_secret, ..
            }
            | ExportTarget::Graphql {
                url, auth_secret, ..
            } => {
                check_http_url(url, auth_secret.as_deref())?;
                for e in &chosen {
                    if let Some((_, export)) = earlier.get(&e.element_id) {
                        rows.push(skipped(
                            e,
                            format!("already sent to {url} in export {export}"),
                            None,
                        ));
                        continue;
                    }
                    let sent = with_labels(e, req.labels);
                    rows.push(NewExportElement {
                        element_id: e.element_id.clone(),
                        state: ElementState::Pending,
                        request_json: Some(http_targets::element_fields(&sent).to_string()),
                        task_id: None,
                        message: None,
                    });
                }
                rows.extend(unusable);
                // The body is built now too, so a template error is said before filing.
                let sending: Vec<&NewExportElement> = rows
                    .iter()
                    .filter(|r| r.state == ElementState::Pending)
                    .collect();
                http_targets::build_body(
                    &req.target,
                    &http_targets::issue_fields(&req.issue_id, &issue),
                    &requests_of(&sending),
                )?;
            }
        }
        Ok(Plan {
            issue_id: req.issue_id.clone(),
            issue,
            target: req.target.clone(),
            rows,
            misfits,
            model_version: None,
            event_id,
        })
    }

    /// Sizes of the chosen elements that need one and were sent without it, read from the
    /// image headers a few at a time.
    async fn sizes_for(
        &self,
        chosen: &[&IssueElement],
    ) -> HashMap<String, Result<(u32, u32), ApiError>> {
        let mut out = HashMap::new();
        let mut wanted = Vec::new();
        for e in chosen {
            let needs = e.labels.iter().any(|l| {
                matches!(
                    l.geometry,
                    Geometry::Box { .. } | Geometry::Polygons { .. } | Geometry::Keypoints { .. }
                )
            });
            match (needs, e.width, e.height) {
                (false, _, _) => {}
                (true, Some(w), Some(h)) if w > 0 && h > 0 => {
                    out.insert(e.element_id.clone(), Ok((w, h)));
                }
                (true, _, _) => {
                    if let Some(url) = e.image_url.as_deref().or(e.preview_url.as_deref()) {
                        wanted.push((e.element_id.clone(), url.to_string()));
                    }
                }
            }
        }
        let read: Vec<_> = stream::iter(wanted)
            .map(|(id, url)| async move { (id, self.image_size_of(&url).await) })
            .buffer_unordered(SIZE_READS)
            .collect()
            .await;
        out.extend(read);
        out
    }
}

fn skipped(e: &IssueElement, reason: String, task_id: Option<i64>) -> NewExportElement {
    NewExportElement {
        element_id: e.element_id.clone(),
        state: ElementState::Skipped,
        request_json: None,
        task_id,
        message: Some(reason),
    }
}

/// A frame with only the chosen labels (an endpoint gets the same choice as Label Studio);
/// a crop keeps its own label.
fn with_labels(e: &IssueElement, choice: ExportLabels) -> IssueElement {
    let mut out = e.clone();
    if e.element_type == ElementType::Frame {
        out.labels.retain(|l| choice.takes(l.inference));
    }
    out
}

fn requests_of(rows: &[&NewExportElement]) -> Vec<Value> {
    rows.iter()
        .filter_map(|r| r.request_json.as_deref())
        .filter_map(|j| serde_json::from_str(j).ok())
        .collect()
}

fn http_parts(target: &ExportTarget) -> (&str, Option<&str>) {
    match target {
        ExportTarget::Rest {
            url, auth_secret, ..
        }
        | ExportTarget::Graphql {
            url, auth_secret, ..
        } => (url.as_str(), auth_secret.as_deref()),
        ExportTarget::LabelStudio { .. } => ("", None),
    }
}

fn check_http_url(url: &str, auth_secret: Option<&str>) -> Result<(), ApiError> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {}
        _ => return Err(ApiError::new(ErrorCode::InvalidArgument, format!("'{url}' is not an http(s) URL. Give the endpoint's full URL, e.g. https://labeling.example.com/api/tasks."))),
    }
    match auth_secret {
        Some(name) => refuse_bearer_in_clear(url, name),
        None => Ok(()),
    }
}

/// A bearer secret over `http://` to another machine is readable by anyone on the path, as
/// the tunnel's token would be: refused before anything is sent, and again at delivery (an
/// export stored by an older version may hold such a target).
pub(crate) fn refuse_bearer_in_clear(url: &str, secret_name: &str) -> Result<(), ApiError> {
    if !loopline_tunnel::public_url::is_plaintext_remote(url) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::InvalidArgument,
        format!("{url} is plain HTTP across the network, so the secret '{secret_name}' would travel in clear text in its Authorization header. Use the endpoint's https:// URL (plain http:// is accepted only to this machine: localhost or 127.0.0.1)."),
    ))
}

/// A project whose config has no image object cannot show an element.
fn check_image_target(target: &TargetProject) -> Result<(), ApiError> {
    if target.controls.iter().any(|c| c.data_key.is_some()) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::InvalidArgument,
        format!("Label Studio project {} ('{}') has no image labeling tags (RectangleLabels, PolygonLabels, KeyPointLabels or Choices on an Image). Choose an image project, or set one up with `loopline setup label-studio`.", target.id, target.title),
    ))
}

/// A skipped row for each element the parser could not use (no frame data, no image
/// sensor…), so every element of the issue has its line in the report. One without an id
/// is named by its place among those (its reason says its place in the issue).
fn unusable_rows(issue: &AquariumIssue, only: Option<&[String]>) -> Vec<NewExportElement> {
    let mut taken: HashSet<String> = issue
        .elements
        .iter()
        .map(|e| e.element_id.clone())
        .collect();
    let mut out = Vec::new();
    for (n, s) in issue.skipped.iter().enumerate() {
        if only.is_some_and(|o| !s.element_id.as_ref().is_some_and(|id| o.contains(id))) {
            continue;
        }
        let id = s
            .element_id
            .clone()
            .unwrap_or_else(|| format!("(unnamed {})", n + 1));
        if !taken.insert(id.clone()) {
            continue; // the same id twice in one issue: one line is enough
        }
        out.push(NewExportElement {
            element_id: id,
            state: ElementState::Skipped,
            request_json: None,
            task_id: None,
            message: Some(format!("not usable: {}", s.reason)),
        });
    }
    out
}

/// Aquarium's id of an element (a frame split across sensors is `{id}@{sensor}`).
fn aquarium_id(e: &IssueElement) -> &str {
    e.sensor_id
        .as_deref()
        .and_then(|s| e.element_id.strip_suffix(s)?.strip_suffix('@'))
        .unwrap_or(&e.element_id)
}

/// The chosen elements in the issue's order; an unknown id is an error that names it.
/// Aquarium's id of a frame split across sensors chooses each of its sensors.
fn chosen_elements<'a>(
    issue: &'a AquariumIssue,
    only: Option<&[String]>,
) -> Result<Vec<&'a IssueElement>, ApiError> {
    let Some(only) = only else {
        return Ok(issue.elements.iter().collect());
    };
    let wanted: HashSet<&str> = only.iter().map(String::as_str).collect();
    let known: HashSet<&str> = issue
        .elements
        .iter()
        .flat_map(|e| [e.element_id.as_str(), aquarium_id(e)])
        .chain(issue.skipped.iter().filter_map(|s| s.element_id.as_deref()))
        .collect();
    let unknown: Vec<&str> = only
        .iter()
        .map(String::as_str)
        .filter(|id| !known.contains(id))
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidArgument,
            format!(
                "This issue has no element {}. `loopline aquarium show ISSUE` lists its elements.",
                unknown.join(", ")
            ),
        ));
    }
    if wanted.is_empty() {
        return Err(ApiError::new(ErrorCode::InvalidArgument, "No elements were chosen. Select at least one, or leave --elements out to send them all."));
    }
    Ok(issue
        .elements
        .iter()
        .filter(|e| wanted.contains(e.element_id.as_str()) || wanted.contains(aquarium_id(e)))
        .collect())
}
