//! The S3 operations the storage setup needs, on S3's REST API with path-style addresses
//! (they work on AWS and on every S3-compatible endpoint, moto included), signed with the
//! SDK's signer. Each failure is a coded error that says what to fix.

use async_trait::async_trait;
use base64::Engine as _;
use bytes::Bytes;
use loopline_core::{ApiError, ErrorCode};
use sha2::{Digest, Sha256};

use crate::aws::{shared_http, xml_escape, xml_tag, xml_tags, Answer, Aws, Signed};
pub use crate::s3_names::{check_bucket_name, suggest_bucket_name};

/// The S3 calls the storage setup makes, behind a trait so the setup's logic (what to
/// create, what to upload, resuming) is tested fast against an in-memory fake, and for real
/// against moto.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// The region this client signs for and creates buckets in.
    fn region(&self) -> &str;
    async fn bucket_state(&self, bucket: &str) -> Result<BucketState, ApiError>;
    async fn create_bucket(&self, bucket: &str) -> Result<Created, ApiError>;
    async fn block_public_access(&self, bucket: &str) -> Result<(), ApiError>;
    async fn public_access_blocked(&self, bucket: &str) -> Result<bool, ApiError>;
    async fn head_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectInfo>, ApiError>;
    /// GetObject: its content, or `None` when there is no such object.
    async fn get_object(&self, bucket: &str, key: &str) -> Result<Option<Bytes>, ApiError>;
    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        content_type: &str,
        sha256_hex: &str,
    ) -> Result<(), ApiError>;
    async fn create_multipart(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
        sha256_hex: &str,
    ) -> Result<String, ApiError>;
    async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part: u32,
        body: Bytes,
    ) -> Result<String, ApiError>;
    async fn complete_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        etags: &[String],
    ) -> Result<(), ApiError>;
    async fn abort_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(), ApiError>;
    async fn incomplete_uploads(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<(String, String)>, ApiError>;
    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<Listed>, ApiError>;
    /// Deletes one object; an object already gone is not an error.
    async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), ApiError>;
}

/// An object as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: String,
    pub size: u64,
    /// Without its quotes. For an object uploaded in one piece (and not encrypted with
    /// KMS) it is the MD5 of its content; a multipart object's has a `-N` suffix.
    pub etag: String,
}

/// The metadata key that holds an object's SHA-256 (hex), so a rerun can tell an unchanged
/// file from a changed one of the same size without downloading it.
pub const SHA256_META: &str = "x-amz-meta-loopline-sha256";

pub struct S3 {
    aws: Aws,
    http: reqwest::Client,
    endpoint: String,
}

/// What HeadBucket says about a bucket name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketState {
    /// It exists and these credentials reach it; in this region.
    Reachable { region: String },
    /// Nobody has it.
    Missing,
    /// Someone has it and these credentials cannot reach it (often: another account).
    Forbidden,
}

/// What CreateBucket did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    New,
    AlreadyYours,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    pub sha256: Option<String>,
    pub content_type: Option<String>,
}

impl S3 {
    pub fn new(aws: Aws) -> Result<S3, ApiError> {
        let endpoint = aws.endpoint_for("S3", format!("https://s3.{}.amazonaws.com", aws.region()));
        Ok(S3 {
            aws,
            http: shared_http()?,
            endpoint,
        })
    }

    /// A presigned GET of an object, good for `expires`.
    pub async fn presigned_get(
        &self,
        bucket: &str,
        key: &str,
        expires: std::time::Duration,
    ) -> Result<String, ApiError> {
        self.aws
            .presign_s3_get(&self.url(bucket, Some(key), ""), expires)
            .await
    }

    fn url(&self, bucket: &str, key: Option<&str>, query: &str) -> String {
        let mut url = format!("{}/{}", self.endpoint, encode_path(bucket));
        if let Some(k) = key {
            url.push('/');
            url.push_str(&encode_path(k));
        }
        if !query.is_empty() {
            url.push('?');
            url.push_str(query);
        }
        url
    }

