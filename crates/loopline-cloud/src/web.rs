//! Plain HTTP for Aquarium exports: POSTing a JSON body to a REST or GraphQL target, and
//! reading images (their first bytes for the size, or whole for a thumbnail). A trait so
//! the engine's fast tests use a fake; reqwest in production.

use std::time::Duration;

use async_trait::async_trait;
use loopline_core::{ApiError, ErrorCode};

/// A target's answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

#[async_trait]
pub trait Web: Send + Sync {
    async fn post_json(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &serde_json::Value,
    ) -> Result<Answer, ApiError>;
    /// Up to `limit` bytes from the start of the resource (a Range request; servers that
    /// ignore ranges are cut off after `limit`).
    async fn head_bytes(&self, url: &str, limit: usize) -> Result<Vec<u8>, ApiError>;
    /// The whole resource (up to `limit`) and its content type.
    async fn fetch(&self, url: &str, limit: usize) -> Result<(String, Vec<u8>), ApiError>;
}

pub struct Http {
    client: reqwest::Client,
}

impl Http {
    pub fn new() -> Result<Http, ApiError> {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map(|client| Http { client })
            .map_err(|e| ApiError::internal(e.to_string()))
    }
}

/// Where a URL failed, in words without its query string (a presigned URL's signature).
fn unreachable(url: &str, e: &reqwest::Error) -> ApiError {
    let shown = url.split('?').next().unwrap_or(url);
    let why = if e.is_timeout() {
        "it did not answer within 30 s"
    } else if e.is_connect() {
        "the connection was refused or the host is unknown"
    } else {
        "the request failed"
    };
    ApiError::new(
        ErrorCode::TargetUnavailable,
        format!("{shown} could not be reached: {why}. Check the URL and your network; Loopline retries."),
    )
}

async fn limited(
    url: &str,
    mut resp: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| unreachable(url, &e))? {
        out.extend_from_slice(&chunk);
        if out.len() >= limit {
            out.truncate(limit);
            break;
        }
    }
    Ok(out)
}

fn status_error(url: &str, status: reqwest::StatusCode) -> ApiError {
    let shown = url.split('?').next().unwrap_or(url);
    let code = if status.is_server_error() {
        ErrorCode::TargetUnavailable
    } else {
        ErrorCode::TargetRejected
    };
    ApiError::new(code, format!("{shown} answered HTTP {status}."))
}

#[async_trait]
impl Web for Http {
    async fn post_json(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &serde_json::Value,
    ) -> Result<Answer, ApiError> {
        let mut req = self.client.post(url).json(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let resp = req.send().await.map_err(|e| unreachable(url, &e))?;
        let status = resp.status().as_u16();
        let bytes = limited(url, resp, 64 * 1024).await?;
        Ok(Answer {
            status,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }

    async fn head_bytes(&self, url: &str, limit: usize) -> Result<Vec<u8>, ApiError> {
        let resp = self
            .client
            .get(url)
            .header("Range", format!("bytes=0-{}", limit.saturating_sub(1)))
            .send()
            .await
            .map_err(|e| unreachable(url, &e))?;
        if !resp.status().is_success() {
            return Err(status_error(url, resp.status()));
        }
        limited(url, resp, limit).await
    }

    async fn fetch(&self, url: &str, limit: usize) -> Result<(String, Vec<u8>), ApiError> {
        let resp = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| unreachable(url, &e))?;
        if !resp.status().is_success() {
            return Err(status_error(url, resp.status()));
        }
        let kind = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_string();
        Ok((kind, limited(url, resp, limit).await?))
    }
}
