//! What the labeling setup asks of Label Studio, as a trait: projects (found by their exact
//! title, since titles are not unique and `?title=` matches substrings), the S3 import
//! storage that turns images into tasks, and the S3 export storage that writes each
//! annotation to the bucket. Label Studio's REST API in production; a fake in the engine's
//! fast tests.

use async_trait::async_trait;
use loopline_core::{ApiError, ErrorCode, Sensitive};
use serde_json::{json, Value};

use crate::label_studio::LabelStudio;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectInfo {
    pub id: i64,
    pub title: String,
    pub label_config: String,
    pub task_number: i64,
}

/// An import or export storage as Label Studio shows it (without its keys, which it strips).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StorageInfo {
    pub id: i64,
    pub bucket: String,
    pub prefix: String,
    /// `initialized|queued|in_progress|failed|completed|completed_with_errors`.
    pub status: String,
    pub traceback: Option<String>,
    pub last_sync_count: Option<i64>,
}

/// What a new storage is made of. `prefix` is as Label Studio should store it.
#[derive(Debug, Clone)]
pub struct NewStorage {
    pub project: i64,
    pub title: String,
    pub bucket: String,
    pub prefix: String,
    pub region: String,
    /// A local S3 (moto, MinIO); `None` for AWS.
    pub endpoint: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Sensitive<String>>,
    /// Import only: `regex_filter` (matched from the key's start).
    pub regex_filter: Option<String>,
}

#[async_trait]
pub trait LabelingProjects: Send + Sync {
    /// The projects whose title is exactly `title`.
    async fn projects_titled(&self, title: &str) -> Result<Vec<ProjectInfo>, ApiError>;
    async fn project(&self, id: i64) -> Result<Option<ProjectInfo>, ApiError>;
    async fn create_project(
        &self,
        title: &str,
        label_config: &str,
    ) -> Result<ProjectInfo, ApiError>;
    /// Label Studio refuses a config that drops a tag or label its annotations use; the
    /// error carries its reason.
    async fn set_label_config(&self, id: i64, label_config: &str) -> Result<(), ApiError>;

    async fn import_storages(&self, project: i64) -> Result<Vec<StorageInfo>, ApiError>;
    async fn create_import_storage(&self, s: &NewStorage) -> Result<StorageInfo, ApiError>;
    /// Syncs and returns the storage as it stands after (sync runs inside the request in
    /// the open-source build and answers 200 even when it failed: read `status`).
    async fn sync_import_storage(&self, id: i64) -> Result<StorageInfo, ApiError>;

    async fn export_storages(&self, project: i64) -> Result<Vec<StorageInfo>, ApiError>;
    async fn create_export_storage(&self, s: &NewStorage) -> Result<StorageInfo, ApiError>;

    /// A task of the project, for the loop check; `None` when it has none.
    async fn first_task(&self, project: i64) -> Result<Option<i64>, ApiError>;
    /// Creates an annotation on `task` as the token's user; returns its id.
    async fn create_annotation(&self, task: i64, result: &Value) -> Result<i64, ApiError>;
    async fn delete_annotation(&self, id: i64) -> Result<(), ApiError>;
}

fn project_of(v: &Value) -> ProjectInfo {
    ProjectInfo {
        id: v["id"].as_i64().unwrap_or_default(),
        title: v["title"].as_str().unwrap_or_default().to_string(),
        label_config: v["label_config"].as_str().unwrap_or_default().to_string(),
        task_number: v["task_number"].as_i64().unwrap_or_default(),
    }
}

fn storage_of(v: &Value) -> StorageInfo {
    StorageInfo {
        id: v["id"].as_i64().unwrap_or_default(),
        bucket: v["bucket"].as_str().unwrap_or_default().to_string(),
        prefix: v["prefix"].as_str().unwrap_or_default().to_string(),
        status: v["status"].as_str().unwrap_or_default().to_string(),
        traceback: v["traceback"]
            .as_str()
            .filter(|t| !t.trim().is_empty())
            .map(str::to_string),
        last_sync_count: v["last_sync_count"].as_i64(),
    }
}

/// A list answer, paginated (`{results: [...]}`) or bare.
fn items(v: &Value) -> Vec<Value> {
    v["results"]
        .as_array()
        .or_else(|| v.as_array())
        .cloned()
        .unwrap_or_default()
}

fn storage_body(s: &NewStorage, import: bool) -> Value {
    let mut body = json!({
        "project": s.project,
        "title": s.title,
        "bucket": s.bucket,
        "prefix": s.prefix,
        "region_name": s.region,
    });
    if let Some(e) = &s.endpoint {
        body["s3_endpoint"] = json!(e);
    }
    if let (Some(id), Some(secret)) = (&s.access_key_id, &s.secret_access_key) {
        body["aws_access_key_id"] = json!(id);
        body["aws_secret_access_key"] = json!(secret.expose());
    }
    if import {
        body["regex_filter"] = json!(s.regex_filter.clone().unwrap_or_default());
        // Without blob URLs, sync reads each image as if it were a JSON task and fails.
        body["use_blob_urls"] = json!(true);
        body["presign"] = json!(true);
        body["presign_ttl"] = json!(15);
        body["recursive_scan"] = json!(true);
    } else {
        body["can_delete_objects"] = json!(true);
    }
    body
}

/// An error whose message may quote the request: the secret never goes back out.
fn scrubbed(mut e: ApiError, s: &NewStorage) -> ApiError {
    if let Some(secret) = &s.secret_access_key {
        if !secret.expose().is_empty() {
            e.message = e.message.replace(secret.expose().as_str(), "••••");
        }
    }
    e
}

