//! One SigV4-signed HTTP call to an AWS service, with the credentials, region and clock the
//! SDK configuration resolved. SageMaker, S3 and IAM are called this way: their few
//! operations here cost a page of code each, where the SDK's generated crates would add
//! minutes to every cold build.

use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use loopline_core::{ApiError, ErrorCode};

use super::{classify, Aws, Failure, FailureKind};

/// A request before signing.
pub struct Signed<'a> {
    /// The signing name: `sagemaker`, `s3`, `iam`.
    pub service: &'a str,
    pub method: &'a str,
    pub url: &'a str,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// An answer of any status: the caller reads its service's error format.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP client for the process: building one loads the TLS roots, which costs more than
/// a call.
pub fn shared_http() -> Result<reqwest::Client, ApiError> {
    static HTTP: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    crate::shared_client::shared_client(&HTTP, |b| {
        b.connect_timeout(Duration::from_secs(5))
            // Long enough for an 8 MiB part on a slow uplink; calls without a body answer fast.
            .timeout(Duration::from_secs(300))
    })
}

impl Aws {
    /// The endpoint for `service`: `AWS_ENDPOINT_URL_<SERVICE>`, then the configuration's
    /// endpoint (`AWS_ENDPOINT_URL`), then `default`.
    pub fn endpoint_for(&self, service_env: &str, default: String) -> String {
        std::env::var(format!("AWS_ENDPOINT_URL_{service_env}"))
            .ok()
            .or_else(|| self.config().endpoint_url().map(str::to_string))
            .unwrap_or(default)
            .trim_end_matches('/')
            .to_string()
    }

    /// Whether calls go somewhere other than AWS (moto, LocalStack, MinIO).
    pub fn custom_endpoint(&self) -> bool {
        self.config().endpoint_url().is_some()
    }

    /// The credentials to sign with, as the signer wants them.
    async fn identity(
        &self,
    ) -> Result<aws_smithy_runtime_api::client::identity::Identity, ApiError> {
        let provider = self.config().credentials_provider().ok_or_else(|| {
            ApiError::new(ErrorCode::AwsNoCredentials, "No AWS credentials are configured. Enter them in Settings › Credentials, or with `loopline connect aws`.")
        })?;
        let credentials = provider.provide_credentials().await.map_err(|e| {
            let chain = format!("credentialsnotloaded: {e} {e:?}").to_lowercase();
            classify(
                &Failure::bare(FailureKind::Construction, chain),
                self.context(),
            )
        })?;
        Ok(credentials.into())
    }

