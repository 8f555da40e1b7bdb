//! The labeling setup's storage steps: which credentials Label Studio gets (a dedicated
//! IAM user by default, whose new key goes to Label Studio once and is never kept), the
//! source storage that turns the images into tasks, and the target storage that writes each
//! annotation to the bucket. Label Studio strips keys from its answers, so a rerun
//! recognises a storage by its bucket and prefix.

use loopline_cloud::iam_users::AccessKey;
use loopline_cloud::label_studio_setup::{LabelingProjects, NewStorage, StorageInfo};
use loopline_core::{
    ApiError, ErrorCode, LabelingRequest, Sensitive, StepStatus, StorageCredentials, StorageLayout,
};

use super::label_configs::storage_user_policy;
use super::policies::{partition, same_document};
use super::StepLog;

pub const USER_POLICY_NAME: &str = "loopline-label-studio-storage";
/// `re.match` from the key's start: `.*` first, or nothing matches.
pub const IMAGE_FILTER: &str = r"(?i).*\.(jpe?g|png|gif|bmp|webp|tiff?)$";

pub(crate) struct StorageRun<'a, 'e> {
    pub log: StepLog<'e>,
    pub ls: &'a dyn LabelingProjects,
    pub layout: &'a StorageLayout,
    /// The project's id; 0 when it is only planned; `None` when it failed.
    pub project: Option<i64>,
}

/// Keys for a storage about to be created.
struct Keys {
    id: Option<String>,
    secret: Option<Sensitive<String>>,
    /// Made this run (for the IAM user `fresh`): IAM may take seconds to accept it
    /// everywhere, and a key no storage took is deleted again.
    fresh: Option<String>,
}

fn same_prefix(a: &str, b: &str) -> bool {
    a.trim_matches('/') == b.trim_matches('/')
}

pub fn user_name_for(bucket: &str) -> String {
    let mut name = format!("loopline-label-studio-{bucket}");
    name.truncate(64);
    name
}

/// The first and last four characters of a key id, for naming it in a plan. By characters, not
/// bytes: the id is what the user typed, and a byte slice through a multi-byte character panics.
fn masked(key_id: &str) -> String {
    let chars: Vec<char> = key_id.chars().collect();
    if chars.len() > 8 {
        let head: String = chars[..4].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}…{tail}")
    } else {
        "…".into()
    }
}

impl StorageRun<'_, '_> {
    /// Runs the three steps; returns the ids of the source and target storages.
    pub async fn run(
        &mut self,
        req: &LabelingRequest,
    ) -> Result<(Option<i64>, Option<i64>), ApiError> {
        let l = self.layout;
        let source_uri = format!("s3://{}/{}/", l.bucket, l.images);
        let target_uri = format!("s3://{}/{}", l.bucket, l.annotations);
        let Some(project) = self.project else {
            self.log
                .waits("ls.credentials", "Storage credentials", "", "the project");
            self.log.waits(
                "ls.source",
                "Source storage (images)",
                source_uri,
                "the project",
            );
            self.log.waits(
                "ls.target",
                "Target storage (annotations)",
                target_uri,
                "the project",
            );
            return Ok((None, None));
        };
        let (existing_source, existing_target) = if project > 0 {
            let s = self.ls.import_storages(project).await?;
            let t = self.ls.export_storages(project).await?;
            (
                s.into_iter()
                    .find(|s| s.bucket == l.bucket && same_prefix(&s.prefix, &l.images)),
                t.into_iter()
                    .find(|s| s.bucket == l.bucket && same_prefix(&s.prefix, &l.annotations)),
            )
        } else {
            (None, None)
        };
        let need_keys = existing_source.is_none() || existing_target.is_none();
        let keys = self.credentials(req, need_keys).await?;
        let missing = (existing_source.is_none(), existing_target.is_none());
        let mut handed = false;
        let made = self
            .storages(
                project,
                keys.as_ref(),
                existing_source,
                existing_target,
                &mut handed,
            )
            .await;
        // Whatever became of the storages: a new key that none of them took is deleted now,
        // or the user runs out of keys (IAM allows two) and the next run cannot go on.
        if let Some(k) = keys.as_ref() {
            self.settle_key(project, k, handed, missing).await?;
        }
        made
    }

