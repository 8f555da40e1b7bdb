//! Uploading the images folder: in parallel, resumable and idempotent. An object counts as
//! already there when its size matches and the SHA-256 Loopline stored in its metadata
//! matches the file's (mtimes differ between machines and copies; hashes do not). Files of
//! 8 MiB and more go up in parts, and a multipart upload that does not finish is aborted,
//! including ones a killed run left behind.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use loopline_cloud::s3::{Listed, ObjectStore};
use loopline_core::{ApiError, Clock, ErrorCode, UploadProgress};

use super::images::{digests_of, read_error, Folder, ImageFile};

/// Parts of 8 MiB: S3's minimum is 5 MiB, and the threshold is 8 MiB.
pub(crate) const PART_SIZE: u64 = 8 << 20;
/// Files in flight at once.
const PARALLEL: usize = 8;

pub type ProgressFn = Arc<dyn Fn(&UploadProgress) + Send + Sync>;

/// What an upload did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Uploaded {
    pub uploaded: u64,
    pub present: u64,
    pub skipped: u64,
    pub bytes_sent: u64,
}

pub(crate) struct Upload<'a> {
    pub store: &'a dyn ObjectStore,
    pub bucket: &'a str,
    /// The key prefix, without a trailing `/`.
    pub prefix: &'a str,
    pub clock: &'a dyn Clock,
    pub progress: Option<ProgressFn>,
    pub cancel: Option<Arc<AtomicBool>>,
}

struct Counters {
    done: AtomicU64,
    uploaded: AtomicU64,
    present: AtomicU64,
    bytes_done: AtomicU64,
    bytes_sent: AtomicU64,
    current: Mutex<Option<String>>,
}

pub(crate) fn key_for(prefix: &str, rel: &str) -> String {
    if prefix.is_empty() {
        rel.to_string()
    } else {
        format!("{prefix}/{rel}")
    }
}

/// Which images are not in the bucket as they are here: the plan's count, and the upload's
/// work list. One listing finds what is missing. An object of the same size is there when
/// its listed ETag is the file's MD5 (S3's ETag of a one-piece upload), and otherwise when
/// the SHA-256 Loopline stored in its metadata matches (one HEAD each): a resumed upload
/// asks S3 about nothing it already listed.
pub(crate) async fn missing(
    store: &dyn ObjectStore,
    bucket: &str,
    prefix: &str,
    folder: &Folder,
) -> Result<Vec<(ImageFile, String)>, ApiError> {
    let listed: HashMap<String, Listed> = store
        .list(bucket, &format!("{prefix}/"))
        .await?
        .into_iter()
        .map(|o| (o.key.clone(), o))
        .collect();
    let checks = folder.images.iter().cloned().map(|file| {
        let key = key_for(prefix, &file.rel);
        let same_size = listed.get(&key).filter(|o| o.size == file.size).cloned();
        async move {
            let digests = digests_of(&file.path).await?;
            if let Some(object) = same_size {
                if object.etag == digests.md5 {
                    return Ok(None);
                }
                if let Some(info) = store.head_object(bucket, &key).await? {
                    if info.size == file.size
                        && info.sha256.as_deref() == Some(digests.sha256.as_str())
                    {
                        return Ok(None);
                    }
                }
            }
            Ok(Some((file, digests.sha256)))
        }
    });
    let found: Vec<Result<Option<(ImageFile, String)>, ApiError>> =
        stream::iter(checks).buffered(PARALLEL * 2).collect().await;
    let mut out = Vec::new();
    for f in found {
        if let Some(x) = f? {
            out.push(x);
        }
    }
    Ok(out)
}

