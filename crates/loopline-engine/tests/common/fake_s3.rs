//! An in-memory S3 for the storage setup's fast tests: buckets with regions, objects with
//! their content type and stored hash, multipart uploads, and switches for failures.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use md5::Digest;

use async_trait::async_trait;
use bytes::Bytes;
use loopline_cloud::s3::{BucketState, Created, Listed, ObjectInfo, ObjectStore};
use loopline_core::{ApiError, ErrorCode};

#[derive(Default)]
pub struct Bucket {
    pub region: String,
    pub blocked: bool,
    pub objects: BTreeMap<String, (Bytes, String, String)>,
}

/// An upload under way: its key, content type and hash (one per line), and its parts.
pub type OpenUpload = (String, BTreeMap<u32, Bytes>);

#[derive(Default)]
pub struct FakeS3 {
    pub region: String,
    pub buckets: Mutex<HashMap<String, Bucket>>,
    /// Names that belong to another account.
    pub foreign: Mutex<HashSet<String>>,
    pub uploads: Mutex<HashMap<String, OpenUpload>>,
    pub puts: AtomicUsize,
    pub parts: AtomicUsize,
    pub aborts: AtomicUsize,
    pub creates: AtomicUsize,
    pub heads: AtomicUsize,
    pub lists: AtomicUsize,
    pub gets: AtomicUsize,
    /// Part uploads fail once this many have succeeded (usize::MAX: never).
    pub fail_parts_after: AtomicUsize,
}

impl FakeS3 {
    pub fn new(region: &str) -> FakeS3 {
        FakeS3 {
            region: region.into(),
            fail_parts_after: AtomicUsize::new(usize::MAX),
            ..Default::default()
        }
    }

    pub fn object(&self, bucket: &str, key: &str) -> Option<(Bytes, String, String)> {
        self.buckets
            .lock()
            .unwrap()
            .get(bucket)?
            .objects
            .get(key)
            .cloned()
    }

    pub fn keys(&self, bucket: &str) -> Vec<String> {
        self.buckets
            .lock()
            .unwrap()
            .get(bucket)
            .map(|b| b.objects.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn with_bucket<T>(
        &self,
        bucket: &str,
        f: impl FnOnce(&mut Bucket) -> T,
    ) -> Result<T, ApiError> {
        let mut all = self.buckets.lock().unwrap();
        let b = all
            .get_mut(bucket)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no bucket {bucket}")))?;
        Ok(f(b))
    }
}

#[async_trait]
impl ObjectStore for FakeS3 {
    fn region(&self) -> &str {
        &self.region
    }

    async fn bucket_state(&self, bucket: &str) -> Result<BucketState, ApiError> {
        if self.foreign.lock().unwrap().contains(bucket) {
            return Ok(BucketState::Forbidden);
        }
        Ok(match self.buckets.lock().unwrap().get(bucket) {
            Some(b) => BucketState::Reachable {
                region: b.region.clone(),
            },
            None => BucketState::Missing,
        })
    }

    async fn create_bucket(&self, bucket: &str) -> Result<Created, ApiError> {
        self.creates.fetch_add(1, Ordering::SeqCst);
        let mut all = self.buckets.lock().unwrap();
        if all.contains_key(bucket) {
            return Ok(Created::AlreadyYours);
        }
        all.insert(
            bucket.into(),
            Bucket {
                region: self.region.clone(),
                ..Default::default()
            },
        );
        Ok(Created::New)
    }

    async fn block_public_access(&self, bucket: &str) -> Result<(), ApiError> {
        self.with_bucket(bucket, |b| b.blocked = true)
    }

    async fn public_access_blocked(&self, bucket: &str) -> Result<bool, ApiError> {
        self.with_bucket(bucket, |b| b.blocked)
    }

    async fn head_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectInfo>, ApiError> {
        self.heads.fetch_add(1, Ordering::SeqCst);
        self.with_bucket(bucket, |b| {
            b.objects.get(key).map(|(body, ct, sha)| ObjectInfo {
                size: body.len() as u64,
                sha256: Some(sha.clone()),
                content_type: Some(ct.clone()),
            })
        })
    }

    async fn get_object(&self, bucket: &str, key: &str) -> Result<Option<Bytes>, ApiError> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.with_bucket(bucket, |b| {
            b.objects.get(key).map(|(body, _, _)| body.clone())
        })
    }

    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        content_type: &str,
        sha256_hex: &str,
    ) -> Result<(), ApiError> {
        self.puts.fetch_add(1, Ordering::SeqCst);
        self.with_bucket(bucket, |b| {
            b.objects
                .insert(key.into(), (body, content_type.into(), sha256_hex.into()));
        })
    }

