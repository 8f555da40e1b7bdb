//! Label Studio's REST API, with both kinds of token it issues:
//! - a legacy token, sent as `Authorization: Token …` (only while the organization allows it);
//! - a personal access token (a JWT refresh token), exchanged at `/api/token/refresh` for an
//!   access token that lasts about five minutes, sent as `Authorization: Bearer …` and
//!   refreshed automatically.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use loopline_core::{ApiError, Clock, ErrorCode, Sensitive, TokenKind};
use tokio::sync::Mutex;

/// A personal access token is a JWT (three base64url parts, the first a JSON header);
/// anything else is a legacy token.
pub fn token_kind(token: &str) -> TokenKind {
    let parts: Vec<&str> = token.trim().split('.').collect();
    let is_jwt = parts.len() == 3
        && parts[0].starts_with("eyJ")
        && URL_SAFE_NO_PAD
            .decode(parts[0].trim_end_matches('='))
            .is_ok();
    if is_jwt {
        TokenKind::PersonalAccessToken
    } else {
        TokenKind::Legacy
    }
}

pub use loopline_core::LabelStudioIdentity as Identity;

/// Access tokens are refreshed this long before they expire.
const REFRESH_MARGIN_MS: i64 = 30_000;
/// When an access token's expiry cannot be read, assume Label Studio's default lifetime.
const DEFAULT_ACCESS_MS: i64 = 5 * 60 * 1000;

pub struct LabelStudio {
    base: String,
    token: Sensitive<String>,
    kind: TokenKind,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    access: Mutex<Option<(Sensitive<String>, i64)>>,
    refreshes: AtomicU32,
}