    /// A presigned GET for an S3 object URL, good for `expires` (the review's thumbnails of
    /// `s3://` images; the browser fetches them without credentials).
    pub async fn presign_s3_get(&self, url: &str, expires: Duration) -> Result<String, ApiError> {
        let identity = self.identity().await?;
        let now = UNIX_EPOCH + Duration::from_millis(self.now_ms().max(0) as u64);
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.signature_location = aws_sigv4::http_request::SignatureLocation::QueryParams;
        settings.expires_in = Some(expires);
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region())
            .name("s3")
            .time(now)
            .settings(settings)
            .build()
            .map_err(|e| ApiError::internal(format!("signing: {e}")))?
            .into();
        let signable = SignableRequest::new(
            "GET",
            url,
            std::iter::empty(),
            SignableBody::UnsignedPayload,
        )
        .map_err(|e| ApiError::internal(format!("signing: {e}")))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| ApiError::internal(format!("signing: {e}")))?
            .into_parts();
        let mut u = reqwest::Url::parse(url).map_err(|e| ApiError::internal(e.to_string()))?;
        for (k, v) in instructions.params() {
            u.query_pairs_mut().append_pair(k, v);
        }
        Ok(u.to_string())
    }

    /// Signs and sends. Transport failures (no route, timeout, no credentials) come back as
    /// coded errors; any HTTP answer comes back as it is.
    pub async fn send_signed(
        &self,
        http: &reqwest::Client,
        req: Signed<'_>,
    ) -> Result<Answer, ApiError> {
        let identity = self.identity().await?;
        let now = UNIX_EPOCH + Duration::from_millis(self.now_ms().max(0) as u64);
        let mut settings = SigningSettings::default();
        if req.service == "s3" {
            // S3 signs the path as sent (no second encoding, no normalisation) and wants the
            // payload's hash in a header of its own.
            settings.percent_encoding_mode = PercentEncodingMode::Single;
            settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        }
        let region = if req.service == "iam" {
            // IAM is global: it signs for us-east-1 whatever the user's region.
            "us-east-1"
        } else {
            self.region()
        };
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(req.service)
            .time(now)
            .settings(settings)
            .build()
            .map_err(|e| ApiError::internal(format!("signing: {e}")))?
            .into();
        let signable = SignableRequest::new(
            req.method,
            req.url,
            req.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            SignableBody::Bytes(&req.body),
        )
        .map_err(|e| ApiError::internal(format!("signing: {e}")))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| ApiError::internal(format!("signing: {e}")))?
            .into_parts();
        let method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let mut request = http.request(method, req.url).body(req.body.clone());
        for (name, value) in req
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .chain(instructions.headers())
        {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| {
            let kind = if e.is_timeout() {
                FailureKind::Timeout
            } else {
                FailureKind::Dispatch
            };
            classify(
                &Failure::bare(kind, format!("{e} {e:?}").to_lowercase()),
                self.context(),
            )
        })?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| {
            classify(
                &Failure::bare(FailureKind::Dispatch, format!("{e} {e:?}").to_lowercase()),
                self.context(),
            )
        })?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// Server time minus ours, from an answer's `Date`, for explaining a skewed clock.
    pub fn skew_of(&self, answer: &Answer) -> Option<i64> {
        let date = answer.header("date")?;
        let t = aws_smithy_types::DateTime::from_str(
            date,
            aws_smithy_types::date_time::Format::HttpDate,
        )
        .ok()?;
        Some(t.to_millis().ok()? - self.now_ms())
    }

    /// An error answer as a coded error that says what to fix.
    pub fn explain_answer(
        &self,
        answer: &Answer,
        code: Option<String>,
        message: Option<String>,
    ) -> ApiError {
        let status = answer.status;
        let failure = Failure {
            kind: FailureKind::Service { status },
            code,
            message: message.map(|m| format!("{m} (HTTP {status})")),
            chain: String::new(),
            skew_ms: self.skew_of(answer),
        };
        classify(&failure, self.context())
    }
}

/// The text of the first `<tag>…</tag>` in an XML answer (S3 and IAM answer in XML; the
/// few values read here are flat and unambiguous, so no XML parser is pulled in).
pub fn xml_tag(xml: &str, tag: &str) -> Option<String> {
    xml_tags(xml, tag).into_iter().next()
}

/// Every `<tag>…</tag>` in document order, entities decoded.
pub fn xml_tags(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(xml_unescape(&after[..j]));
        rest = &after[j + close.len()..];
    }
    out
}

pub fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_values_are_read_and_decoded() {
        let xml = "<Error><Code>NoSuchKey</Code><Message>a &amp; b &lt;c&gt;</Message></Error>";
        assert_eq!(xml_tag(xml, "Code").as_deref(), Some("NoSuchKey"));
        assert_eq!(xml_tag(xml, "Message").as_deref(), Some("a & b <c>"));
        assert_eq!(xml_tag(xml, "Nope"), None);
        let list = "<R><Key>a</Key><Size>1</Size><Key>b&amp;c</Key></R>";
        assert_eq!(xml_tags(list, "Key"), vec!["a", "b&c"]);
        assert_eq!(xml_escape("a&<b>\""), "a&amp;&lt;b&gt;&quot;");
    }
}
