//! What happened in a Label Studio project while Loopline was not listening, as a trait:
//! the project's counters now, and the annotations on tasks changed since a time. Label
//! Studio 1.23.2 has no `/api/projects/{id}/annotations` (404, checked against the real
//! server); the data manager's task list filtered on `tasks:updated_at` is what it offers,
//! and creating or editing an annotation moves its task's `updated_at`
//! (`Annotation.update_task` in Label Studio's `tasks/models.py`). Label Studio's REST API in
//! production; a fake in the engine's fast tests.

use async_trait::async_trait;
use loopline_core::{rfc3339_ms, ApiError, ErrorCode};
use serde_json::{json, Value};

use crate::label_studio::LabelStudio;

const PAGE: usize = 500;

/// A project's title and counters, as `GET /api/projects/{id}/` reports them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProjectCounts {
    pub title: String,
    pub useful_annotation_number: Option<i64>,
    pub total_annotations_number: Option<i64>,
}

/// One annotation as the task list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenAnnotation {
    pub id: i64,
    pub task_id: i64,
    /// Milliseconds since the epoch, by Label Studio's clock.
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub was_cancelled: bool,
}

#[async_trait]
pub trait ProjectActivity: Send + Sync {
    async fn project_counts(&self, project: i64) -> Result<ProjectCounts, ApiError>;
    /// Every annotation on the tasks updated after `since_ms` (cancelled ones included,
    /// marked): the caller decides what counts.
    async fn annotations_since(
        &self,
        project: i64,
        since_ms: i64,
    ) -> Result<Vec<SeenAnnotation>, ApiError>;
}

/// Label Studio's timestamps (`2026-12-07T03:21:07.227474Z`, or with `+00:00`) in ms.
pub fn parse_ls_time(s: &str) -> Option<i64> {
    let (main, rest) = s.split_at(s.len().min(19));
    let (frac, offset) = match rest.strip_prefix('.') {
        Some(r) => {
            let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            (&r[..end], &r[end..])
        }
        None => ("", rest),
    };
    let offset_ms = match offset {
        "" | "Z" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) => {
            let h: i64 = o[1..3].parse().ok()?;
            let m: i64 = o[4..6].parse().ok()?;
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (h * 3600 + m * 60) * 1000
        }
        _ => return None,
    };
    let ms: String = frac.chars().chain("000".chars()).take(3).collect();
    let base = loopline_core::parse_rfc3339_ms(&format!("{main}.{ms}Z"))?;
    Some(base - offset_ms)
}

fn unexpected() -> ApiError {
    ApiError::new(
        ErrorCode::LsUnavailable,
        "Label Studio's task list was not what Loopline expected. Check the Label Studio URL points at Label Studio 1.8 or newer.",
    )
}

#[async_trait]
impl ProjectActivity for LabelStudio {
    async fn project_counts(&self, project: i64) -> Result<ProjectCounts, ApiError> {
        let p = self.get(&format!("/api/projects/{project}/")).await?;
        Ok(ProjectCounts {
            title: p["title"].as_str().unwrap_or_default().to_string(),
            useful_annotation_number: p["useful_annotation_number"].as_i64(),
            total_annotations_number: p["total_annotations_number"].as_i64(),
        })
    }

    async fn annotations_since(
        &self,
        project: i64,
        since_ms: i64,
    ) -> Result<Vec<SeenAnnotation>, ApiError> {
        let query = json!({"filters": {"conjunction": "and", "items": [{
            "filter": "filter:tasks:updated_at", "operator": "greater",
            "type": "Datetime", "value": rfc3339_ms(since_ms),
        }]}});
        let query = crate::s3::encode_query(&query.to_string());
        let mut out = Vec::new();
        for page in 1..=10_000 {
            let v = self
                .get(&format!(
                    "/api/tasks/?project={project}&page_size={PAGE}&page={page}&fields=all&query={query}"
                ))
                .await;
            let v = match v {
                Ok(v) => v,
                // Past the last page Label Studio answers 404 "Invalid page."
                Err(e) if e.code == ErrorCode::NotFound && page > 1 => break,
                Err(e) => return Err(e),
            };
            let tasks = v["tasks"].as_array().ok_or_else(unexpected)?;
            for t in tasks {
                for a in t["annotations"].as_array().into_iter().flatten() {
                    out.extend(seen(a, t["id"].as_i64()));
                }
            }
            let total = v["total"].as_u64().unwrap_or(0) as usize;
            if tasks.len() < PAGE || page * PAGE >= total {
                break;
            }
        }
        Ok(out)
    }
}

fn seen(a: &Value, task: Option<i64>) -> Option<SeenAnnotation> {
    let created = a["created_at"].as_str().and_then(parse_ls_time)?;
    Some(SeenAnnotation {
        id: a["id"].as_i64()?,
        task_id: a["task"].as_i64().or(task)?,
        created_at_ms: created,
        updated_at_ms: a["updated_at"]
            .as_str()
            .and_then(parse_ls_time)
            .unwrap_or(created),
        was_cancelled: a["was_cancelled"].as_bool().unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_label_studio_timestamps() {
        let z = parse_ls_time("2026-12-07T03:21:07.227474Z").unwrap();
        assert_eq!(rfc3339_ms(z), "2026-12-07T03:21:07.227Z");
        assert_eq!(parse_ls_time("2026-12-07T03:21:07Z"), Some(z - 227));
        assert_eq!(parse_ls_time("2026-12-07T04:21:07.227+01:00"), Some(z));
        assert_eq!(parse_ls_time("yesterday"), None);
    }

    #[test]
    fn an_annotation_of_the_task_list() {
        let a = json!({"id": 3, "created_at": "2026-12-07T03:21:08.684447Z",
                       "updated_at": "2026-12-07T03:21:08.684498Z", "was_cancelled": true});
        let s = seen(&a, Some(9)).unwrap();
        assert_eq!((s.id, s.task_id, s.was_cancelled), (3, 9, true));
    }
}