    /// A DELETE on an object (or an upload of it): what is already gone counts as done.
    async fn delete_gone_ok(&self, bucket: &str, key: &str, query: &str) -> Result<(), ApiError> {
        let answer = self
            .send(
                "DELETE",
                &self.url(bucket, Some(key), query),
                vec![],
                Bytes::new(),
            )
            .await?;
        if answer.ok() || answer.status == 404 {
            Ok(())
        } else {
            Err(self.error(&answer, bucket))
        }
    }

    async fn send(
        &self,
        method: &str,
        url: &str,
        headers: Vec<(String, String)>,
        body: Bytes,
    ) -> Result<Answer, ApiError> {
        self.aws
            .send_signed(
                &self.http,
                Signed {
                    service: "s3",
                    method,
                    url,
                    headers,
                    body,
                },
            )
            .await
    }

    fn expect_ok(&self, answer: &Answer, bucket: &str) -> Result<(), ApiError> {
        if answer.ok() {
            Ok(())
        } else {
            Err(self.error(answer, bucket))
        }
    }

    /// An S3 error answer, in words.
    fn error(&self, answer: &Answer, bucket: &str) -> ApiError {
        let text = answer.text();
        let code = xml_tag(&text, "Code");
        let message = xml_tag(&text, "Message");
        match (answer.status, code.as_deref()) {
            (301, _) | (_, Some("PermanentRedirect")) | (_, Some("AuthorizationHeaderMalformed"))
                if answer.header("x-amz-bucket-region").is_some() =>
            {
                let region = answer.header("x-amz-bucket-region").unwrap_or_default();
                ApiError::new(
                    ErrorCode::AwsBadRegion,
                    format!("The bucket '{bucket}' is in {region}, not {}. Run the setup with --region {region}, or choose another bucket.", self.region()),
                )
            }
            (_, Some("NoSuchBucket")) => ApiError::new(
                ErrorCode::NotFound,
                format!("There is no bucket '{bucket}'. Create it first (`loopline setup s3 --bucket {bucket} --region {}`).", self.region()),
            ),
            _ => self.aws.explain_answer(answer, code, message),
        }
    }
}

#[async_trait]
impl ObjectStore for S3 {
    fn region(&self) -> &str {
        self.aws.region()
    }

    /// HeadBucket: whether the name is free, yours, or someone else's.
    async fn bucket_state(&self, bucket: &str) -> Result<BucketState, ApiError> {
        let answer = self
            .send("HEAD", &self.url(bucket, None, ""), vec![], Bytes::new())
            .await?;
        let region = answer
            .header("x-amz-bucket-region")
            .map(str::to_string)
            .unwrap_or_else(|| self.region().to_string());
        match answer.status {
            200 => Ok(BucketState::Reachable { region }),
            // Another region answers HEAD with 301 and says where the bucket is.
            301 => Ok(BucketState::Reachable { region }),
            404 => Ok(BucketState::Missing),
            403 => Ok(BucketState::Forbidden),
            _ => Err(self.error(&answer, bucket)),
        }
    }

    /// CreateBucket in this client's region: no `LocationConstraint` in us-east-1 (S3
    /// refuses one there), the region everywhere else.
    async fn create_bucket(&self, bucket: &str) -> Result<Created, ApiError> {
        let region = self.region();
        let body = if region == "us-east-1" {
            Bytes::new()
        } else {
            Bytes::from(format!(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                xml_escape(region)
            ))
        };
        let answer = self
            .send("PUT", &self.url(bucket, None, ""), vec![], body)
            .await?;
        if answer.ok() {
            return Ok(Created::New);
        }
        let text = answer.text();
        match xml_tag(&text, "Code").as_deref() {
            Some("BucketAlreadyOwnedByYou") => Ok(Created::AlreadyYours),
            Some("BucketAlreadyExists") => Err(ApiError::new(
                ErrorCode::NameTaken,
                format!("The bucket name '{bucket}' is taken by another AWS account (bucket names are global). Try '{}'.", suggest_bucket_name(bucket, self.aws.now_ms())),
            )),
            Some("InvalidBucketName") => Err(ApiError::new(
                ErrorCode::InvalidArgument,
                format!("'{bucket}' is not a valid bucket name: use 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit."),
            )),
            _ => Err(self.error(&answer, bucket)),
        }
    }

