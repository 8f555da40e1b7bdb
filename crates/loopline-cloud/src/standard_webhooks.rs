//! Signing an outbound webhook the Standard Webhooks way (standardwebhooks.com, v1): the
//! receiver checks `webhook-signature` against HMAC-SHA256 of `{id}.{timestamp}.{body}`
//! keyed with the shared secret, and rejects a timestamp too far from its clock, so a
//! captured delivery cannot be replayed later. The same `webhook-id` on every retry lets the
//! receiver drop a delivery it already handled.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use loopline_core::{ApiError, ErrorCode};
use sha2::Sha256;

/// The prefix the spec gives secrets, before their base64 bytes.
pub const SECRET_PREFIX: &str = "whsec_";

/// The key bytes of a `whsec_<base64>` secret. The error never repeats the secret.
pub fn secret_key(secret: &str) -> Result<Vec<u8>, ApiError> {
    let encoded = secret.trim().strip_prefix(SECRET_PREFIX).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidArgument,
            "A Standard Webhooks secret starts with 'whsec_' followed by base64. Store one with \
             `loopline secret set NAME` (the receiving service shows it when you create its endpoint).",
        )
    })?;
    match STANDARD.decode(encoded) {
        Ok(key) if !key.is_empty() => Ok(key),
        _ => Err(ApiError::new(
            ErrorCode::InvalidArgument,
            "The Standard Webhooks secret's part after 'whsec_' is not base64. Copy it again \
             from the receiving service and store it with `loopline secret set NAME`.",
        )),
    }
}

/// The `webhook-signature` value: `v1,` and the base64 HMAC-SHA256.
pub fn signature(key: &[u8], id: &str, timestamp_secs: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The three headers of a delivery; without a key, only the id and the timestamp.
pub fn headers(
    key: Option<&[u8]>,
    id: &str,
    timestamp_secs: i64,
    body: &[u8],
) -> Vec<(String, String)> {
    let mut h = vec![
        ("webhook-id".to_string(), id.to_string()),
        ("webhook-timestamp".to_string(), timestamp_secs.to_string()),
    ];
    if let Some(key) = key {
        h.push((
            "webhook-signature".to_string(),
            signature(key, id, timestamp_secs, body),
        ));
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    // The test vector of the Standard Webhooks reference libraries.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1614265330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;

    #[test]
    fn signs_the_reference_vector() {
        let key = secret_key(SECRET).unwrap();
        assert_eq!(
            signature(&key, ID, TS, BODY),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let h = headers(Some(&key), ID, TS, BODY);
        assert_eq!(h.len(), 3);
        assert_eq!(h[0], ("webhook-id".into(), ID.into()));
        assert_eq!(headers(None, ID, TS, BODY).len(), 2);
    }

    #[test]
    fn a_wrong_secret_is_refused_without_repeating_it() {
        for bad in [
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_not base64!",
            "whsec_",
        ] {
            let e = secret_key(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidArgument);
            assert!(!e.message.contains("MfKQ9r8"), "{}", e.message);
            assert!(e.message.contains("loopline secret set"), "{}", e.message);
        }
    }
}
