//! Masking of secrets in what Loopline stores and shows. Headers that carry credentials are
//! masked before they are stored; secret fields inside payloads (Label Studio's
//! `project.token`, `task_data_login`, `task_data_password`, …) are masked whenever a body
//! is shown, exported as curl, or searched.

use serde_json::Value;

pub const MASK: &str = "••••••";

/// Header names whose values are credentials.
pub fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "authorization"
            | "proxy-authorization"
            | "cookie"
            | "set-cookie"
            | "x-loopline-token"
            | "x-aquarium-secret"
    ) || [
        "token", "secret", "password", "api-key", "apikey", "x-auth", "session",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// A header value as stored: credentials masked, keeping an auth scheme word for context.
pub fn mask_header(name: &str, value: &str) -> String {
    if !is_secret_header(name) {
        return value.to_string();
    }
    match value.split_once(' ') {
        Some((scheme, _))
            if name.eq_ignore_ascii_case("authorization")
                || name.eq_ignore_ascii_case("proxy-authorization") =>
        {
            format!("{scheme} {MASK}")
        }
        _ => MASK.to_string(),
    }
}

/// JSON keys whose values are secrets wherever they appear.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    matches!(
        k.as_str(),
        "token"
            | "password"
            | "secret"
            | "api_key"
            | "apikey"
            | "access_token"
            | "refresh_token"
            | "task_data_login"
            | "task_data_password"
            | "aws_access_key_id"
            | "aws_secret_access_key"
            | "aws_session_token"
            | "secret_access_key"
            | "session_token"
            | "private_key"
            | "client_secret"
            | "authorization"
    ) || k.ends_with("_password")
        || k.ends_with("_secret")
        || k.ends_with("_token")
        || k.ends_with("_api_key")
}

/// Masks secret fields in place. Returns the paths that were masked (`project.token`).
/// Nulls and empty strings stay as they are: they reveal nothing and help debugging.
pub fn redact_json(value: &mut Value) -> Vec<String> {
    let mut paths = Vec::new();
    walk(value, String::new(), &mut paths);
    paths
}

fn walk(value: &mut Value, path: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                let reveals = !matches!(v, Value::Null) && v.as_str() != Some("");
                if is_secret_key(k) && reveals && !v.is_object() && !v.is_array() {
                    *v = Value::String(MASK.to_string());
                    out.push(child);
                } else {
                    walk(v, child, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                walk(v, format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_label_studio_project_secrets() {
        let raw = r#"{"project": {"id": 2, "token": "F48Hc5bF4xtepDljD4iOtuCUqJCYMJANQxKwM9Qz", "task_data_login": "alice", "task_data_password": "pw1", "title": "Birds", "token_count": 3}}"#;
        let original: Value = serde_json::from_str(raw).unwrap();
        let mut v = original.clone();
        let paths = redact_json(&mut v);
        assert_eq!(
            paths,
            vec![
                "project.task_data_login",
                "project.task_data_password",
                "project.token"
            ]
        );
        assert_eq!(v["project"]["token"], MASK);
        assert_eq!(v["project"]["title"], "Birds");
        assert_eq!(v["project"]["token_count"], 3);
        let shown = crate::redact_scan::redact_scan(raw).text;
        assert!(!shown.contains("F48Hc5bF"));
        assert!(!shown.contains("pw1"));
        assert!(shown.contains("\"Birds\""));
    }

    #[test]
    fn masks_credential_headers() {
        assert_eq!(mask_header("X-Loopline-Token", "abc"), MASK);
        assert_eq!(
            mask_header("Authorization", "Bearer abc"),
            format!("Bearer {MASK}")
        );
        assert_eq!(mask_header("X-Aquarium-Secret", "s"), MASK);
        assert_eq!(
            mask_header("Content-Type", "application/json"),
            "application/json"
        );
        assert_eq!(mask_header("webhook-signature", "v1,abc"), "v1,abc");
    }
}
