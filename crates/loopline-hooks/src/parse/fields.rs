//! Lenient readers for raw JSON values: a number or a numeric string is an id; an object
//! with an `id` is a reference; a list of either is a list of ids.

use serde::Deserialize;
use serde_json::value::RawValue;

// The readers look at a value's first byte before parsing it: trying a shape and failing
// makes serde_json build an error message, and on the receiver's hot path that allocation
// was a measurable share of each request.

fn first_byte(raw: &RawValue) -> u8 {
    raw.get().as_bytes().first().copied().unwrap_or(b' ')
}

pub(crate) fn string(raw: Option<&RawValue>) -> Option<String> {
    let raw = raw?;
    (first_byte(raw) == b'"')
        .then(|| serde_json::from_str::<String>(raw.get()).ok())
        .flatten()
}

pub(crate) fn int(raw: Option<&RawValue>) -> Option<i64> {
    let raw = raw?;
    let text = raw.get();
    match first_byte(raw) {
        b'-' | b'0'..=b'9' => text.parse::<i64>().ok().or_else(|| {
            text.parse::<f64>()
                .ok()
                .filter(|f| f.fract() == 0.0)
                .map(|f| f as i64)
        }),
        b'"' => serde_json::from_str::<String>(text)
            .ok()?
            .trim()
            .parse()
            .ok(),
        _ => None,
    }
}

pub(crate) fn is_list(raw: &RawValue) -> bool {
    first_byte(raw) == b'['
}

pub(crate) fn is_object(raw: &RawValue) -> bool {
    first_byte(raw) == b'{'
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct IdOnly<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
}

/// One reference: a bare id, or an object carrying `id`.
pub(crate) fn id_of(raw: &RawValue) -> Option<i64> {
    if is_object(raw) {
        int(serde_json::from_str::<IdOnly<'_>>(raw.get()).ok()?.id)
    } else {
        int(Some(raw))
    }
}

/// Ids from a reference or a list of references.
pub(crate) fn ids(raw: Option<&RawValue>) -> Vec<i64> {
    let Some(raw) = raw else { return Vec::new() };
    if is_list(raw) {
        serde_json::from_str::<Vec<&RawValue>>(raw.get())
            .map(|items| items.into_iter().filter_map(id_of).collect())
            .unwrap_or_default()
    } else {
        id_of(raw).into_iter().collect()
    }
}

/// `ANNOTATIONS_DELETED` → `Annotations deleted`.
pub fn humanize_action(action: &str) -> String {
    let words = action.replace(['_', '-'], " ").to_lowercase();
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// "1, 2, 3 and 4 more" — lists in summaries stay one line.
pub(crate) fn list_ids(ids: &[i64], max: usize) -> String {
    let shown: Vec<String> = ids.iter().take(max).map(|i| i.to_string()).collect();
    let mut s = shown.join(", ");
    if ids.len() > max {
        s.push_str(&format!(" and {} more", ids.len() - max));
    }
    s
}
