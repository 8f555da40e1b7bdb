//! Aquarium: `{event, project, issue: {id, elements: [...]}}`. Parsed leniently: `project`
//! may be a name or an object, elements may be frames or crops, and unknown fields are kept
//! in the stored body.

use loopline_core::EventKind;

use super::{Envelope, Parsed};

pub(crate) fn parse(env: &Envelope) -> Option<Parsed> {
    let event = env.event.string()?;
    let issue = &env.issue;
    if !issue.present && !event.starts_with("issue") {
        return None;
    }
    let project = &env.project;
    let (project_name, project_id) = if !project.present {
        (None, None)
    } else if let Some(name) = project.scalar.string() {
        (Some(name), None)
    } else {
        (
            project.name.string().or_else(|| project.id.string()),
            project.id.int(),
        )
    };
    let issue_id = issue.id.text();
    // Each element on its own: one odd element must not hide the others.
    let elements = &issue.elements;
    let issue_name = issue
        .name
        .string()
        .or_else(|| elements.iter().find_map(|e| e.issue_name.string()));
    let of_type = |t: &str| {
        elements
            .iter()
            .filter(|e| matches!(&e.element_type, super::scan::Scalar::Str(s) if s == t))
            .count()
    };
    let (frames, crops) = (of_type("frame"), of_type("crop"));

    let what = match (&issue_name, &issue_id) {
        (Some(name), Some(id)) => format!("Issue '{name}' ({id})"),
        (Some(name), None) => format!("Issue '{name}'"),
        (None, Some(id)) => format!("Issue {id}"),
        (None, None) => "Issue".to_string(),
    };
    let verb = match event.as_str() {
        "issue-exported" => "exported".to_string(),
        other => other.trim_start_matches("issue-").replace('-', " "),
    };
    let from = project_name
        .as_ref()
        .map(|p| format!(" from '{p}'"))
        .unwrap_or_default();
    let mut summary = format!("{what} {verb}{from}");
    if !elements.is_empty() {
        let mut kinds = Vec::new();
        if frames > 0 {
            kinds.push(format!(
                "{frames} frame{}",
                if frames == 1 { "" } else { "s" }
            ));
        }
        if crops > 0 {
            kinds.push(format!("{crops} crop{}", if crops == 1 { "" } else { "s" }));
        }
        let n = elements.len();
        summary.push_str(&format!(": {n} element{}", if n == 1 { "" } else { "s" }));
        if !kinds.is_empty() {
            summary.push_str(&format!(" ({})", kinds.join(", ")));
        }
    }
    Some(Parsed {
        kind: Some(EventKind::Aquarium),
        action: Some(event),
        project_id,
        project_name,
        summary,
        issue_id,
        ..Parsed::default()
    })
}
