//! What exports did, read back: per export (`loopline aquarium exports`, the issue page's
//! results) and in brief (the issue list), and the timeline line of a finished export.

use loopline_core::{
    rfc3339_ms, ApiError, ElementState, ErrorCode, ExportBrief, ExportCreated, ExportFailed,
    ExportReport, ExportSkipped, ExportTarget,
};
use loopline_store::ExportRow;

use crate::Engine;

fn target_words(row: &ExportRow) -> String {
    serde_json::from_str::<ExportTarget>(&row.target_json)
        .map(|t| t.describe())
        .unwrap_or_else(|_| row.target_key.clone())
}

impl Engine {
    pub async fn export_report(&self, id: i64) -> Result<ExportReport, ApiError> {
        let row = self.store.export(id).await?.ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                format!("There is no export {id}. `loopline aquarium exports` lists them."),
            )
        })?;
        self.report_of(&row).await
    }

    /// Each export (of one issue, or all), newest first, with its per-element results.
    pub async fn aquarium_exports(
        &self,
        issue_id: Option<&str>,
    ) -> Result<Vec<ExportReport>, ApiError> {
        let mut out = Vec::new();
        for row in self.store.exports(issue_id).await? {
            out.push(self.report_of(&row).await?);
        }
        Ok(out)
    }

    /// Exports in brief, by issue id.
    pub(crate) async fn export_briefs(&self) -> Result<Vec<(String, ExportBrief)>, ApiError> {
        let tallies = self.store.export_tallies(None).await?;
        Ok(self
            .store
            .exports(None)
            .await?
            .into_iter()
            .map(|row| {
                let count = |state: ElementState| {
                    tallies
                        .iter()
                        .filter(|(id, s, _)| *id == row.id && *s == state)
                        .map(|(_, _, n)| *n as u32)
                        .sum::<u32>()
                };
                let brief = ExportBrief {
                    export_id: row.id,
                    target: target_words(&row),
                    state: row.state,
                    created: count(ElementState::Created),
                    skipped: count(ElementState::Skipped),
                    failed: count(ElementState::Failed),
                    pending: count(ElementState::Pending) + count(ElementState::Sending),
                };
                (row.issue_id, brief)
            })
            .collect())
    }

    async fn report_of(&self, row: &ExportRow) -> Result<ExportReport, ApiError> {
        let mut report = ExportReport {
            export_id: row.id,
            issue_id: row.issue_id.clone(),
            target: target_words(row),
            state: row.state,
            created_at: rfc3339_ms(row.created_at_ms),
            created: Vec::new(),
            skipped: Vec::new(),
            failed: Vec::new(),
            pending: 0,
            last_error: row.last_error.clone(),
        };
        for e in self.store.export_elements(row.id).await? {
            match e.state {
                ElementState::Created => report.created.push(ExportCreated {
                    element_id: e.element_id,
                    task_id: e.task_id,
                    note: e.message,
                }),
                ElementState::Skipped => report.skipped.push(ExportSkipped {
                    element_id: e.element_id,
                    reason: e.message.unwrap_or_default(),
                    task_id: e.task_id,
                }),
                ElementState::Failed => report.failed.push(ExportFailed {
                    element_id: e.element_id,
                    code: e.code.unwrap_or_else(|| "export_failed".into()),
                    message: e.message.unwrap_or_default(),
                }),
                ElementState::Pending | ElementState::Sending => report.pending += 1,
            }
        }
        Ok(report)
    }

    /// The timeline's line for a finished export, filed under the source the issue came
    /// from; its body is the report, so the payload view shows every element's result.
    pub(crate) async fn record_export_event(
        &self,
        export: &ExportRow,
        report: &ExportReport,
        summary: &str,
    ) -> Result<(), ApiError> {
        let event_id = serde_json::from_str::<serde_json::Value>(&export.target_json)
            .ok()
            .and_then(|t| t["event_id"].as_i64());
        let Some(event_id) = event_id else {
            return Ok(());
        };
        let Ok(source) = self
            .store
            .event(event_id)
            .await
            .map(|e| e.summary.source_id)
        else {
            return Ok(()); // the issue's event was deleted: nowhere to file it
        };
        let body = serde_json::json!({"event": "loopline-export", "export": report});
        self.record_own_event(&source, "aquarium", "loopline-export", None, &body, summary)
            .await
    }
}
