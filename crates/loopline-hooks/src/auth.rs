//! Authenticating a delivery. Token sources compare SHA-256 digests in constant time, so
//! the request path needs no plaintext and no keychain; Standard Webhooks sources verify an
//! HMAC with keys the engine loaded into memory.

use axum::http::HeaderMap;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use loopline_core::Sensitive;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Standard Webhooks' replay window.
pub const SIGNATURE_TOLERANCE_MS: i64 = 5 * 60 * 1000;

pub fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Why a delivery was refused, in words for the rejected-attempt record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Missing(&'static str),
    Mismatch(&'static str),
    StaleTimestamp,
    BadSignatureHeaders,
}

impl Refusal {
    pub fn describe(&self) -> String {
        match self {
            Refusal::Missing(h) => format!("no {h} header"),
            Refusal::Mismatch(h) => format!("{h} did not match"),
            Refusal::StaleTimestamp => {
                "webhook-timestamp is more than 5 minutes from now".to_string()
            }
            Refusal::BadSignatureHeaders => {
                "webhook-id, webhook-timestamp or webhook-signature missing or malformed"
                    .to_string()
            }
        }
    }
}

/// The presented token for a Label Studio source: `X-Loopline-Token`, or
/// `Authorization: Bearer …` (also `Token …`, which some senders use).
pub fn presented_token(headers: &HeaderMap) -> Option<&str> {
    if let Some(v) = headers
        .get("x-loopline-token")
        .and_then(|v| v.to_str().ok())
    {
        return Some(v.trim());
    }
    let auth = headers.get("authorization")?.to_str().ok()?.trim();
    let (scheme, rest) = auth.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token"))
        .then(|| rest.trim())
}

/// True when `presented` hashes to one of the live digests. Every digest is compared, in
/// constant time, so timing reveals neither which nor how much matched.
pub fn matches_any(presented: &str, digests: &[[u8; 32]]) -> bool {
    let d = digest(presented);
    let mut ok = subtle::Choice::from(0u8);
    for candidate in digests {
        ok |= d.ct_eq(candidate);
    }
    ok.into()
}

/// Decodes a Standard Webhooks secret (`whsec_<base64>`; a bare base64 or raw string also works).
pub fn signing_key(secret: &str) -> Vec<u8> {
    let body = secret.strip_prefix("whsec_").unwrap_or(secret);
    STANDARD
        .decode(body)
        .unwrap_or_else(|_| body.as_bytes().to_vec())
}

fn header<'a>(headers: &'a HeaderMap, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|n| headers.get(*n).and_then(|v| v.to_str().ok()))
}

/// Verifies a Standard Webhooks signature against any of `keys` (several during rotation).
pub fn verify_standard_webhook(
    headers: &HeaderMap,
    body: &[u8],
    keys: &[Sensitive<Vec<u8>>],
    now_ms: i64,
) -> Result<(), Refusal> {
    let id = header(headers, &["webhook-id", "svix-id"]).ok_or(Refusal::BadSignatureHeaders)?;
    let ts = header(headers, &["webhook-timestamp", "svix-timestamp"])
        .ok_or(Refusal::BadSignatureHeaders)?;
    let sigs = header(headers, &["webhook-signature", "svix-signature"])
        .ok_or(Refusal::Missing("webhook-signature"))?;
    let ts_secs: i64 = ts
        .trim()
        .parse()
        .map_err(|_| Refusal::BadSignatureHeaders)?;
    // Checked: the header is the sender's, and `i64::MAX` seconds overflows in milliseconds.
    let skew = ts_secs
        .checked_mul(1000)
        .and_then(|ts_ms| now_ms.checked_sub(ts_ms))
        .and_then(i64::checked_abs);
    if skew.is_none_or(|skew| skew > SIGNATURE_TOLERANCE_MS) {
        return Err(Refusal::StaleTimestamp);
    }
    let presented: Vec<Vec<u8>> = sigs
        .split_whitespace()
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .collect();
    if presented.is_empty() {
        return Err(Refusal::BadSignatureHeaders);
    }
    for key in keys {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.expose()) else {
            continue;
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(ts.trim().as_bytes());
        mac.update(b".");
        mac.update(body);
        let expected = mac.finalize().into_bytes();
        if presented
            .iter()
            .any(|p| bool::from(p.as_slice().ct_eq(expected.as_slice())))
        {
            return Ok(());
        }
    }
    Err(Refusal::Mismatch("webhook-signature"))
}

/// Signs like a Standard Webhooks sender; used by "send test event" and by tests.
pub fn sign_standard_webhook(key: &[u8], id: &str, ts_secs: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(format!("{id}.{ts_secs}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn token_from_either_header() {
        assert_eq!(
            presented_token(&headers(&[("x-loopline-token", "abc".into())])),
            Some("abc")
        );
        assert_eq!(
            presented_token(&headers(&[("authorization", "Bearer xyz".into())])),
            Some("xyz")
        );
        assert_eq!(
            presented_token(&headers(&[("authorization", "Basic xyz".into())])),
            None
        );
    }

    #[test]
    fn digest_comparison() {
        let d = [digest("old"), digest("new")];
        assert!(matches_any("new", &d));
        assert!(matches_any("old", &d));
        assert!(!matches_any("nope", &d));
        assert!(!matches_any("new", &[]));
    }

    #[test]
    fn standard_webhooks_signature_with_rotation_and_tolerance() {
        let key = signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let body = br#"{"type":"contact.created","timestamp":"2022-11-03T20:26:10.344522Z","data":{"id":"1"}}"#;
        let now_ms = 1_700_000_000_000;
        let ts = now_ms / 1000;
        let sig = sign_standard_webhook(&key, "msg_1", ts, body);
        let h = headers(&[
            ("webhook-id", "msg_1".into()),
            ("webhook-timestamp", ts.to_string()),
            ("webhook-signature", format!("v1,bm90LWEtc2ln {sig}")),
        ]);
        let other = Sensitive::new(b"other-key".to_vec());
        assert_eq!(
            verify_standard_webhook(
                &h,
                body,
                &[other.clone(), Sensitive::new(key.clone())],
                now_ms
            ),
            Ok(())
        );
        assert_eq!(
            verify_standard_webhook(&h, body, &[other], now_ms),
            Err(Refusal::Mismatch("webhook-signature"))
        );
        assert_eq!(
            verify_standard_webhook(&h, b"{}", &[Sensitive::new(key.clone())], now_ms),
            Err(Refusal::Mismatch("webhook-signature"))
        );
        assert_eq!(
            verify_standard_webhook(&h, body, &[Sensitive::new(key)], now_ms + 6 * 60 * 1000),
            Err(Refusal::StaleTimestamp)
        );
    }

    #[test]
    fn a_timestamp_too_large_for_milliseconds_is_stale_not_a_panic() {
        let key = signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        for ts in [i64::MAX, i64::MIN, i64::MAX / 1000 + 1] {
            let h = headers(&[
                ("webhook-id", "msg_1".into()),
                ("webhook-timestamp", ts.to_string()),
                ("webhook-signature", "v1,bm90LWEtc2ln".into()),
            ]);
            assert_eq!(
                verify_standard_webhook(
                    &h,
                    b"{}",
                    &[Sensitive::new(key.clone())],
                    1_700_000_000_000
                ),
                Err(Refusal::StaleTimestamp),
                "timestamp {ts}"
            );
        }
    }
}