impl Upload<'_> {
    fn cancelled(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// Uploads what is missing. On a failure or a cancel, what went up stays up (a rerun
    /// skips it) and the error says how far it got.
    pub async fn run(&self, folder: &Folder) -> Result<Uploaded, ApiError> {
        // Multipart uploads a killed run left open under this prefix: nothing can resume
        // them without their part list, and they cost storage until aborted.
        for (key, id) in self
            .store
            .incomplete_uploads(self.bucket, &format!("{}/", self.prefix))
            .await?
        {
            self.store.abort_multipart(self.bucket, &key, &id).await?;
        }
        let todo = missing(self.store, self.bucket, self.prefix, folder).await?;
        let total_files = folder.images.len() as u64;
        let total_bytes = folder.bytes();
        let present = total_files - todo.len() as u64;
        let present_bytes = total_bytes - todo.iter().map(|(f, _)| f.size).sum::<u64>();
        let c = Counters {
            done: AtomicU64::new(present),
            uploaded: AtomicU64::new(0),
            present: AtomicU64::new(present),
            bytes_done: AtomicU64::new(present_bytes),
            bytes_sent: AtomicU64::new(0),
            current: Mutex::new(None),
        };
        let started = self.clock.now_ms();
        let report = |finished: bool| {
            if let Some(p) = &self.progress {
                p(&self.snapshot(&c, folder, started, finished));
            }
        };
        report(false);
        let results: Vec<Result<(), ApiError>> =
            stream::iter(todo.into_iter().map(|(file, hash)| {
                let c = &c;
                let report = &report;
                async move {
                    if self.cancelled() {
                        return Err(cancelled_error());
                    }
                    if let Ok(mut cur) = c.current.lock() {
                        *cur = Some(file.rel.clone());
                    }
                    self.one(&file, &hash, c, report).await?;
                    c.done.fetch_add(1, Ordering::Relaxed);
                    c.uploaded.fetch_add(1, Ordering::Relaxed);
                    report(false);
                    Ok(())
                }
            }))
            .buffer_unordered(PARALLEL)
            .collect()
            .await;
        report(true);
        let uploaded = Uploaded {
            uploaded: c.uploaded.load(Ordering::Relaxed),
            present,
            skipped: folder.skipped.len() as u64,
            bytes_sent: c.bytes_sent.load(Ordering::Relaxed),
        };
        let failures: Vec<ApiError> = results.into_iter().filter_map(Result::err).collect();
        match failures.first() {
            None => Ok(uploaded),
            Some(first) => {
                let code = if failures.iter().all(|e| e.code == ErrorCode::Cancelled) {
                    ErrorCode::Cancelled
                } else {
                    failures
                        .iter()
                        .find(|e| e.code != ErrorCode::Cancelled)
                        .unwrap_or(first)
                        .code
                };
                let why = failures
                    .iter()
                    .find(|e| e.code != ErrorCode::Cancelled)
                    .map(|e| e.message.clone())
                    .unwrap_or_else(|| "The upload was cancelled.".into());
                Err(ApiError::new(
                    code,
                    format!(
                        "{why} {} of {} images are in the bucket ({} uploaded now); run the setup again to upload the rest.",
                        uploaded.present + uploaded.uploaded,
                        total_files,
                        uploaded.uploaded
                    ),
                ))
            }
        }
    }

    fn snapshot(
        &self,
        c: &Counters,
        folder: &Folder,
        started: i64,
        finished: bool,
    ) -> UploadProgress {
        let elapsed_ms = (self.clock.now_ms() - started).max(1) as u64;
        let sent = c.bytes_sent.load(Ordering::Relaxed);
        let rate = sent * 1000 / elapsed_ms;
        let bytes_total = folder.bytes();
        let bytes_done = c.bytes_done.load(Ordering::Relaxed);
        UploadProgress {
            files_total: folder.images.len() as u64,
            files_done: c.done.load(Ordering::Relaxed),
            files_uploaded: c.uploaded.load(Ordering::Relaxed),
            files_present: c.present.load(Ordering::Relaxed),
            files_skipped: folder.skipped.len() as u64,
            bytes_total,
            bytes_done,
            bytes_per_second: rate,
            seconds_left: (rate > 0 && elapsed_ms >= 500)
                .then(|| bytes_total.saturating_sub(bytes_done).div_ceil(rate)),
            current: if finished {
                None
            } else {
                c.current.lock().ok().and_then(|c| c.clone())
            },
            finished,
        }
    }

    async fn one(
        &self,
        file: &ImageFile,
        hash: &str,
        c: &Counters,
        report: &(dyn Fn(bool) + Sync),
    ) -> Result<(), ApiError> {
        let key = key_for(self.prefix, &file.rel);
        if file.size < PART_SIZE {
            let body = tokio::fs::read(&file.path)
                .await
                .map_err(|e| read_error(&file.path, e))?;
            let n = body.len() as u64;
            self.store
                .put_object(
                    self.bucket,
                    &key,
                    Bytes::from(body),
                    file.content_type,
                    hash,
                )
                .await?;
            c.bytes_sent.fetch_add(n, Ordering::Relaxed);
            c.bytes_done.fetch_add(n, Ordering::Relaxed);
            return Ok(());
        }
        let id = self
            .store
            .create_multipart(self.bucket, &key, file.content_type, hash)
            .await?;
        match self.parts(file, &key, &id, c, report).await {
            Ok(etags) => {
                match self
                    .store
                    .complete_multipart(self.bucket, &key, &id, &etags)
                    .await
                {
                    Ok(()) => Ok(()),
                    Err(e) => {
                        let _ = self.store.abort_multipart(self.bucket, &key, &id).await;
                        Err(e)
                    }
                }
            }
            Err(e) => {
                // Parts already sent cost storage until the upload is aborted.
                let _ = self.store.abort_multipart(self.bucket, &key, &id).await;
                Err(e)
            }
        }
    }

    async fn parts(
        &self,
        file: &ImageFile,
        key: &str,
        id: &str,
        c: &Counters,
        report: &(dyn Fn(bool) + Sync),
    ) -> Result<Vec<String>, ApiError> {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        let mut f = tokio::fs::File::open(&file.path)
            .await
            .map_err(|e| read_error(&file.path, e))?;
        let mut etags = Vec::new();
        let mut offset = 0u64;
        let mut part = 1u32;
        while offset < file.size {
            if self.cancelled() {
                return Err(cancelled_error());
            }
            let len = PART_SIZE.min(file.size - offset);
            let mut buf = vec![0u8; len as usize];
            f.seek(std::io::SeekFrom::Start(offset))
                .await
                .map_err(|e| read_error(&file.path, e))?;
            f.read_exact(&mut buf)
                .await
                .map_err(|e| read_error(&file.path, e))?;
            etags.push(
                self.store
                    .upload_part(self.bucket, key, id, part, Bytes::from(buf))
                    .await?,
            );
            c.bytes_sent.fetch_add(len, Ordering::Relaxed);
            c.bytes_done.fetch_add(len, Ordering::Relaxed);
            report(false);
            offset += len;
            part += 1;
        }
        Ok(etags)
    }
}

fn cancelled_error() -> ApiError {
    ApiError::new(ErrorCode::Cancelled, "The upload was cancelled.")
}
