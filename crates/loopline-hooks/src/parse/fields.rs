//! Lenient readers for raw JSON values: a number or a numeric string is an id; an object
//! with an `id` is a reference; a list of either is a list of ids.

use serde::Deserialize;
use serde_json::value::RawValue;

pub(crate) fn string(raw: Option<&RawValue>) -> Option<String> {
    serde_json::from_str::<String>(raw?.get()).ok()
}

pub(crate) fn int(raw: Option<&RawValue>) -> Option<i64> {
    let text = raw?.get();
    serde_json::from_str::<i64>(text)
        .ok()
        .or_else(|| {
            serde_json::from_str::<f64>(text)
                .ok()
                .filter(|f| f.fract() == 0.0)
                .map(|f| f as i64)
        })
        .or_else(|| {
            serde_json::from_str::<String>(text)
                .ok()?
                .trim()
                .parse()
                .ok()
        })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct IdOnly<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
}

/// One reference: a bare id, or an object carrying `id`.
pub(crate) fn id_of(raw: &RawValue) -> Option<i64> {
    int(Some(raw)).or_else(|| int(serde_json::from_str::<IdOnly<'_>>(raw.get()).ok()?.id))
}

/// Ids from a reference or a list of references.
pub(crate) fn ids(raw: Option<&RawValue>) -> Vec<i64> {
    let Some(raw) = raw else { return Vec::new() };
    match serde_json::from_str::<Vec<&RawValue>>(raw.get()) {
        Ok(items) => items.into_iter().filter_map(id_of).collect(),
        Err(_) => id_of(raw).into_iter().collect(),
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