    async fn create_multipart(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
        sha256_hex: &str,
    ) -> Result<String, ApiError> {
        self.with_bucket(bucket, |_| ())?;
        let id = format!("up-{}-{key}", self.uploads.lock().unwrap().len());
        self.uploads.lock().unwrap().insert(
            id.clone(),
            (
                format!("{key}\n{content_type}\n{sha256_hex}"),
                BTreeMap::new(),
            ),
        );
        Ok(id)
    }

    async fn upload_part(
        &self,
        _bucket: &str,
        _key: &str,
        upload_id: &str,
        part: u32,
        body: Bytes,
    ) -> Result<String, ApiError> {
        if self.parts.load(Ordering::SeqCst) >= self.fail_parts_after.load(Ordering::SeqCst) {
            return Err(ApiError::new(
                ErrorCode::AwsUnavailable,
                "the fake S3 dropped the connection",
            ));
        }
        self.parts.fetch_add(1, Ordering::SeqCst);
        let mut ups = self.uploads.lock().unwrap();
        let up = ups
            .get_mut(upload_id)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such upload"))?;
        up.1.insert(part, body);
        Ok(format!("\"etag-{part}\""))
    }

    async fn complete_multipart(
        &self,
        bucket: &str,
        _key: &str,
        upload_id: &str,
        etags: &[String],
    ) -> Result<(), ApiError> {
        let (meta, parts) = self
            .uploads
            .lock()
            .unwrap()
            .remove(upload_id)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such upload"))?;
        assert_eq!(
            etags.len(),
            parts.len(),
            "every part is named on completion"
        );
        let mut lines = meta.lines();
        let (key, ct, sha) = (
            lines.next().unwrap().to_string(),
            lines.next().unwrap().to_string(),
            lines.next().unwrap().to_string(),
        );
        let body: Vec<u8> = parts.into_values().flat_map(|b| b.to_vec()).collect();
        self.with_bucket(bucket, |b| {
            b.objects.insert(key, (Bytes::from(body), ct, sha));
        })
    }

    async fn abort_multipart(
        &self,
        _bucket: &str,
        _key: &str,
        upload_id: &str,
    ) -> Result<(), ApiError> {
        self.aborts.fetch_add(1, Ordering::SeqCst);
        self.uploads.lock().unwrap().remove(upload_id);
        Ok(())
    }

    async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), ApiError> {
        self.with_bucket(bucket, |b| {
            b.objects.remove(key);
        })
    }

    async fn incomplete_uploads(
        &self,
        _bucket: &str,
        prefix: &str,
    ) -> Result<Vec<(String, String)>, ApiError> {
        Ok(self
            .uploads
            .lock()
            .unwrap()
            .iter()
            .map(|(id, (meta, _))| (meta.lines().next().unwrap().to_string(), id.clone()))
            .filter(|(k, _)| k.starts_with(prefix))
            .collect())
    }

    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<Listed>, ApiError> {
        self.lists.fetch_add(1, Ordering::SeqCst);
        self.with_bucket(bucket, |b| {
            b.objects
                .iter()
                .filter(|(k, _)| k.starts_with(prefix))
                .map(|(k, (body, _, _))| Listed {
                    key: k.clone(),
                    size: body.len() as u64,
                    // As S3 does for a single PUT; the fake does not tell multipart apart.
                    etag: format!("{:x}", md5::Md5::digest(body)),
                })
                .collect()
        })
    }
}