    /// The source and target storages; `handed` turns true once one took a new key.
    async fn storages(
        &mut self,
        project: i64,
        keys: Option<&Keys>,
        existing_source: Option<StorageInfo>,
        existing_target: Option<StorageInfo>,
        handed: &mut bool,
    ) -> Result<(Option<i64>, Option<i64>), ApiError> {
        let l = self.layout;
        let source_uri = format!("s3://{}/{}/", l.bucket, l.images);
        let target_uri = format!("s3://{}/{}", l.bucket, l.annotations);

        let endpoint = self
            .log
            .engine
            .s3_endpoint_for_label_studio(&l.region)
            .await;
        let new = |title: &str, prefix: &str, filter: Option<&str>, keys: &Keys| NewStorage {
            project,
            title: title.to_string(),
            bucket: l.bucket.clone(),
            prefix: prefix.to_string(),
            region: l.region.clone(),
            endpoint: endpoint.clone(),
            access_key_id: keys.id.clone(),
            secret_access_key: keys.secret.clone(),
            regex_filter: filter.map(str::to_string),
        };

        // Source: the images, as tasks.
        let (key, title) = ("ls.source", "Source storage (images)");
        let source_id = match (existing_source, keys) {
            (None, _) if self.log.is_cancelled() => {
                // Failed, not skipped: the run did not do what was asked, and says so.
                let e = super::cancel::cancelled("before the source storage was made");
                let st = self.log.failed(key, title, source_uri.as_str(), e);
                self.log.push(st).await?;
                None
            }
            (Some(s), _) => {
                let step = if self.log.plan {
                    self.log.plain(
                        key,
                        title,
                        format!("{source_uri} (storage {})", s.id),
                        StepStatus::Planned,
                        "Sync again: new images become tasks; existing ones are left as they are."
                            .into(),
                    )
                } else {
                    self.synced(key, title, &source_uri, s.id, false).await
                };
                self.log.push(step).await?;
                Some(s.id)
            }
            (None, None) => {
                self.log
                    .waits(key, title, source_uri.as_str(), "the storage credentials");
                None
            }
            (None, Some(k)) if self.log.plan || project == 0 => {
                let _ = k;
                let s = self.log.plain(key, title, source_uri.as_str(), StepStatus::Planned, format!("Add {source_uri} as the project's source storage (files matching {IMAGE_FILTER}, blob URLs, presigned), then sync: one task per image."));
                self.log.push(s).await?;
                None
            }
            (None, Some(k)) => {
                let spec = new(
                    "Images (Loopline)",
                    &format!("{}/", l.images),
                    Some(IMAGE_FILTER),
                    k,
                );
                match self
                    .create_retrying(k, || self.ls.create_import_storage(&spec))
                    .await
                {
                    Ok(s) => {
                        *handed = true;
                        let step = self.synced(key, title, &source_uri, s.id, true).await;
                        self.log.push(step).await?;
                        Some(s.id)
                    }
                    Err(e) => {
                        let s = self.log.failed(key, title, source_uri.as_str(), e);
                        self.log.push(s).await?;
                        None
                    }
                }
            }
        };

        // Target: each annotation, written to the bucket when it is saved.
        let (key, title) = ("ls.target", "Target storage (annotations)");
        let target_id = match (existing_target, keys) {
            (None, _) if self.log.is_cancelled() => {
                // Failed, not skipped: the run did not do what was asked, and says so.
                let e = super::cancel::cancelled("before the target storage was made");
                let st = self.log.failed(key, title, target_uri.as_str(), e);
                self.log.push(st).await?;
                None
            }
            (Some(s), _) => {
                let st = self.log.plain(key, title, format!("{target_uri} (storage {})", s.id), StepStatus::Unchanged, format!("Label Studio writes each annotation to {target_uri}/<annotation id> when it is saved."));
                self.log.push(st).await?;
                Some(s.id)
            }
            (None, None) => {
                self.log
                    .waits(key, title, target_uri.as_str(), "the storage credentials");
                None
            }
            (None, Some(_)) if self.log.plan || project == 0 => {
                let s = self.log.plain(key, title, target_uri.as_str(), StepStatus::Planned, format!("Add {target_uri} as the target storage (no trailing slash, so keys are {}/<annotation id>). Creating it exports the existing annotations at once.", l.annotations));
                self.log.push(s).await?;
                None
            }
            (None, Some(k)) => {
                // No trailing slash: Label Studio joins with '/', and `prefix/` gives `prefix//42`.
                let spec = new("Annotations (Loopline)", &l.annotations, None, k);
                let st = match self.create_retrying(k, || self.ls.create_export_storage(&spec)).await {
                    Ok(s) => (*handed = true, self.log.plain(key, title, format!("{target_uri} (storage {})", s.id), StepStatus::Created, format!("Created; existing annotations were exported, and each new one is written to {target_uri}/<annotation id> when saved.")), Some(s.id)),
                    Err(e) => ((), self.log.failed(key, title, target_uri.as_str(), e), None),
                };
                self.log.push(st.1).await?;
                st.2
            }
        };
        Ok((source_id, target_id))
    }

