//! Masking secret fields in a body's text by scanning it, without parsing it into a tree.
//!
//! A body that does not parse (cut short, nested deeper than serde_json's recursion limit,
//! a lone surrogate escape such as `"\ud800"`) still carries Label Studio's `project.token`
//! in clear. Redaction must not depend on the parse succeeding, so this scanner walks the
//! text token by token with an explicit stack (no recursion, so no depth limit), decodes
//! each object key as JSON would, and masks the scalar value of every secret key, keeping
//! the sender's formatting everywhere else. What it cannot read as JSON it copies as it is,
//! except that a secret value cut off by the end of the body is masked to the end.

use crate::redact::{is_secret_key, MASK};

/// The text with every secret value masked, and the paths masked (`project.token`).
pub struct Scanned {
    pub text: String,
    pub paths: Vec<String>,
}

enum Frame {
    /// An object, with the key whose value comes next (or came last).
    Object(Option<String>),
    /// An array, with the index of the item being read.
    Array(usize),
}

/// Masks secret values in `raw`, which may be any text, JSON or not.
pub fn redact_scan(raw: &str) -> Scanned {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut paths = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    // Set after a secret key's `:`: the next scalar value is masked.
    let mut mask_next = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' => {
                let end = string_end(bytes, i);
                let token = &raw[i..end];
                let is_key = matches!(stack.last(), Some(Frame::Object(_)))
                    && next_significant(bytes, end) == Some(b':')
                    && !mask_next;
                if is_key {
                    let key = decode_string(token);
                    if let Some(Frame::Object(k)) = stack.last_mut() {
                        *k = Some(key);
                    }
                    out.push_str(token);
                    // Copy through the colon, then decide about the value.
                    let colon = next_significant_at(bytes, end).unwrap_or(bytes.len());
                    out.push_str(&raw[end..(colon + 1).min(bytes.len())]);
                    i = (colon + 1).min(bytes.len());
                    mask_next = current_key(&stack).is_some_and(is_secret_key);
                    continue;
                }
                if mask_next && token != "\"\"" {
                    out.push('"');
                    out.push_str(MASK);
                    out.push('"');
                    paths.push(path_of(&stack));
                } else {
                    out.push_str(token);
                }
                mask_next = false;
                i = end;
                continue;
            }
            b'{' => {
                mask_next = false;
                stack.push(Frame::Object(None));
            }
            b'[' => {
                mask_next = false;
                stack.push(Frame::Array(0));
            }
            b'}' | b']' => {
                mask_next = false;
                stack.pop();
            }
            b',' => {
                mask_next = false;
                if let Some(Frame::Array(n)) = stack.last_mut() {
                    *n += 1;
                }
            }
            _ if mask_next && !b.is_ascii_whitespace() => {
                // A number, true, false or null: a bare scalar up to the next delimiter.
                let end = scalar_end(bytes, i);
                let word = &raw[i..end];
                if word == "null" {
                    out.push_str(word);
                } else {
                    out.push('"');
                    out.push_str(MASK);
                    out.push('"');
                    paths.push(path_of(&stack));
                }
                mask_next = false;
                i = end;
                continue;
            }
            _ => {}
        }
        // Copy one character (not one byte: the text is UTF-8).
        let len = utf8_len(b);
        let end = (i + len).min(bytes.len());
        out.push_str(&raw[i..end]);
        i = end;
    }
    Scanned { text: out, paths }
}

fn current_key(stack: &[Frame]) -> Option<&str> {
    match stack.last() {
        Some(Frame::Object(Some(k))) => Some(k.as_str()),
        _ => None,
    }
}

fn path_of(stack: &[Frame]) -> String {
    let mut p = String::new();
    for f in stack {
        match f {
            Frame::Object(Some(k)) => {
                if !p.is_empty() {
                    p.push('.');
                }
                p.push_str(k);
            }
            Frame::Object(None) => {}
            Frame::Array(n) => p.push_str(&format!("[{n}]")),
        }
    }
    p
}

/// The index just past the string token starting at `start` (a `"`), or the end of the
/// text when it is never closed.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

fn scalar_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start;
    while i < bytes.len() && !matches!(bytes[i], b',' | b'}' | b']' | b'"' | b'{' | b'[') {
        if bytes[i].is_ascii_whitespace() {
            break;
        }
        i += 1;
    }
    // Keep at least one character, so the scan always moves on.
    i.max((start + utf8_len(bytes[start])).min(bytes.len()))
}