#[async_trait]
impl LabelingProjects for LabelStudio {
    async fn projects_titled(&self, title: &str) -> Result<Vec<ProjectInfo>, ApiError> {
        let mut out = Vec::new();
        let query = crate::s3::encode_query(title);
        for page in 1..=50 {
            let v = self
                .get(&format!(
                    "/api/projects/?title={query}&page_size=100&page={page}"
                ))
                .await;
            let v = match v {
                Ok(v) => v,
                // Past the last page.
                Err(e) if e.code == ErrorCode::NotFound && page > 1 => break,
                Err(e) => return Err(e),
            };
            out.extend(
                items(&v)
                    .iter()
                    .map(project_of)
                    .filter(|p| p.title == title),
            );
            if v["next"].as_str().is_none() {
                break;
            }
        }
        Ok(out)
    }

    async fn project(&self, id: i64) -> Result<Option<ProjectInfo>, ApiError> {
        match self.get(&format!("/api/projects/{id}/")).await {
            Ok(v) => Ok(Some(project_of(&v))),
            Err(e) if e.code == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn create_project(
        &self,
        title: &str,
        label_config: &str,
    ) -> Result<ProjectInfo, ApiError> {
        let v = self
            .post(
                "/api/projects/",
                &json!({ "title": title, "label_config": label_config }),
            )
            .await?;
        Ok(project_of(&v))
    }

    async fn set_label_config(&self, id: i64, label_config: &str) -> Result<(), ApiError> {
        self.patch(
            &format!("/api/projects/{id}/"),
            &json!({ "label_config": label_config }),
        )
        .await
        .map(|_| ())
    }

    async fn import_storages(&self, project: i64) -> Result<Vec<StorageInfo>, ApiError> {
        let v = self
            .get(&format!("/api/storages/s3?project={project}"))
            .await?;
        Ok(items(&v).iter().map(storage_of).collect())
    }

    async fn create_import_storage(&self, s: &NewStorage) -> Result<StorageInfo, ApiError> {
        self.post("/api/storages/s3", &storage_body(s, true))
            .await
            .map(|v| storage_of(&v))
            .map_err(|e| scrubbed(e, s))
    }

    async fn sync_import_storage(&self, id: i64) -> Result<StorageInfo, ApiError> {
        self.post(&format!("/api/storages/s3/{id}/sync"), &json!({}))
            .await?;
        let v = self.get(&format!("/api/storages/s3/{id}")).await?;
        Ok(storage_of(&v))
    }

    async fn export_storages(&self, project: i64) -> Result<Vec<StorageInfo>, ApiError> {
        let v = self
            .get(&format!("/api/storages/export/s3?project={project}"))
            .await?;
        Ok(items(&v).iter().map(storage_of).collect())
    }

    async fn create_export_storage(&self, s: &NewStorage) -> Result<StorageInfo, ApiError> {
        self.post("/api/storages/export/s3", &storage_body(s, false))
            .await
            .map(|v| storage_of(&v))
            .map_err(|e| scrubbed(e, s))
    }

    async fn first_task(&self, project: i64) -> Result<Option<i64>, ApiError> {
        let v = self
            .get(&format!("/api/tasks/?project={project}&page_size=1"))
            .await?;
        let list = v["tasks"].as_array().cloned().unwrap_or_else(|| items(&v));
        Ok(list.first().and_then(|t| t["id"].as_i64()))
    }

    async fn create_annotation(&self, task: i64, result: &Value) -> Result<i64, ApiError> {
        let v = self
            .post(
                &format!("/api/tasks/{task}/annotations/"),
                &json!({ "result": result, "was_cancelled": false }),
            )
            .await?;
        v["id"].as_i64().ok_or_else(|| {
            ApiError::new(
                ErrorCode::LsUnavailable,
                "Label Studio created no annotation: its answer had no id.",
            )
        })
    }

    async fn delete_annotation(&self, id: i64) -> Result<(), ApiError> {
        match self.delete(&format!("/api/annotations/{id}/")).await {
            Ok(_) => Ok(()),
            Err(e) if e.code == ErrorCode::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_go_in_the_body_only_in_pairs_and_never_back_out_in_an_error() {
        let s = NewStorage {
            project: 3,
            title: "images".into(),
            bucket: "b".into(),
            prefix: "bird-images".into(),
            region: "eu-west-1".into(),
            endpoint: Some("http://127.0.0.1:5000".into()),
            access_key_id: Some("AKIAEXAMPLE".into()),
            secret_access_key: Some(Sensitive::new("s3cr3t-value".into())),
            regex_filter: Some(".*".into()),
        };
        let body = storage_body(&s, true);
        assert_eq!(body["use_blob_urls"], true);
        assert_eq!(body["s3_endpoint"], "http://127.0.0.1:5000");
        assert_eq!(body["aws_secret_access_key"], "s3cr3t-value");
        let e = scrubbed(
            ApiError::new(
                ErrorCode::InvalidArgument,
                "refused {\"aws_secret_access_key\": \"s3cr3t-value\"}",
            ),
            &s,
        );
        assert!(!e.message.contains("s3cr3t-value"));
        let without = NewStorage {
            secret_access_key: None,
            ..s
        };
        assert!(storage_body(&without, false)
            .get("aws_access_key_id")
            .is_none());
    }
}
