//! Thumbnails for the Issues page. Aquarium's image URLs point anywhere (a public bucket,
//! a CDN, a private `s3://` bucket), and the webview's CSP stays strict (`img-src 'self'
//! data:`): the engine fetches an image only from a host the user allowed (remembered per
//! host), presigning `s3://` with the user's AWS credentials, and hands it over as a data
//! URL.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use loopline_core::{ApiError, ErrorCode};

use crate::Engine;

/// A thumbnail larger than this is not shown (a full-resolution TIFF, a video).
const MAX_IMAGE: usize = 25 * 1024 * 1024;

/// The host an image URL is allowed by: `example.org`, `example.org:8080`, or `s3://bucket`.
pub fn image_host(url: &str) -> Option<String> {
    if let Some(rest) = url.strip_prefix("s3://") {
        let bucket = rest.split('/').next().filter(|b| !b.is_empty())?;
        return Some(format!("s3://{bucket}"));
    }
    let u = reqwest::Url::parse(url).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    let host = u.host_str()?.to_ascii_lowercase();
    Some(match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    })
}

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

    /// The image as a `data:` URL, if its host is allowed.
    pub async fn thumbnail(&self, url: &str) -> Result<String, ApiError> {
        let host = image_host(url).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidArgument,
                format!("'{url}' is not an http(s) or s3:// image URL."),
            )
        })?;
        if !self.image_hosts().await?.contains(&host) {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                format!("Images from {host} are not loaded until you allow that host (Issues page, or `loopline aquarium hosts --allow {host}`)."),
            ));
        }
        let fetchable = self.fetchable_url(url).await?;
        let (kind, bytes) = self.web.fetch(&fetchable, MAX_IMAGE).await?;
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

#[cfg(test)]
mod tests {
    use super::image_host;

    #[test]
    fn hosts_are_named_as_the_user_allows_them() {
        assert_eq!(
            image_host("https://Images.Example.org/a.jpg?x=1").as_deref(),
            Some("images.example.org")
        );
        assert_eq!(
            image_host("http://127.0.0.1:8080/a.png").as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(
            image_host("s3://my-bucket/birds/a.jpg").as_deref(),
            Some("s3://my-bucket")
        );
        assert_eq!(image_host("file:///etc/passwd"), None);
    }
}
