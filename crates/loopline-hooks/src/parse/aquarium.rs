//! Aquarium: `{event, project, issue: {id, elements: [...]}}`. Parsed leniently: `project`
//! may be a name or an object, elements may be frames or crops, and unknown fields are kept
//! in the stored body.

use loopline_core::EventKind;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::fields::{int, string};
use super::{Envelope, Parsed};

#[derive(Deserialize, Default)]
#[serde(default)]
struct Issue<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    name: Option<&'a RawValue>,
    #[serde(borrow)]
    elements: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Element<'a> {
    #[serde(borrow)]
    element_type: Option<&'a RawValue>,
    #[serde(borrow)]
    issue_name: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ProjectObject<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    name: Option<&'a RawValue>,
}

pub(crate) fn parse(env: &Envelope<'_>) -> Option<Parsed> {
    let event = string(env.event)?;
    if env.issue.is_none() && !event.starts_with("issue") {
        return None;
    }
    let issue = env
        .issue
        .and_then(|raw| serde_json::from_str::<Issue<'_>>(raw.get()).ok())
        .unwrap_or_default();
    let (project_name, project_id) = match env.project {
        Some(raw) => match string(Some(raw)) {
            Some(name) => (Some(name), None),
            None => {
                let obj = serde_json::from_str::<ProjectObject<'_>>(raw.get()).unwrap_or_default();
                (string(obj.name).or_else(|| string(obj.id)), int(obj.id))
            }
        },
        None => (None, None),
    };
    let issue_id = string(issue.id).or_else(|| int(issue.id).map(|i| i.to_string()));
    // Each element on its own: one odd element must not hide the others.
    let elements: Vec<Element<'_>> = issue
        .elements
        .and_then(|raw| serde_json::from_str::<Vec<&RawValue>>(raw.get()).ok())
        .unwrap_or_default()
        .into_iter()
        .map(|raw| serde_json::from_str::<Element<'_>>(raw.get()).unwrap_or_default())
        .collect();
    let issue_name =
        string(issue.name).or_else(|| elements.iter().find_map(|e| string(e.issue_name)));
    let frames = elements
        .iter()
        .filter(|e| string(e.element_type).as_deref() == Some("frame"))
        .count();
    let crops = elements
        .iter()
        .filter(|e| string(e.element_type).as_deref() == Some("crop"))
        .count();

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
