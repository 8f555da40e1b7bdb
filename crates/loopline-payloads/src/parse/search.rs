//! The text a payload contributes to full-text search: its words, not its structure.

use serde_json::Value;

use crate::redact::is_secret_key;
use crate::redact_scan::redact_scan;

/// Keys whose values are bulky configuration rather than content (Label Studio repeats the
/// whole labeling config in every payload) or secrets; they are left out of the index.
const SKIPPED_KEYS: &[&str] = &[
    "label_config",
    "parsed_label_config",
    "control_weights",
    "label_config_hash",
];
const MAX_TEXT: usize = 16 * 1024;

/// Action, summary and every string value in the body, capped so one huge payload cannot
/// bloat the index.
pub fn search_text(action: Option<&str>, summary: &str, body: &[u8]) -> String {
    let mut out = String::with_capacity(1024);
    if let Some(a) = action {
        out.push_str(a);
        out.push(' ');
    }
    out.push_str(summary);
    match serde_json::from_slice::<Value>(super::json_text(body)) {
        Ok(v) => collect(&v, &mut out),
        Err(_) => {
            // Unparsed text is indexed masked: searching for a token must not find it.
            let text = String::from_utf8_lossy(&body[..body.len().min(MAX_TEXT)]);
            out.push(' ');
            out.push_str(&redact_scan(&text).text);
        }
    }
    if out.len() > MAX_TEXT {
        let mut cut = MAX_TEXT;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

fn collect(v: &Value, out: &mut String) {
    if out.len() > MAX_TEXT {
        return;
    }
    match v {
        Value::String(s) => {
            out.push(' ');
            out.push_str(s);
        }
        Value::Number(n) => {
            out.push(' ');
            out.push_str(&n.to_string());
        }
        Value::Array(items) => items.iter().for_each(|i| collect(i, out)),
        Value::Object(map) => {
            for (k, val) in map {
                if SKIPPED_KEYS.contains(&k.as_str()) || is_secret_key(k) {
                    continue;
                }
                collect(val, out);
            }
        }
        _ => {}
    }
}
