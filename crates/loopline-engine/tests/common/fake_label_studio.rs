//! Label Studio's projects and S3 storages in memory, for the labeling setup's fast tests,
//! and IAM's users with their policies and keys. Like Label Studio, storages keep no keys in
//! what they show; the fake remembers the last keys it was given to check where they went.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use loopline_cloud::iam_users::{AccessKey, StorageUsers};
use loopline_cloud::label_studio_setup::{LabelingProjects, NewStorage, ProjectInfo, StorageInfo};
use loopline_core::{ApiError, ErrorCode, Sensitive};

#[derive(Default)]
pub struct FakeLabelStudio {
    pub projects: Mutex<Vec<ProjectInfo>>,
    pub imports: Mutex<Vec<(i64, StorageInfo)>>,
    pub exports: Mutex<Vec<(i64, StorageInfo)>>,
    /// The keys each created storage was given: (access key id, secret).
    pub keys_given: Mutex<Vec<(Option<String>, Option<String>)>>,
    /// Images in the bucket; a sync turns the new ones into tasks.
    pub images: AtomicI64,
    pub synced: AtomicI64,
    pub writes: AtomicUsize,
    pub next_id: AtomicI64,
    /// The status the next syncs end with, with a traceback.
    pub sync_failures: Mutex<VecDeque<(String, String)>>,
    /// Label Studio's reason for refusing a config change.
    pub refuse_config: Mutex<Option<String>>,
    /// (annotation id, task id)
    pub annotations: Mutex<Vec<(i64, i64)>>,
    /// While set, every storage creation is refused with it (a bucket Label Studio cannot
    /// read), and no storage is made.
    pub refuse_storages: Mutex<Option<ApiError>>,
    /// How many storage creations were refused.
    pub refusals: AtomicUsize,
}

impl FakeLabelStudio {
    fn id(&self) -> i64 {
        self.next_id.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn storage(&self, s: &NewStorage) -> StorageInfo {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.keys_given.lock().unwrap().push((
            s.access_key_id.clone(),
            s.secret_access_key.as_ref().map(|k| k.expose().clone()),
        ));
        StorageInfo {
            id: self.id(),
            bucket: s.bucket.clone(),
            prefix: s.prefix.clone(),
            status: "initialized".into(),
            ..Default::default()
        }
    }
}

#[async_trait]
impl LabelingProjects for FakeLabelStudio {
    async fn projects_titled(&self, title: &str) -> Result<Vec<ProjectInfo>, ApiError> {
        Ok(self
            .projects
            .lock()
            .unwrap()
            .iter()
            .filter(|p| p.title == title)
            .cloned()
            .collect())
    }

    async fn project(&self, id: i64) -> Result<Option<ProjectInfo>, ApiError> {
        Ok(self
            .projects
            .lock()
            .unwrap()
            .iter()
            .find(|p| p.id == id)
            .cloned())
    }

    async fn create_project(
        &self,
        title: &str,
        label_config: &str,
    ) -> Result<ProjectInfo, ApiError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        let p = ProjectInfo {
            id: self.id(),
            title: title.into(),
            label_config: label_config.into(),
            task_number: 0,
        };
        self.projects.lock().unwrap().push(p.clone());
        Ok(p)
    }

    async fn set_label_config(&self, id: i64, label_config: &str) -> Result<(), ApiError> {
        if let Some(reason) = self.refuse_config.lock().unwrap().clone() {
            return Err(ApiError::new(ErrorCode::InvalidArgument, reason));
        }
        self.writes.fetch_add(1, Ordering::SeqCst);
        let mut all = self.projects.lock().unwrap();
        let p = all.iter_mut().find(|p| p.id == id).unwrap();
        p.label_config = label_config.into();
        Ok(())
    }