fn next_significant_at(bytes: &[u8], from: usize) -> Option<usize> {
    (from..bytes.len()).find(|&i| !bytes[i].is_ascii_whitespace())
}

fn next_significant(bytes: &[u8], from: usize) -> Option<u8> {
    next_significant_at(bytes, from).map(|i| bytes[i])
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xF7 => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// A string token's text as JSON means it: escapes decoded (`"\u0074oken"` is `token`), a
/// lone surrogate as U+FFFD, an unclosed string up to the end.
fn decode_string(token: &str) -> String {
    let inner = token.strip_prefix('"').unwrap_or(token);
    let inner = inner.strip_suffix('"').unwrap_or(inner);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let unit = u32::from_str_radix(&hex, 16).unwrap_or(0xFFFD);
                out.push(char::from_u32(unit).unwrap_or('\u{FFFD}'));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    // Surrogate pairs decode to two U+FFFD above; key names that matter are ASCII.
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "F48Hc5bF4xtepDljD4iOtuCUqJCYMJANQxKwM9Qz";

    fn masked(raw: &str) -> Scanned {
        let s = redact_scan(raw);
        assert!(!s.text.contains(TOKEN), "token left in: {}", s.text);
        s
    }

    #[test]
    fn masks_like_the_tree_walk_on_a_well_formed_body() {
        let raw = format!(
            r#"{{"project": {{"id": 2, "token": "{TOKEN}", "title": "Birds", "token_count": 3, "task_data_password": "pw1", "api_key": null, "secret": ""}}}}"#
        );
        let s = masked(&raw);
        assert_eq!(s.paths, vec!["project.token", "project.task_data_password"]);
        let v: serde_json::Value = serde_json::from_str(&s.text).unwrap();
        assert_eq!(v["project"]["token"], MASK);
        assert_eq!(v["project"]["title"], "Birds");
        assert_eq!(v["project"]["token_count"], 3);
        assert_eq!(v["project"]["api_key"], serde_json::Value::Null);
        assert_eq!(v["project"]["secret"], "");
    }

    #[test]
    fn masks_a_body_nested_past_the_parsers_depth_limit() {
        let deep = format!(
            r#"{{"project": {{"token": "{TOKEN}"}}, "x": {}1{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        assert!(serde_json::from_str::<serde_json::Value>(&deep).is_err());
        assert_eq!(masked(&deep).paths, vec!["project.token"]);
    }

    #[test]
    fn masks_a_body_with_a_lone_surrogate_escape() {
        let raw = format!(r#"{{"note": "\ud800", "project": {{"token": "{TOKEN}"}}}}"#);
        assert!(serde_json::from_str::<serde_json::Value>(&raw).is_err());
        assert_eq!(masked(&raw).paths, vec!["project.token"]);
    }

    #[test]
    fn masks_a_body_cut_short_even_inside_the_secret() {
        let raw = format!(r#"{{"project": {{"id": 2, "token": "{TOKEN}", "title": "Bi"#);
        masked(&raw);
        let cut = format!(r#"{{"project": {{"token": "{}"#, &TOKEN[..20]);
        let s = redact_scan(&cut);
        assert!(!s.text.contains(&TOKEN[..20]), "{}", s.text);
    }

    #[test]
    fn escaped_key_names_and_scalar_secrets_are_masked() {
        let raw = r#"{"\u0074oken": "abc123", "pin_password": 1234, "ok": true}"#;
        let s = redact_scan(raw);
        assert!(
            !s.text.contains("abc123") && !s.text.contains("1234"),
            "{}",
            s.text
        );
        assert!(s.text.contains(r#""ok": true"#));
    }

    #[test]
    fn a_secret_whose_value_is_an_object_is_walked_not_masked_whole() {
        let raw = r#"{"secret": {"name": "n", "token": "t0k"}, "items": [{"token": "a"}, {"token": "b"}]}"#;
        let s = redact_scan(raw);
        assert_eq!(
            s.paths,
            vec!["secret.token", "items[0].token", "items[1].token"]
        );
        assert!(s.text.contains(r#""name": "n""#));
    }

    #[test]
    fn text_that_is_not_json_comes_back_as_it_was() {
        for raw in ["", "hello", "token: abc", "{\"a\":", "ü{\"é\": [1, 2"] {
            assert_eq!(redact_scan(raw).text, raw);
        }
    }
}
