//! Delivering a filed export from the outbox: Label Studio in batches, REST and GraphQL in
//! one request, each element's result recorded as it lands so a stop loses nothing.

use std::collections::HashMap;

use loopline_cloud::sagemaker::CallError;
use loopline_core::{ApiError, ElementState, ErrorCode, ExportState, ExportTarget};
use loopline_store::{ElementUpdate, ExportElementRow, ExportRow, OutboxItem};
use serde_json::Value;

use super::{http_targets, BATCH};
use crate::Engine;

/// Set in an export's target once its model version is set on the project.
const VERSION_SET: &str = "model_version_set";

fn unreadable(what: &str, e: impl std::fmt::Display) -> CallError {
    CallError::from(ApiError::internal(format!("export {what} unreadable: {e}")))
}

/// Label Studio (or an endpoint) being unreachable or overloaded is worth retrying;
/// anything else it says is final.
fn retryable(error: ApiError) -> CallError {
    CallError {
        retryable: matches!(
            error.code,
            ErrorCode::LsUnavailable | ErrorCode::TargetUnavailable | ErrorCode::RateLimited
        ),
        error,
        status: None,
        aws_error: false,
    }
}

/// The same result for each of `rows`; `failure` is (code, message). Without one, an
/// element keeps the note it was filed with (what of its labels the task does not carry).
fn all_become<'a>(
    rows: impl IntoIterator<Item = &'a ExportElementRow>,
    state: ElementState,
    failure: Option<(&'a str, &'a str)>,
) -> Vec<ElementUpdate<'a>> {
    rows.into_iter()
        .map(|e| ElementUpdate {
            element_id: &e.element_id,
            state,
            task_id: None,
            code: failure.map(|f| f.0),
            message: failure.map(|f| f.1).or(e.message.as_deref()),
        })
        .collect()
}

impl Engine {
    pub(crate) async fn perform_export(&self, item: &OutboxItem) -> Result<(), CallError> {
        let id = item
            .subject_id
            .ok_or_else(|| unreadable("item", "no subject"))?;
        let Some(export) = self.store.export(id).await? else {
            return Ok(()); // removed with its data: nothing to deliver
        };
        let target_json: Value =
            serde_json::from_str(&export.target_json).map_err(|e| unreadable("target", e))?;
        let target: ExportTarget =
            serde_json::from_value(target_json.clone()).map_err(|e| unreadable("target", e))?;
        let todo: Vec<ExportElementRow> = self
            .store
            .export_elements(id)
            .await?
            .into_iter()
            .filter(|e| e.state.unsent())
            .collect();
        if !todo.is_empty() {
            match &target {
                ExportTarget::LabelStudio { project } => {
                    self.deliver_to_label_studio(&export, *project, &todo)
                        .await?
                }
                _ => {
                    self.deliver_to_endpoint(&export, &target, &target_json["issue"], &todo)
                        .await?
                }
            }
        }
        // The model version is its own step, recorded when it is done: a retry after every
        // import landed (Label Studio down at the PATCH) still sets it, and one after it
        // was set does not set it again over a change someone made since.
        let mut note = None;
        if let (ExportTarget::LabelStudio { project }, Some(version)) =
            (&target, target_json["model_version"].as_str())
        {
            if target_json[VERSION_SET] != Value::Bool(true) {
                note = self.set_model_version(*project, version).await?;
                let mut recorded = target_json.clone();
                recorded[VERSION_SET] = Value::Bool(true);
                self.store
                    .set_export_target(id, &recorded.to_string())
                    .await?;
            }
        }
        self.store
            .finish_export(
                id,
                ExportState::Done,
                note.as_deref(),
                Some(self.clock.now_ms()),
            )
            .await?;
        self.export_settled(&export, None).await?;
        Ok(())
    }

