//! Thumbnails for the Issues page. Aquarium's image URLs point anywhere (a public bucket,
//! a CDN, a private `s3://` bucket), and the webview's CSP stays strict (`img-src 'self'
//! data:`): the engine fetches an image only from a host the user allowed (remembered per
//! host), presigning `s3://` with the user's AWS credentials, and hands it over as a data
//! URL.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use loopline_cloud::image_hosts::{not_allowed, ImageHosts};
use loopline_core::{ApiError, ErrorCode};

use crate::Engine;

/// A thumbnail larger than this is not shown (a full-resolution TIFF, a video).
const MAX_IMAGE: usize = 25 * 1024 * 1024;

pub use loopline_cloud::image_hosts::image_host;

impl Engine {
    /// The hosts whose images the Issues page may load.
    pub async fn image_hosts(&self) -> Result<Vec<String>, ApiError> {
        self.store.image_hosts().await
    }

    /// Allows (or stops allowing) a host's images; the list after the change.
    pub async fn allow_image_host(&self, host: &str, allow: bool) -> Result<Vec<String>, ApiError> {
        let host = host.trim().trim_end_matches('/').to_ascii_lowercase();
        let host = image_host(&host)
            .or_else(|| image_host(&format!("https://{host}")))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidArgument,
                    format!(
                        "'{host}' is not a host name (e.g. images.example.com) or an s3://bucket."
                    ),
                )
            })?;
        // One row per host: allowing two at once (two windows, the CLI) keeps both.
        self.store.allow_image_host(&host, allow).await?;
        self.image_hosts().await
    }

    /// A URL to read an image from and the hosts it may be read through, or why not: its
    /// host (an `s3://` URL's bucket) must be allowed before anything is fetched or
    /// presigned with the user's AWS credentials.
    pub(crate) async fn image_request(&self, url: &str) -> Result<(String, ImageHosts), ApiError> {
        let host = image_host(url).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidArgument,
                format!(
                    "'{}' is not an http(s) or s3:// image URL.",
                    url.split('?').next().unwrap_or(url)
                ),
            )
        })?;
        let hosts = ImageHosts::new(self.image_hosts().await?);
        if !hosts.allows(&host) {
            return Err(not_allowed(&host));
        }
        if url.starts_with("s3://") {
            return Ok((self.fetchable_url(url).await?, hosts.presigned()));
        }
        Ok((url.to_string(), hosts))
    }

    /// The image as a `data:` URL, if its host (and every host it redirects to) is allowed.
    pub async fn thumbnail(&self, url: &str) -> Result<String, ApiError> {
        let (fetchable, hosts) = self.image_request(url).await?;
        let (kind, bytes) = self.web.fetch(&fetchable, MAX_IMAGE, &hosts).await?;
        if !kind.starts_with("image/")
            && crate::aquarium_export::image_size::size_from_header(&bytes).is_none()
        {
            return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                format!(
                    "{} is not an image ({kind}).",
                    url.split('?').next().unwrap_or(url)
                ),
            ));
        }
        let kind = if kind.starts_with("image/") {
            kind
        } else {
            "image/jpeg".into()
        };
        Ok(format!("data:{kind};base64,{}", STANDARD.encode(&bytes)))
    }
}