    /// Turns on all four Block Public Access settings on the bucket.
    async fn block_public_access(&self, bucket: &str) -> Result<(), ApiError> {
        let body = Bytes::from_static(b"<PublicAccessBlockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>");
        // S3 requires a checksum of this body; SHA-256 is accepted in place of Content-MD5.
        let checksum = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&body));
        let answer = self
            .send(
                "PUT",
                &self.url(bucket, None, "publicAccessBlock"),
                vec![
                    ("x-amz-sdk-checksum-algorithm".into(), "SHA256".into()),
                    ("x-amz-checksum-sha256".into(), checksum),
                ],
                body,
            )
            .await?;
        self.expect_ok(&answer, bucket)
    }

    /// Whether all four Block Public Access settings are on.
    async fn public_access_blocked(&self, bucket: &str) -> Result<bool, ApiError> {
        let answer = self
            .send(
                "GET",
                &self.url(bucket, None, "publicAccessBlock"),
                vec![],
                Bytes::new(),
            )
            .await?;
        if answer.status == 404 {
            return Ok(false);
        }
        self.expect_ok(&answer, bucket)?;
        let text = answer.text();
        Ok([
            "BlockPublicAcls",
            "IgnorePublicAcls",
            "BlockPublicPolicy",
            "RestrictPublicBuckets",
        ]
        .iter()
        .all(|t| xml_tag(&text, t).as_deref() == Some("true")))
    }

    /// HeadObject: its size and the hash Loopline stored with it, or `None`.
    async fn head_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectInfo>, ApiError> {
        let answer = self
            .send(
                "HEAD",
                &self.url(bucket, Some(key), ""),
                vec![],
                Bytes::new(),
            )
            .await?;
        match answer.status {
            404 => Ok(None),
            s if (200..300).contains(&s) => Ok(Some(ObjectInfo {
                size: answer
                    .header("content-length")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
                sha256: answer.header(SHA256_META).map(str::to_string),
                content_type: answer.header("content-type").map(str::to_string),
            })),
            _ => Err(self.error(&answer, bucket)),
        }
    }

    async fn get_object(&self, bucket: &str, key: &str) -> Result<Option<Bytes>, ApiError> {
        let answer = self
            .send(
                "GET",
                &self.url(bucket, Some(key), ""),
                vec![],
                Bytes::new(),
            )
            .await?;
        match answer.status {
            404 => Ok(None),
            s if (200..300).contains(&s) => Ok(Some(answer.body)),
            _ => Err(self.error(&answer, bucket)),
        }
    }

    /// PutObject with its content type and hash.
    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        content_type: &str,
        sha256_hex: &str,
    ) -> Result<(), ApiError> {
        let answer = self
            .send(
                "PUT",
                &self.url(bucket, Some(key), ""),
                vec![
                    ("content-type".into(), content_type.into()),
                    (SHA256_META.into(), sha256_hex.into()),
                ],
                body,
            )
            .await?;
        self.expect_ok(&answer, bucket)
    }

    /// CreateMultipartUpload: the upload id.
    async fn create_multipart(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
        sha256_hex: &str,
    ) -> Result<String, ApiError> {
        let answer = self
            .send(
                "POST",
                &self.url(bucket, Some(key), "uploads="),
                vec![
                    ("content-type".into(), content_type.into()),
                    (SHA256_META.into(), sha256_hex.into()),
                ],
                Bytes::new(),
            )
            .await?;
        self.expect_ok(&answer, bucket)?;
        xml_tag(&answer.text(), "UploadId").ok_or_else(|| {
            ApiError::new(
                ErrorCode::AwsError,
                "S3 started a multipart upload but sent no upload id.",
            )
        })
    }

    /// UploadPart: the part's ETag, needed to complete the upload.
    async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part: u32,
        body: Bytes,
    ) -> Result<String, ApiError> {
        let query = format!("partNumber={part}&uploadId={}", encode_query(upload_id));
        let answer = self
            .send("PUT", &self.url(bucket, Some(key), &query), vec![], body)
            .await?;
        self.expect_ok(&answer, bucket)?;
        answer
            .header("etag")
            .map(str::to_string)
            .ok_or_else(|| ApiError::new(ErrorCode::AwsError, "S3 took a part but sent no ETag."))
    }

    async fn complete_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        etags: &[String],
    ) -> Result<(), ApiError> {
        let mut xml = String::from(
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
        );
        for (i, etag) in etags.iter().enumerate() {
            xml.push_str(&format!(
                "<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>",
                i + 1,
                xml_escape(etag)
            ));
        }
        xml.push_str("</CompleteMultipartUpload>");
        let query = format!("uploadId={}", encode_query(upload_id));
        let answer = self
            .send(
                "POST",
                &self.url(bucket, Some(key), &query),
                vec![],
                Bytes::from(xml),
            )
            .await?;
        // S3 may answer 200 with an error document when completion fails late.
        if answer.ok() && xml_tag(&answer.text(), "Code").is_none() {
            Ok(())
        } else {
            Err(self.error(&answer, bucket))
        }
    }

    async fn abort_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(), ApiError> {
        let query = format!("uploadId={}", encode_query(upload_id));
        self.delete_gone_ok(bucket, key, &query).await
    }

    async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), ApiError> {
        self.delete_gone_ok(bucket, key, "").await
    }

    /// Multipart uploads under `prefix` that were started and never completed (a crash or a
    /// kill): (key, upload id). They cost storage until aborted.
    async fn incomplete_uploads(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<(String, String)>, ApiError> {
        let query = format!("prefix={}&uploads=", encode_query(prefix));
        let answer = self
            .send("GET", &self.url(bucket, None, &query), vec![], Bytes::new())
            .await?;
        self.expect_ok(&answer, bucket)?;
        let text = answer.text();
        let keys = xml_tags(&text, "Key");
        let ids = xml_tags(&text, "UploadId");
        Ok(keys.into_iter().zip(ids).collect())
    }

    /// Every key and size under `prefix` (ListObjectsV2, all pages).
    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<Listed>, ApiError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut query = format!("list-type=2&prefix={}", encode_query(prefix));
            if let Some(t) = &token {
                query = format!("continuation-token={}&{query}", encode_query(t));
            }
            let answer = self
                .send("GET", &self.url(bucket, None, &query), vec![], Bytes::new())
                .await?;
            self.expect_ok(&answer, bucket)?;
            let text = answer.text();
            let keys = xml_tags(&text, "Key");
            let sizes = xml_tags(&text, "Size");
            let etags = xml_tags(&text, "ETag");
            out.extend(
                keys.into_iter()
                    .zip(sizes)
                    .zip(etags)
                    .map(|((key, size), etag)| Listed {
                        key,
                        size: size.parse().unwrap_or(0),
                        etag: etag.trim_matches('"').to_string(),
                    }),
            );
            match xml_tag(&text, "NextContinuationToken") {
                Some(t) if xml_tag(&text, "IsTruncated").as_deref() == Some("true") => {
                    token = Some(t)
                }
                _ => return Ok(out),
            }
        }
    }
}

/// A key or bucket in a URL path: every byte but the unreserved ones and `/` encoded, as
/// S3's signature expects.
pub fn encode_path(s: &str) -> String {
    encode(s, true)
}

/// A query value: `/` encoded too.
pub fn encode_query(s: &str) -> String {
    encode(s, false)
}

fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_encoded_as_s3_signs_them() {
        assert_eq!(
            encode_path("bird-images/a b/ü.jpg"),
            "bird-images/a%20b/%C3%BC.jpg"
        );
        assert_eq!(encode_query("a/b c"), "a%2Fb%20c");
    }
}