    async fn deliver_to_label_studio(
        &self,
        export: &ExportRow,
        project: i64,
        todo: &[ExportElementRow],
    ) -> Result<(), CallError> {
        let ls = self.labeling_tasks().await.map_err(retryable)?;
        // What is there already: an element whose batch was in flight when a process
        // stopped is this export's own; one that was still pending was put there by
        // someone else since the plan (another export, a second window).
        let there: HashMap<String, i64> = ls
            .tasks_of_issue(project, &export.issue_id)
            .await
            .map_err(retryable)?
            .into_iter()
            .collect();
        let mut found = Vec::new();
        let mut send = Vec::new();
        for e in todo {
            match there.get(&e.element_id) {
                Some(task) if e.state == ElementState::Sending => {
                    found.push((e, *task, ElementState::Created))
                }
                Some(task) => found.push((e, *task, ElementState::Skipped)),
                None => send.push(e),
            }
        }
        let notes: Vec<String> = found
            .iter()
            .map(|(_, task, _)| format!("already in Label Studio project {project} as task {task}"))
            .collect();
        let updates: Vec<ElementUpdate> = found
            .iter()
            .zip(&notes)
            .map(|((e, task, state), note)| ElementUpdate {
                element_id: &e.element_id,
                state: *state,
                task_id: Some(*task),
                code: None,
                message: if *state == ElementState::Skipped {
                    Some(note.as_str())
                } else {
                    e.message.as_deref()
                },
            })
            .collect();
        self.store
            .update_export_elements(export.id, &updates)
            .await?;
        for chunk in send.chunks(BATCH) {
            let mut tasks = Vec::with_capacity(chunk.len());
            for e in chunk {
                let json = e.request_json.as_deref().unwrap_or("{}");
                tasks.push(
                    serde_json::from_str::<Value>(json).map_err(|err| unreadable("task", err))?,
                );
            }
            let sending = all_become(chunk.iter().copied(), ElementState::Sending, None);
            self.store
                .update_export_elements(export.id, &sending)
                .await?;
            match ls.import_tasks(project, &tasks).await {
                Ok(ids) => {
                    let done: Vec<ElementUpdate> = chunk
                        .iter()
                        .zip(ids)
                        .map(|(e, task)| ElementUpdate {
                            element_id: &e.element_id,
                            state: ElementState::Created,
                            task_id: Some(task),
                            code: None,
                            message: e.message.as_deref(),
                        })
                        .collect();
                    self.store.update_export_elements(export.id, &done).await?;
                }
                Err(err) => {
                    let call = retryable(err);
                    if call.retryable {
                        return Err(call);
                    }
                    // Label Studio refused this batch (a task it cannot take): its elements
                    // fail with its words, and the other batches still go.
                    let code = call.error.code.as_str();
                    let message = format!("{} Fix it, then use retry.", call.error.message);
                    let failed = all_become(
                        chunk.iter().copied(),
                        ElementState::Failed,
                        Some((code, &message)),
                    );
                    self.store
                        .update_export_elements(export.id, &failed)
                        .await?;
                }
            }
            self.bump_revision();
        }
        Ok(())
    }

    /// Annotators see only the predictions of the project's current version, and Label
    /// Studio accepts a version only once predictions of it exist: so after the tasks. A
    /// refusal is a note on the finished export; Label Studio down is retried.
    async fn set_model_version(
        &self,
        project: i64,
        version: &str,
    ) -> Result<Option<String>, CallError> {
        let ls = self.labeling_tasks().await.map_err(retryable)?;
        match ls.set_model_version(project, version).await {
            Ok(()) => Ok(None),
            Err(e) if e.code == ErrorCode::LsUnavailable => Err(retryable(e)),
            Err(e) => Ok(Some(format!(
                "The tasks were created, but project {project}'s model version could not be set to '{version}' ({}), so annotators may not see the predictions. Set it in the project's settings under Machine Learning.",
                e.message
            ))),
        }
    }

