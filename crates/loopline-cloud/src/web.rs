//! Plain HTTP for Aquarium exports: POSTing a JSON body to a REST or GraphQL target, and
//! reading images (their first bytes for the size, or whole for a thumbnail). A trait so
//! the engine's fast tests use a fake; reqwest in production.
//!
//! Images are read by a client of their own: no proxy (a proxy would resolve names where
//! the address check cannot see), redirects followed here one hop at a time so each is
//! checked against the allowed hosts (`image_hosts.rs`), and a resolver that refuses
//! addresses that are not public for names the user did not allow (`image_resolver.rs`).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use loopline_core::{ApiError, ErrorCode};

use crate::image_hosts::{dns_name, image_host, shown, ImageHosts};
use crate::image_resolver::{system_lookup, GuardedResolver, Lookup, RefusedAddress, Trusted};

/// Redirects followed for one image: a CDN or a signed-URL service needs one or two.
const MAX_HOPS: usize = 5;

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
    /// POSTs these exact bytes as JSON: a forwarded event is signed over the bytes sent, so
    /// they must not be re-serialized on the way. Fakes get it through `post_json`.
    async fn post_body(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<Answer, ApiError> {
        let value = serde_json::from_slice(body).unwrap_or(serde_json::Value::Null);
        self.post_json(url, headers, &value).await
    }
    /// Up to `limit` bytes from the start of an image (a Range request; servers that
    /// ignore ranges are cut off after `limit`), read only as `hosts` allow.
    async fn head_bytes(
        &self,
        url: &str,
        limit: usize,
        hosts: &ImageHosts,
    ) -> Result<Vec<u8>, ApiError>;
    /// A whole image (up to `limit`) and its content type, read only as `hosts` allow.
    async fn fetch(
        &self,
        url: &str,
        limit: usize,
        hosts: &ImageHosts,
    ) -> Result<(String, Vec<u8>), ApiError>;
}

pub struct Http {
    client: reqwest::Client,
    images: reqwest::Client,
    trusted: Trusted,
}

impl Http {
    pub fn new() -> Result<Http, ApiError> {
        Http::with_lookup(system_lookup())
    }

    /// With names resolved by `lookup` (tests give names of their own to local servers).
    pub fn with_lookup(lookup: Lookup) -> Result<Http, ApiError> {
        let built = |e: reqwest::Error| ApiError::internal(e.to_string());
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(built)?;
        let trusted = Trusted::default();
        let images = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                lookup,
                trusted: trusted.clone(),
            }))
            .build()
            .map_err(built)?;
        Ok(Http {
            client,
            images,
            trusted,
        })
    }

    /// The image's answer after its redirects, each hop checked before it is requested.
    async fn get_image(
        &self,
        url: &str,
        hosts: &ImageHosts,
        range: Option<usize>,
    ) -> Result<reqwest::Response, ApiError> {
        if let Ok(mut allowed) = self.trusted.allowed.write() {
            *allowed = hosts.trusted_names().collect();
        }
        if hosts.is_presigned() {
            if let (Some(host), Ok(mut e)) = (image_host(url), self.trusted.endpoints.write()) {
                e.insert(dns_name(&host));
            }
        }
        let first = shown(url).to_string();
        let mut current = reqwest::Url::parse(url).map_err(|_| {
            ApiError::new(
                ErrorCode::InvalidArgument,
                format!("{first} is not an http(s) image URL."),
            )
        })?;
        for n in 0..=MAX_HOPS {
            hosts.check_hop(&current, n, &first)?;
            let mut req = self.images.get(current.clone());
            if let Some(limit) = range {
                req = req.header("Range", format!("bytes=0-{}", limit.saturating_sub(1)));
            }
            let resp = req
                .send()
                .await
                .map_err(|e| image_unreachable(&first, &current, &e))?;
            if !resp.status().is_redirection() {
                if !resp.status().is_success() {
                    return Err(status_error(current.as_str(), resp.status()));
                }
                return Ok(resp);
            }
            let next = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| current.join(l).ok())
                .ok_or_else(|| status_error(current.as_str(), resp.status()))?;
            current = next;
        }
        Err(ApiError::new(
            ErrorCode::TargetRejected,
            format!("{first} redirected more than {MAX_HOPS} times."),
        ))
    }
}

/// An image read that failed; a refused address says which and how to allow it.
fn image_unreachable(first: &str, hop: &reqwest::Url, e: &reqwest::Error) -> ApiError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<RefusedAddress>() {
            let host = image_host(hop.as_str()).unwrap_or_else(|| r.name.clone());
            let via = if shown(hop.as_str()) == first {
                String::new()
            } else {
                format!(" redirected to {}, and", shown(hop.as_str()))
            };
            return ApiError::new(
                ErrorCode::Unauthorized,
                format!("{first}{via} {r}, which Loopline does not read from unless you allow that host: `loopline aquarium hosts --allow {host}`."),
            );
        }
        source = s.source();
    }
    unreachable(hop.as_str(), e)
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

/// Sends a POST with the headers given, and reads the target's answer (its first 64 kB).
async fn send(
    url: &str,
    mut req: reqwest::RequestBuilder,
    headers: &[(String, String)],
) -> Result<Answer, ApiError> {
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

#[async_trait]
impl Web for Http {
    async fn post_json(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &serde_json::Value,
    ) -> Result<Answer, ApiError> {
        send(url, self.client.post(url).json(body), headers).await
    }

    async fn post_body(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<Answer, ApiError> {
        let req = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        send(url, req, headers).await
    }

    async fn head_bytes(
        &self,
        url: &str,
        limit: usize,
        hosts: &ImageHosts,
    ) -> Result<Vec<u8>, ApiError> {
        let resp = self.get_image(url, hosts, Some(limit)).await?;
        limited(url, resp, limit).await
    }

    async fn fetch(
        &self,
        url: &str,
        limit: usize,
        hosts: &ImageHosts,
    ) -> Result<(String, Vec<u8>), ApiError> {
        let resp = self.get_image(url, hosts, None).await?;
        let kind = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_string();
        Ok((kind, limited(url, resp, limit).await?))
    }
}