impl LabelStudio {
    pub fn new(
        url: &str,
        token: Sensitive<String>,
        clock: Arc<dyn Clock>,
    ) -> Result<LabelStudio, ApiError> {
        let base = url.trim().trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&base).map_err(|_| bad_url(&base))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(bad_url(&base));
        }
        let kind = token_kind(token.expose());
        let http = shared_http()?;
        Ok(LabelStudio {
            base,
            token: Sensitive::new(token.expose().trim().to_string()),
            kind,
            http,
            clock,
            access: Mutex::new(None),
            refreshes: AtomicU32::new(0),
        })
    }

    pub fn token_kind(&self) -> TokenKind {
        self.kind
    }

    /// How many access tokens this client has obtained for its personal access token: what
    /// shows that refreshing happens when, and only when, it must.
    pub fn access_tokens_obtained(&self) -> u32 {
        self.refreshes.load(Ordering::Relaxed)
    }

    /// Checks the token against the server: who it belongs to, and the server's version.
    pub async fn verify(&self) -> Result<Identity, ApiError> {
        let me = self.get("/api/current-user/whoami").await?;
        let version = self.get("/api/version").await.ok().and_then(|v| {
            v["release"]
                .as_str()
                .or_else(|| v["label-studio-os-package"]["version"].as_str())
                .map(str::to_string)
        });
        Ok(Identity {
            url: self.base.clone(),
            email: me["email"].as_str().unwrap_or_default().to_string(),
            username: me["username"].as_str().map(str::to_string),
            version,
            token_kind: self.kind,
        })
    }

    /// GET a JSON resource, refreshing a personal access token once if the server says the
    /// access token has expired.
    pub async fn get(&self, path: &str) -> Result<serde_json::Value, ApiError> {
        self.send(reqwest::Method::GET, path, None).await
    }

    pub async fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, ApiError> {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn patch(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, ApiError> {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Result<serde_json::Value, ApiError> {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, ApiError> {
        let mut refreshed = false;
        loop {
            let auth = self.authorization(refreshed).await?;
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .header("authorization", auth);
            if let Some(b) = body {
                request = request.json(b);
            }
            let resp = request
                .send()
                .await
                .map_err(|e| transport(&self.base, &e))?;
            let status = resp.status();
            let body: serde_json::Value = resp.json().await.unwrap_or_default();
            if status.is_success() {
                return Ok(body);
            }
            if status.as_u16() == 401 && self.kind == TokenKind::PersonalAccessToken && !refreshed {
                refreshed = true;
                continue;
            }
            return Err(self.refusal(status.as_u16(), &body, path));
        }
    }

    async fn authorization(&self, force_refresh: bool) -> Result<String, ApiError> {
        match self.kind {
            TokenKind::Legacy => Ok(format!("Token {}", self.token.expose())),
            TokenKind::PersonalAccessToken => {
                let mut cached = self.access.lock().await;
                let now = self.clock.now_ms();
                let fresh = cached
                    .as_ref()
                    .filter(|(_, exp)| *exp - REFRESH_MARGIN_MS > now && !force_refresh)
                    .map(|(t, _)| t.expose().clone());
                let access = match fresh {
                    Some(t) => t,
                    None => {
                        let (t, exp) = self.refresh(now).await?;
                        let value = t.expose().clone();
                        *cached = Some((t, exp));
                        value
                    }
                };
                Ok(format!("Bearer {access}"))
            }
        }
    }

    /// Exchanges the personal access token for an access token.
    async fn refresh(&self, now_ms: i64) -> Result<(Sensitive<String>, i64), ApiError> {
        let resp = self
            .http
            .post(format!("{}/api/token/refresh/", self.base))
            .json(&serde_json::json!({ "refresh": self.token.expose() }))
            .send()
            .await
            .map_err(|e| transport(&self.base, &e))?;
        let status = resp.status().as_u16();
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        match body["access"].as_str() {
            Some(access) if (200..300).contains(&status) => {
                self.refreshes.fetch_add(1, Ordering::Relaxed);
                let exp = jwt_expiry_ms(access).unwrap_or(now_ms + DEFAULT_ACCESS_MS);
                Ok((Sensitive::new(access.to_string()), exp))
            }
            _ => Err(ApiError::new(
                ErrorCode::LsUnauthorized,
                format!(
                    "Label Studio at {} refused the personal access token (it may have been revoked or have expired). \
                     Create a new one under Account & Settings → Personal Access Token.",
                    self.base
                ),
            )),
        }
    }

    fn refusal(&self, status: u16, body: &serde_json::Value, path: &str) -> ApiError {
        let detail = body["detail"].as_str().unwrap_or_default();
        let text = body.to_string();
        match status {
            // Label Studio 1.23's SSRF protection, on by default: a webhook URL or an S3
            // endpoint on a loopback or private address.
            400 | 403 if text.contains("reserved network address") || text.to_lowercase().contains("ssrf") => {
                let what = if path.contains("/storages/") {
                    "the S3 endpoint it was given, which is on a private or loopback address. Give it an endpoint it may reach"
                } else {
                    "Loopline's webhook URL, which is on a private or loopback address. Give it the tunnel's public URL (Settings › Tunnel)"
                };
                ApiError::new(
                    ErrorCode::LsAddressRefused,
                    format!(
                        "Label Studio at {} refused to contact {what}. Or, when Label Studio runs on this machine, restart it with \
                         SSRF_PROTECTION_ENABLED=false (or LABEL_STUDIO_USE_DEFAULT_BANNED_SUBNETS=false). Label Studio said: \"{}\"",
                        self.base,
                        if detail.is_empty() { short(&text) } else { short(detail) }
                    ),
                )
            }
            500 if text.contains("Debugging info is not available") => ApiError::new(
                ErrorCode::LsStorageFailed,
                format!(
                    "Label Studio at {} could not use the bucket, and hides the reason because the S3 endpoint is not on a domain it trusts (\"{}\"). \
                     Check that Label Studio can reach that endpoint, that the bucket exists in the region given, and that its keys may read the images and write the annotations.",
                    self.base,
                    short(&text)
                ),
            ),
            401 | 403 if detail.contains("legacy token authentication has been disabled") => ApiError::new(
                ErrorCode::LsLegacyTokensDisabled,
                format!(
                    "Label Studio at {} has legacy tokens turned off for your organization, so this token no longer works. \
                     Create a Personal Access Token (Account & Settings) and use that instead.",
                    self.base
                ),
            ),
            401 | 403 => ApiError::new(
                ErrorCode::LsUnauthorized,
                format!(
                    "Label Studio at {} refused the token. Copy it again from Account & Settings (Access Token or Personal Access Token).",
                    self.base
                ),
            ),
            404 if path.starts_with("/api/projects/") || path.starts_with("/api/webhooks") => ApiError::new(
                ErrorCode::NotFound,
                format!("Label Studio at {} has no {path} (or this token cannot see it). Check the project id in the project's URL.", self.base),
            ),
            400 => ApiError::new(
                ErrorCode::InvalidArgument,
                format!("Label Studio at {} refused the request to {path}: {}", self.base, body.to_string().chars().take(300).collect::<String>()),
            ),
            404 => bad_url_for(&self.base, path),
            _ => ApiError::new(
                ErrorCode::LsUnavailable,
                format!("Label Studio at {} answered HTTP {status} for {path}. Try again, or check the server's logs.", self.base),
            ),
        }
    }
}

fn short(text: &str) -> String {
    text.chars().take(200).collect()
}

/// One HTTP client for every Label Studio client of the process. The engine makes a
/// `LabelStudio` for each call that needs one (a dataset version, a hook check, a catch-up),
/// and building a reqwest client reads and parses the OS's trust store: in B9's profile of
/// `loopline serve` that was about one sample in twelve, and without it serve used 15% less
/// CPU over the same run.
fn shared_http() -> Result<reqwest::Client, ApiError> {
    static HTTP: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    crate::shared_client::shared_client(&HTTP, |b| b.timeout(Duration::from_secs(15)))
}

fn bad_url(url: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidArgument,
        format!("'{url}' is not a Label Studio address. Use the one you open in the browser, e.g. http://localhost:8080."),
    )
}

fn bad_url_for(base: &str, path: &str) -> ApiError {
    ApiError::new(
        ErrorCode::LsUnavailable,
        format!(
            "{base} answered, but has no {path}: it does not look like Label Studio. Use the address you open in the browser, e.g. http://localhost:8080."
        ),
    )
}

fn transport(base: &str, e: &reqwest::Error) -> ApiError {
    let text = format!("{e:?}").to_lowercase();
    if text.contains("certificate") || text.contains("tls") || text.contains("ssl") {
        return ApiError::new(
            ErrorCode::LsUnavailable,
            format!("The TLS certificate of {base} was not accepted. Check the address (http or https?) or the server's certificate."),
        );
    }
    let why = if e.is_timeout() {
        "it did not answer in time"
    } else if e.is_connect() {
        "nothing answered at that address"
    } else {
        "the request failed"
    };
    ApiError::new(
        ErrorCode::LsUnavailable,
        format!("Could not reach Label Studio at {base}: {why}. Check the URL and that Label Studio is running."),
    )
}

/// The `exp` claim of a JWT, in ms. The signature is the server's business, not ours.
fn jwt_expiry_ms(jwt: &str) -> Option<i64> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v["exp"].as_i64().map(|s| s * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_the_token_kinds_apart() {
        assert_eq!(
            token_kind("0123456789abcdef0123456789abcdef01234567"),
            TokenKind::Legacy
        );
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(br#"{"token_type":"refresh","exp":4102444800}"#);
        let jwt = format!("{header}.{payload}.c2lnbmF0dXJl");
        assert_eq!(token_kind(&jwt), TokenKind::PersonalAccessToken);
        assert_eq!(jwt_expiry_ms(&jwt), Some(4_102_444_800_000));
    }
}