    async fn deliver_to_endpoint(
        &self,
        export: &ExportRow,
        target: &ExportTarget,
        issue: &Value,
        todo: &[ExportElementRow],
    ) -> Result<(), CallError> {
        let (url, secret_name, graphql) = match target {
            ExportTarget::Rest {
                url, auth_secret, ..
            } => (url, auth_secret, false),
            ExportTarget::Graphql {
                url, auth_secret, ..
            } => (url, auth_secret, true),
            ExportTarget::LabelStudio { .. } => return Ok(()),
        };

        let mut fields = Vec::with_capacity(todo.len());
        for e in todo {
            fields.push(
                serde_json::from_str::<Value>(e.request_json.as_deref().unwrap_or("{}"))
                    .map_err(|err| unreadable("element", err))?,
            );
        }
        let body = http_targets::build_body(target, issue, &fields)?;
        let secret = match secret_name {
            Some(name) => {
                super::refuse_bearer_in_clear(url, name)?;
                Some(self.export_secret(name).await?)
            }
            None => None,
        };
        let ids: Vec<&str> = todo.iter().map(|e| e.element_id.as_str()).collect();
        let headers: Vec<(String, String)> = http_targets::headers(
            &export.target_key,
            &export.issue_id,
            &ids,
            secret.as_deref(),
        )
        .into_iter()
        .map(|h| (h.name, h.value))
        .collect();
        self.store
            .update_export_elements(export.id, &all_become(todo, ElementState::Sending, None))
            .await?;
        let answer = self
            .web
            .post_json(url, &headers, &body)
            .await
            .map_err(retryable)?;
        let refusal = match http_targets::judge(graphql, url, answer.status, &answer.body) {
            Ok(()) => None,
            Err((true, e)) => return Err(retryable(e)),
            Err((false, e)) => Some(e),
        };
        let updates = match &refusal {
            None => all_become(todo, ElementState::Created, None),
            Some(e) => all_become(
                todo,
                ElementState::Failed,
                Some((e.code.as_str(), e.message.as_str())),
            ),
        };
        self.store
            .update_export_elements(export.id, &updates)
            .await?;
        Ok(())
    }

    /// An export's delivery gave up: what was not sent fails with the reason.
    pub(crate) async fn export_gave_up(
        &self,
        item: &OutboxItem,
        why: &str,
    ) -> Result<(), ApiError> {
        let Some(id) = item.subject_id else {
            return Ok(());
        };
        let Some(export) = self.store.export(id).await? else {
            return Ok(());
        };
        let rows = self.store.export_elements(id).await?;
        let unsent = rows.iter().filter(|e| e.state.unsent());
        let updates = all_become(unsent, ElementState::Failed, Some(("export_failed", why)));
        self.store.update_export_elements(id, &updates).await?;
        self.store
            .finish_export(
                id,
                ExportState::Failed,
                Some(why),
                Some(self.clock.now_ms()),
            )
            .await?;
        self.export_settled(&export, Some(why)).await
    }

    /// A retry is coming: the export shows why.
    pub(crate) async fn export_retrying(
        &self,
        item: &OutboxItem,
        why: &str,
    ) -> Result<(), ApiError> {
        if let Some(id) = item.subject_id {
            self.store
                .finish_export(id, ExportState::Pending, Some(why), None)
                .await?;
            self.bump_revision();
        }
        Ok(())
    }

    /// One timeline line per finished export.
    pub(super) async fn export_settled(
        &self,
        export: &ExportRow,
        why: Option<&str>,
    ) -> Result<(), ApiError> {
        let report = self.export_report(export.id).await?;
        let mut summary = format!(
            "Aquarium issue {} → {}: {} created, {} skipped, {} failed.",
            export.issue_id,
            report.target,
            report.created.len(),
            report.skipped.len(),
            report.failed.len()
        );
        if let Some(why) = why {
            summary.push_str(&format!(" Gave up: {why}"));
        }
        tracing::info!(export = export.id, "{summary}");
        self.record_export_event(export, &report, &summary).await?;
        self.bump_revision();
        Ok(())
    }
}
