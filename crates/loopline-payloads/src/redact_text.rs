//! Masking secrets in free text (a diagnostics report, log lines), where no key says which
//! value is a secret. Two nets: the values Loopline itself stores (it knows them, so it can
//! look for them verbatim, JSON-escaped too), and credential shapes that need no list
//! (`Bearer …`, `Token …`, AWS access key ids, Standard Webhooks `whsec_` keys).

use crate::redact::MASK;

/// Shorter values are not looked for: masking every "ab" would shred the report and a
/// secret that short protects nothing anyway.
const MIN_VALUE_CHARS: usize = 4;

/// `text` with every occurrence of each value masked, and how many were masked.
pub fn mask_values(text: &str, values: &[&str]) -> (String, u32) {
    let mut out = text.to_string();
    let mut count = 0u32;
    // Longest first, so a secret that contains another is masked whole.
    let mut sorted: Vec<&str> = values
        .iter()
        .copied()
        .filter(|v| v.chars().count() >= MIN_VALUE_CHARS)
        .collect();
    sorted.sort_by_key(|v| std::cmp::Reverse(v.len()));
    sorted.dedup();
    for value in sorted {
        let escaped = serde_json::to_string(value).unwrap_or_default();
        let escaped = escaped.trim_matches('"');
        for needle in [value, escaped] {
            if needle.is_empty() {
                continue;
            }
            let n = out.matches(needle).count() as u32;
            if n > 0 {
                out = out.replace(needle, MASK);
                count += n;
            }
        }
    }
    (out, count)
}

/// `text` with credential-shaped words masked, and how many were.
pub fn mask_credential_shapes(text: &str) -> (String, u32) {
    let mut out = String::with_capacity(text.len());
    let mut count = 0u32;
    let mut mask_next = false;
    for piece in split_keep(text) {
        let word = piece.trim_matches(|c: char| !is_word_char(c));
        if word.is_empty() {
            out.push_str(piece);
            continue;
        }
        let start = piece.find(word).unwrap_or(0);
        let (before, after) = (&piece[..start], &piece[start + word.len()..]);
        if (mask_next && looks_like_token(word)) || is_credential(word) {
            out.push_str(before);
            out.push_str(MASK);
            out.push_str(after);
            count += 1;
            mask_next = false;
            continue;
        }
        mask_next = is_auth_scheme(word) && after.trim().is_empty();
        out.push_str(piece);
    }
    (out, count)
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '+' | '/' | '=' | '~')
}

/// After `Bearer`/`Token`: a word as long and as mixed as a token, not "token rotated".
fn looks_like_token(word: &str) -> bool {
    word.len() >= 20 || (word.len() >= 8 && word.chars().any(|c| c.is_ascii_digit()))
}

fn is_auth_scheme(word: &str) -> bool {
    ["bearer", "token", "basic"]
        .iter()
        .any(|s| word.eq_ignore_ascii_case(s))
}

fn is_credential(word: &str) -> bool {
    let aws_key_id = word.len() == 20
        && ["AKIA", "ASIA"].iter().any(|p| word.starts_with(p))
        && word
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    aws_key_id || (word.starts_with("whsec_") && word.len() > 6)
}

/// Splits on whitespace and quotes, keeping the separators with the piece before them.
fn split_keep(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() || c == '"' {
            pieces.push(&text[start..i + c.len_utf8()]);
            start = i + c.len_utf8();
        }
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_are_masked_raw_and_json_escaped() {
        let secret = r#"pa"ss\word-1234"#;
        let json = serde_json::to_string(&format!("value {secret} end")).unwrap();
        let text = format!("{json} and {secret}");
        let (out, n) = mask_values(&text, &[secret, "ab"]);
        assert!(
            !out.contains("ss\\word") && !out.contains("word-1234"),
            "{out}"
        );
        assert_eq!(n, 2);
        // Too short to look for.
        assert!(out.contains("and"));
    }

    #[test]
    fn a_longer_secret_is_masked_whole_before_one_it_contains() {
        let (out, _) = mask_values("xx abcdefgh yy", &["abcd", "abcdefgh"]);
        assert_eq!(out, format!("xx {MASK} yy"));
    }

    #[test]
    fn credential_shapes_are_masked() {
        let text =
            "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30 sent; key AKIAIOSFODNN7EXAMPLE, \
                    \"Token 0123456789abcdef\" whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw ok";
        let (out, n) = mask_credential_shapes(text);
        for s in [
            "eyJhbG",
            "AKIAIOSFODNN7EXAMPLE",
            "0123456789abcdef",
            "whsec_Mf",
        ] {
            assert!(!out.contains(s), "{s} left in {out}");
        }
        assert_eq!(n, 4);
        assert!(
            out.contains("Authorization: Bearer ") && out.ends_with(" ok"),
            "{out}"
        );
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        let text = "INFO loopline: token rotated for source src_1\nlistening on 127.0.0.1:8787";
        assert_eq!(mask_credential_shapes(text), (text.to_string(), 0));
    }
}