    async fn import_storages(&self, project: i64) -> Result<Vec<StorageInfo>, ApiError> {
        Ok(self
            .imports
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| *p == project)
            .map(|(_, s)| s.clone())
            .collect())
    }

    async fn create_import_storage(&self, s: &NewStorage) -> Result<StorageInfo, ApiError> {
        if let Some(e) = self.refuse_storages.lock().unwrap().clone() {
            self.refusals.fetch_add(1, Ordering::SeqCst);
            return Err(e);
        }
        assert!(
            s.regex_filter.as_deref().unwrap_or("").contains(".*"),
            "regex_filter matches from the key's start"
        );
        let info = self.storage(s);
        self.imports.lock().unwrap().push((s.project, info.clone()));
        Ok(info)
    }

    async fn sync_import_storage(&self, id: i64) -> Result<StorageInfo, ApiError> {
        let mut all = self.imports.lock().unwrap();
        let (project, s) = all.iter_mut().find(|(_, s)| s.id == id).unwrap();
        if let Some((status, traceback)) = self.sync_failures.lock().unwrap().pop_front() {
            s.status = status;
            s.traceback = Some(traceback);
            s.last_sync_count = Some(0);
            return Ok(s.clone());
        }
        let images = self.images.load(Ordering::SeqCst);
        let added = images - self.synced.swap(images, Ordering::SeqCst);
        s.status = "completed".into();
        s.traceback = None;
        s.last_sync_count = Some(added);
        let project = *project;
        let out = s.clone();
        drop(all);
        if let Some(p) = self
            .projects
            .lock()
            .unwrap()
            .iter_mut()
            .find(|p| p.id == project)
        {
            p.task_number = images;
        }
        Ok(out)
    }

    async fn export_storages(&self, project: i64) -> Result<Vec<StorageInfo>, ApiError> {
        Ok(self
            .exports
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| *p == project)
            .map(|(_, s)| s.clone())
            .collect())
    }

    async fn first_task(&self, project: i64) -> Result<Option<i64>, ApiError> {
        let has = self
            .project(project)
            .await?
            .is_some_and(|p| p.task_number > 0);
        Ok(has.then_some(project * 1000 + 1))
    }

    async fn create_annotation(
        &self,
        task: i64,
        _result: &serde_json::Value,
    ) -> Result<i64, ApiError> {
        let id = self.id();
        self.annotations.lock().unwrap().push((id, task));
        Ok(id)
    }

    async fn delete_annotation(&self, id: i64) -> Result<(), ApiError> {
        self.annotations.lock().unwrap().retain(|(a, _)| *a != id);
        Ok(())
    }

    async fn create_export_storage(&self, s: &NewStorage) -> Result<StorageInfo, ApiError> {
        if let Some(e) = self.refuse_storages.lock().unwrap().clone() {
            self.refusals.fetch_add(1, Ordering::SeqCst);
            return Err(e);
        }
        assert!(
            !s.prefix.ends_with('/'),
            "an export prefix with a trailing slash makes prefix//id keys"
        );
        let info = self.storage(s);
        self.exports.lock().unwrap().push((s.project, info.clone()));
        Ok(info)
    }
}

/// A user's inline policies by name, and its access key ids.
pub type FakeUser = (HashMap<String, String>, Vec<String>);

#[derive(Default)]
pub struct FakeUsers {
    pub users: Mutex<HashMap<String, FakeUser>>,
    pub keys_made: AtomicUsize,
    /// The most keys any user held at once.
    pub most_keys: AtomicUsize,
    /// While set, deleting a key fails with it.
    pub refuse_delete: Mutex<Option<ApiError>>,
}

impl FakeUsers {
    pub fn keys_of(&self, user: &str) -> Vec<String> {
        self.users
            .lock()
            .unwrap()
            .get(user)
            .map(|u| u.1.clone())
            .unwrap_or_default()
    }
}

#[async_trait]
impl StorageUsers for FakeUsers {
    async fn user(&self, name: &str) -> Result<Option<String>, ApiError> {
        Ok(self
            .users
            .lock()
            .unwrap()
            .contains_key(name)
            .then(|| format!("arn:aws:iam::123456789012:user/{name}")))
    }

    async fn create_user(&self, name: &str) -> Result<String, ApiError> {
        self.users
            .lock()
            .unwrap()
            .insert(name.into(), Default::default());
        Ok(format!("arn:aws:iam::123456789012:user/{name}"))
    }

    async fn user_policy(&self, user: &str, name: &str) -> Result<Option<String>, ApiError> {
        Ok(self
            .users
            .lock()
            .unwrap()
            .get(user)
            .and_then(|u| u.0.get(name).cloned()))
    }

    async fn put_user_policy(
        &self,
        user: &str,
        name: &str,
        document: &str,
    ) -> Result<(), ApiError> {
        self.users
            .lock()
            .unwrap()
            .get_mut(user)
            .unwrap()
            .0
            .insert(name.into(), document.into());
        Ok(())
    }

    async fn access_keys(&self, user: &str) -> Result<Vec<AccessKey>, ApiError> {
        Ok(self
            .keys_of(user)
            .into_iter()
            .map(|id| AccessKey {
                id,
                created: Some("2026-12-01T10:00:00Z".into()),
                last_used: None,
            })
            .collect())
    }

    async fn create_access_key(&self, user: &str) -> Result<(String, Sensitive<String>), ApiError> {
        let mut all = self.users.lock().unwrap();
        let keys = &mut all.get_mut(user).unwrap().1;
        // IAM's limit.
        if keys.len() >= 2 {
            return Err(ApiError::new(
                ErrorCode::AwsError,
                "Cannot exceed quota for AccessKeysPerUser: 2",
            ));
        }
        let n = self.keys_made.fetch_add(1, Ordering::SeqCst);
        let id = format!("AKIAFAKE{n:08}");
        keys.push(id.clone());
        self.most_keys.fetch_max(keys.len(), Ordering::SeqCst);
        Ok((id, Sensitive::new(format!("fake-secret-{n}-do-not-keep"))))
    }

    async fn delete_access_key(&self, user: &str, key_id: &str) -> Result<(), ApiError> {
        if let Some(e) = self.refuse_delete.lock().unwrap().clone() {
            return Err(e);
        }
        self.users
            .lock()
            .unwrap()
            .get_mut(user)
            .unwrap()
            .1
            .retain(|k| k != key_id);
        Ok(())
    }
}
