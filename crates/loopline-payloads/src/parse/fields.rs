//! Words for summaries.

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