    /// Syncs an import storage and reads its status: sync answers 200 even when it failed.
    async fn synced(
        &self,
        key: &str,
        title: &str,
        uri: &str,
        id: i64,
        created: bool,
    ) -> loopline_core::SetupStep {
        let resource = format!("{uri} (storage {id})");
        let sync = async {
            match &self.log.cancel {
                Some(c) => tokio::select! {
                    biased;
                    _ = c.cancelled() => Err(super::cancel::cancelled("during the sync (Label Studio may still finish it; the next run syncs again)")),
                    r = self.ls.sync_import_storage(id) => r,
                },
                None => self.ls.sync_import_storage(id).await,
            }
        };
        match sync.await {
            Ok(s) if s.status == "failed" || s.status == "completed_with_errors" => {
                let why = s
                    .traceback
                    .as_deref()
                    .and_then(|t| t.lines().rev().find(|l| !l.trim().is_empty()))
                    .unwrap_or("no reason given")
                    .trim()
                    .to_string();
                let e = ApiError::new(ErrorCode::LsStorageFailed, format!("Label Studio's sync of {uri} ended '{}': {why}. Check that its keys may list and read the images, then run the setup again.", s.status));
                self.log.failed(key, title, resource, e)
            }
            Ok(s) => {
                let added = s.last_sync_count.unwrap_or(0);
                let tasks = self.project_tasks().await;
                let status = if created {
                    StepStatus::Created
                } else if added > 0 {
                    StepStatus::Updated
                } else {
                    StepStatus::Unchanged
                };
                self.log.plain(
                    key,
                    title,
                    resource,
                    status,
                    format!(
                        "Synced {} → {} (the project has {}).",
                        plural(added, "new image"),
                        plural(added, "new task"),
                        plural(tasks, "task")
                    ),
                )
            }
            Err(e) => self.log.failed(key, title, resource, e),
        }
    }

    async fn project_tasks(&self) -> i64 {
        match self.project {
            Some(id) if id > 0 => self
                .ls
                .project(id)
                .await
                .ok()
                .flatten()
                .map(|p| p.task_number)
                .unwrap_or(0),
            _ => 0,
        }
    }

    /// Creating a storage validates its keys at once; a key IAM made seconds ago may not
    /// be accepted yet.
    async fn create_retrying<F, Fut>(
        &self,
        keys: &Keys,
        mut create: F,
    ) -> Result<StorageInfo, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<StorageInfo, ApiError>>,
    {
        let mut delays = self.log.engine.setup_retry_delays.iter();
        loop {
            match create().await {
                Err(e)
                    if keys.fresh.is_some()
                        && (e.code == ErrorCode::LsStorageFailed
                            || e.message.contains("InvalidAccessKeyId")) =>
                {
                    match delays.next() {
                        Some(d) => {
                            self.log
                                .pause(*d, "while Label Studio waited for the new key to work")
                                .await?
                        }
                        None => return Err(e),
                    }
                }
                other => return other,
            }
        }
    }

    /// Says what became of a key made this run, in the credentials step: handed to a
    /// storage, or deleted because none took it. A storage Label Studio made in spite of an
    /// error answer may hold it, so one that appeared since counts as handed.
    async fn settle_key(
        &mut self,
        project: i64,
        keys: &Keys,
        handed: bool,
        missing: (bool, bool),
    ) -> Result<(), ApiError> {
        let (Some(user), Some(id)) = (keys.fresh.as_deref(), keys.id.as_deref()) else {
            return Ok(());
        };
        let key = "ls.credentials";
        let handed = handed || self.appeared(project, missing).await;
        if handed {
            return self
                .log
                .amend(key, |s| {
                    s.summary.push_str(
                        " A new access key went to Label Studio; Loopline did not keep it.",
                    )
                })
                .await;
        }
        let users = self.log.engine.storage_users(&self.layout.region).await;
        let deleted = match users {
            Ok(u) => u.delete_access_key(user, id).await,
            Err(e) => Err(e),
        };
        let shown = masked(id);
        match deleted {
            Ok(()) => {
                self.log
                    .amend(key, |s| {
                        s.summary.push_str(&format!(" No storage took the new access key {shown}, so Loopline deleted it again: IAM allows a user two."));
                    })
                    .await
            }
            Err(e) => {
                let e = ApiError::new(
                    ErrorCode::AwsError,
                    format!("No storage took the new access key {shown} of the IAM user '{user}', and deleting it failed: {} Delete it by hand, or the user runs out of keys (IAM allows two): `aws iam delete-access-key --user-name {user} --access-key-id ID` with the id `aws iam list-access-keys --user-name {user}` shows for {shown}.", e.message),
                );
                self.log
                    .amend(key, |s| {
                        s.status = StepStatus::Failed;
                        s.summary = e.message.clone();
                        s.error = Some(e);
                    })
                    .await
            }
        }
    }

