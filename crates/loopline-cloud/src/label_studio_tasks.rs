//! What an Aquarium export asks of Label Studio, as a trait: the target project's labeling
//! config (its control tags, as Label Studio parsed them), the tasks an issue already has
//! there (found by the Aquarium ids kept in their data, since Label Studio has no external
//! id), a batched import, and the project's current model version (annotators see only the
//! predictions of that version). Label Studio's REST API in production; a fake in the
//! engine's fast tests.

use async_trait::async_trait;
use loopline_core::{ApiError, ErrorCode};
use serde_json::{json, Value};

use crate::label_studio::LabelStudio;

/// The task data keys an export writes, and looks tasks up by.
pub const ISSUE_KEY: &str = "aquarium_issue_id";
pub const ELEMENT_KEY: &str = "aquarium_element_id";

/// One control tag of a labeling config: `<RectangleLabels name="label" toName="image">`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlTag {
    pub name: String,
    /// Label Studio's tag type: `RectangleLabels`, `PolygonLabels`, `KeyPointLabels`, `Choices`…
    pub kind: String,
    pub to_name: String,
    /// The task data key the object tag reads (`image` for `value="$image"`).
    pub data_key: Option<String>,
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetProject {
    pub id: i64,
    pub title: String,
    pub model_version: Option<String>,
    pub controls: Vec<ControlTag>,
}

#[async_trait]
pub trait LabelingTasks: Send + Sync {
    async fn target_project(&self, id: i64) -> Result<Option<TargetProject>, ApiError>;
    /// (element id, task id) for each task of the project made from this issue.
    async fn tasks_of_issue(
        &self,
        project: i64,
        issue_id: &str,
    ) -> Result<Vec<(String, i64)>, ApiError>;
    /// Imports the tasks in one request; the created task ids, in order.
    async fn import_tasks(&self, project: i64, tasks: &[Value]) -> Result<Vec<i64>, ApiError>;
    async fn set_model_version(&self, project: i64, version: &str) -> Result<(), ApiError>;
}

/// The control tags of `parsed_label_config`, in name order.
pub fn controls_of(parsed: &Value) -> Vec<ControlTag> {
    let Some(map) = parsed.as_object() else {
        return Vec::new();
    };
    let text = |v: &Value| v.as_str().map(str::to_string);
    map.iter()
        .map(|(name, c)| ControlTag {
            name: name.clone(),
            kind: c["type"].as_str().unwrap_or_default().to_string(),
            to_name: c["to_name"]
                .as_array()
                .and_then(|a| a.first())
                .and_then(text)
                .unwrap_or_default(),
            data_key: c["inputs"]
                .as_array()
                .and_then(|a| a.first())
                .and_then(|i| text(&i["value"])),
            labels: c["labels"]
                .as_array()
                .map(|a| a.iter().filter_map(text).collect())
                .unwrap_or_default(),
        })
        .collect()
}

fn unexpected(what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::LsUnavailable,
        format!("Label Studio's answer to {what} was not what Loopline expected. Check the Label Studio URL points at Label Studio 1.8 or newer."),
    )
}

#[async_trait]
impl LabelingTasks for LabelStudio {
    async fn target_project(&self, id: i64) -> Result<Option<TargetProject>, ApiError> {
        let v = match self.get(&format!("/api/projects/{id}/")).await {
            Ok(v) => v,
            Err(e) if e.code == ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(Some(TargetProject {
            id,
            title: v["title"].as_str().unwrap_or_default().to_string(),
            model_version: v["model_version"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            controls: controls_of(&v["parsed_label_config"]),
        }))
    }

    async fn tasks_of_issue(
        &self,
        project: i64,
        issue_id: &str,
    ) -> Result<Vec<(String, i64)>, ApiError> {
        // The data manager's filter on a data field, so a project with many other tasks is
        // not read whole.
        let query = json!({"filters": {"conjunction": "and", "items": [{
            "filter": format!("filter:tasks:data.{ISSUE_KEY}"),
            "operator": "equal", "type": "String", "value": issue_id,
        }]}});
        let query = crate::s3::encode_query(&query.to_string());
        let mut out = Vec::new();
        for page in 1..=10_000 {
            let v = self
                .get(&format!(
                    "/api/tasks/?project={project}&page_size=1000&page={page}&fields=all&query={query}"
                ))
                .await;
            let v = match v {
                Ok(v) => v,
                Err(e) if e.code == ErrorCode::NotFound && page > 1 => break,
                Err(e) => return Err(e),
            };
            let tasks = v["tasks"]
                .as_array()
                .ok_or_else(|| unexpected("a task list"))?;
            for t in tasks {
                let data = &t["data"];
                // The filter is checked again: an older Label Studio may ignore it.
                if data[ISSUE_KEY].as_str() != Some(issue_id) {
                    continue;
                }
                if let (Some(element), Some(id)) = (data[ELEMENT_KEY].as_str(), t["id"].as_i64()) {
                    out.push((element.to_string(), id));
                }
            }
            let total = v["total"].as_u64().unwrap_or(0) as usize;
            if tasks.len() < 1000 || page * 1000 >= total {
                break;
            }
        }
        Ok(out)
    }

    async fn import_tasks(&self, project: i64, tasks: &[Value]) -> Result<Vec<i64>, ApiError> {
        let v = self
            .post(
                &format!("/api/projects/{project}/import?return_task_ids=true"),
                &Value::Array(tasks.to_vec()),
            )
            .await?;
        let ids: Vec<i64> = v["task_ids"]
            .as_array()
            .ok_or_else(|| unexpected("an import"))?
            .iter()
            .filter_map(Value::as_i64)
            .collect();
        if ids.len() != tasks.len() {
            return Err(unexpected("an import (task ids missing)"));
        }
        Ok(ids)
    }

    async fn set_model_version(&self, project: i64, version: &str) -> Result<(), ApiError> {
        self.patch(
            &format!("/api/projects/{project}/"),
            &json!({ "model_version": version }),
        )
        .await
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_tags_come_from_the_parsed_config() {
        let parsed = json!({
            "label": {"type": "RectangleLabels", "to_name": ["image"],
                      "inputs": [{"type": "Image", "value": "image"}], "labels": ["Beak", "Wing"]},
            "kind": {"type": "Choices", "to_name": ["image"], "inputs": [{"type": "Image", "value": "img"}], "labels": ["ok"]}
        });
        let c = controls_of(&parsed);
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].kind, "RectangleLabels");
        assert_eq!(c[1].to_name, "image");
        assert_eq!(c[1].data_key.as_deref(), Some("image"));
        assert_eq!(c[1].labels, vec!["Beak", "Wing"]);
        assert_eq!(c[0].data_key.as_deref(), Some("img"));
    }
}