    /// Whether a storage that was missing before this run exists now.
    async fn appeared(&self, project: i64, (source, target): (bool, bool)) -> bool {
        let l = self.layout;
        let found = |all: Result<Vec<StorageInfo>, ApiError>, prefix: &str| match all {
            Ok(all) => all
                .iter()
                .any(|s| s.bucket == l.bucket && same_prefix(&s.prefix, prefix)),
            // Cannot tell: keep the key rather than break a storage that may hold it.
            Err(_) => true,
        };
        (source && found(self.ls.import_storages(project).await, &l.images))
            || (target && found(self.ls.export_storages(project).await, &l.annotations))
    }

    /// The credentials step. `None` when no storage can be created (failed, or waiting).
    async fn credentials(
        &mut self,
        req: &LabelingRequest,
        need_keys: bool,
    ) -> Result<Option<Keys>, ApiError> {
        let (key, title) = ("ls.credentials", "Storage credentials");
        let l = self.layout;
        match req.storage_credentials {
            StorageCredentials::None => {
                let s = self.log.plain(
                    key,
                    title,
                    "",
                    StepStatus::Skipped,
                    "None given: Label Studio reaches the bucket with its own AWS role.".into(),
                );
                self.log.push(s).await?;
                Ok(Some(Keys {
                    id: None,
                    secret: None,
                    fresh: None,
                }))
            }
            StorageCredentials::Keys => {
                let id = req
                    .access_key_id
                    .as_deref()
                    .map(str::trim)
                    .filter(|k| !k.is_empty());
                let name = req
                    .secret_key_secret
                    .as_deref()
                    .map(str::trim)
                    .filter(|k| !k.is_empty());
                let found = match (id, name) {
                    (Some(id), Some(name)) => match self.log.engine.secret(name).await {
                        Ok(Some(secret)) => Ok((id.to_string(), secret)),
                        Ok(None) => Err(ApiError::new(ErrorCode::SecretUnavailable, format!("There is no secret '{name}' in the keychain. Store the secret access key first: `loopline secret set {name}` (read from stdin)."))),
                        Err(e) => Err(e),
                    },
                    _ => Err(ApiError::new(ErrorCode::InvalidArgument, "With --storage-credentials keys, give --access-key-id and --secret-key-secret NAME (the keychain secret holding the secret access key).")),
                };
                match found {
                    Ok((id, secret)) => {
                        let s = self.log.plain(key, title, format!("access key {}", masked(&id)), StepStatus::Unchanged, "Label Studio gets the keys you gave. Loopline sends them to Label Studio only and shows only their ends.".into());
                        self.log.push(s).await?;
                        Ok(Some(Keys {
                            id: Some(id),
                            secret: Some(secret),
                            fresh: None,
                        }))
                    }
                    Err(e) => {
                        let s = self.log.failed(key, title, "", e);
                        self.log.push(s).await?;
                        Ok(None)
                    }
                }
            }
            StorageCredentials::ScopedUser => match self.scoped_user(need_keys).await {
                Ok(keys) => Ok(Some(keys)),
                Err(e) => {
                    let s = self.log.failed(
                        key,
                        title,
                        format!("IAM user {}", user_name_for(&l.bucket)),
                        e,
                    );
                    self.log.push(s).await?;
                    Ok(None)
                }
            },
        }
    }

    async fn scoped_user(&mut self, need_keys: bool) -> Result<Keys, ApiError> {
        let (key, title) = ("ls.credentials", "Storage credentials");
        let l = self.layout;
        let engine = self.log.engine;
        let users = engine.storage_users(&l.region).await?;
        let name = user_name_for(&l.bucket);
        let policy =
            storage_user_policy(partition(&l.region), &l.bucket, &l.images, &l.annotations);
        let existing = users.user(&name).await?;
        let scope = format!(
            "read s3://{}/{}/, write s3://{}/{}/ and nothing else",
            l.bucket, l.images, l.bucket, l.annotations
        );
        if self.log.plan {
            let what = match &existing {
                Some(_) if need_keys => "Give Label Studio a new access key of the IAM user",
                Some(_) => "Keep the IAM user",
                None => "Create an IAM user",
            };
            let s = self.log.step(key, title, existing.clone().unwrap_or_else(|| format!("IAM user {name}")), StepStatus::Planned, format!("{what} '{name}' that may {scope}. Its key goes to Label Studio once; Loopline never keeps it."), Some(pretty(&policy)), None);
            self.log.push(s).await?;
            return Ok(Keys {
                id: None,
                secret: None,
                fresh: None,
            });
        }
        let (arn, created) = match existing {
            Some(arn) => (arn, false),
            None => (users.create_user(&name).await?, true),
        };
        let current = users.user_policy(&name, USER_POLICY_NAME).await?;
        let policy_changed = !current
            .as_deref()
            .is_some_and(|d| same_document(d, &policy));
        if policy_changed {
            users
                .put_user_policy(&name, USER_POLICY_NAME, &policy)
                .await?;
            let back = users.user_policy(&name, USER_POLICY_NAME).await?;
            if !back.as_deref().is_some_and(|d| same_document(d, &policy)) {
                return Err(ApiError::new(ErrorCode::AwsError, format!("IAM accepted the policy of '{name}' but reads back another document. Run the setup again.")));
            }
        }
        let mut keys = Keys {
            id: None,
            secret: None,
            fresh: None,
        };
        if need_keys {
            // A user holds at most two keys; one may serve a storage made earlier.
            let held = users.access_keys(&name).await?;
            if held.len() >= 2 {
                return Err(two_keys(&name, &held));
            }
            let (id, secret) = users.create_access_key(&name).await?;
            keys = Keys {
                id: Some(id),
                secret: Some(secret),
                fresh: Some(name.clone()),
            };
        }
        let status = if created {
            StepStatus::Created
        } else if policy_changed {
            StepStatus::Updated
        } else {
            StepStatus::Unchanged
        };
        // What became of a new key is added once the storages are made (`settle_key`).
        let s = self.log.step(
            key,
            title,
            arn,
            status,
            format!("The IAM user '{name}' may {scope}."),
            Some(pretty(&policy)),
            None,
        );
        self.log.push(s).await?;
        Ok(keys)
    }
}

/// The user is out of keys. Label Studio strips keys from what it shows, so Loopline cannot
/// tell which one a storage holds; when each was made and last used tells the user.
fn two_keys(user: &str, held: &[AccessKey]) -> ApiError {
    let each: Vec<String> = held
        .iter()
        .map(|k| {
            let made = k
                .created
                .as_deref()
                .map(|d| format!("made {d}, "))
                .unwrap_or_default();
            let used = match &k.last_used {
                Some(d) => format!("last used {d}"),
                None => "never used".to_string(),
            };
            format!("{} ({made}{used})", masked(&k.id))
        })
        .collect();
    ApiError::new(
        ErrorCode::InvalidArgument,
        format!(
            "The IAM user '{user}' already has two access keys, the most IAM allows: {}. One is probably left from a setup that failed before Label Studio took it. Label Studio reads the bucket with a storage's key when the storage is made, so a key never used serves no storage (IAM reports use a few hours late; a key made within the last hours may be in use). Delete the one no storage uses: `aws iam list-access-keys --user-name {user}` shows the full ids, then `aws iam delete-access-key --user-name {user} --access-key-id ID` (or IAM console › Users › {user} › Security credentials). Then run the setup again.",
            each.join(" and ")
        ),
    )
}

fn plural(n: i64, what: &str) -> String {
    format!(
        "{} {what}{}",
        super::storage::thousands(n.max(0) as u64),
        if n == 1 { "" } else { "s" }
    )
}

fn pretty(doc: &str) -> String {
    serde_json::from_str::<serde_json::Value>(doc)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::masked;

    #[test]
    fn a_key_id_is_masked_by_characters_not_bytes() {
        assert_eq!(masked("AKIAIOSFODNN7EXAMPLE"), "AKIA…MPLE");
        // What a user pasted with a typo: multi-byte characters at the cut points.
        assert_eq!(masked("ÄKIAéIOSFODNN7EXAMPLé"), "ÄKIA…MPLé");
        assert_eq!(masked("ключ-доступа"), "ключ…тупа");
        assert_eq!(masked("short"), "…");
    }
}
