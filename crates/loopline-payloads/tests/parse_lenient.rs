//! The one-pass parser against a plain reference written over `serde_json::Value`: on every
//! fixture, and on every fixture with each field a parser reads replaced by values of every
//! other shape (null, bool, numbers, numeric strings, lists, objects) or removed. Payloads
//! in the wild differ from our captures; whatever shape a field takes, the parser must
//! neither fail nor disagree with the obvious reading.

mod common;

use common::manifest_dir;
use loopline_core::EventKind;
use loopline_payloads::parse::parse;
use serde_json::{json, Map, Value};

/// What both readings are compared on.
#[derive(Debug, PartialEq)]
struct Reading {
    kind: EventKind,
    action: Option<String>,
    project_id: Option<i64>,
    project_name: Option<String>,
    annotation_ids: Vec<i64>,
    task_ids: Vec<i64>,
    useful: Option<i64>,
    total: Option<i64>,
    issue_id: Option<String>,
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn string(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

fn text(v: Option<&Value>) -> Option<String> {
    string(v).or_else(|| v.and_then(int).map(|i| i.to_string()))
}

fn ref_id(v: &Value) -> Option<i64> {
    match v {
        Value::Object(o) => o.get("id").and_then(int),
        other => int(other),
    }
}

fn refs(v: Option<&Value>) -> Vec<i64> {
    match v {
        None => vec![],
        Some(Value::Array(items)) => items.iter().filter_map(ref_id).collect(),
        Some(other) => ref_id(other).into_iter().collect(),
    }
}

fn reference(body: &[u8]) -> Reading {
    let v: Value = serde_json::from_slice(body).expect("the reference reads JSON only");
    let empty = Map::new();
    let top = v.as_object();
    let get = |k: &str| top.and_then(|o| o.get(k));
    let mut r = Reading {
        kind: EventKind::Unknown,
        action: None,
        project_id: None,
        project_name: None,
        annotation_ids: vec![],
        task_ids: vec![],
        useful: None,
        total: None,
        issue_id: None,
    };
    let Some(top) = top else { return r };
    let project = get("project");
    let project_obj = project.and_then(Value::as_object).unwrap_or(&empty);

    // Label Studio
    if let Some(action) = string(get("action")).filter(|a| {
        !a.is_empty()
            && a.contains('_')
            && a.chars()
                .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
    }) {
        let items: Vec<AnnotationRef> = match get("annotation") {
            None => vec![],
            Some(Value::Array(a)) => a.iter().map(annotation).collect(),
            Some(one) => vec![annotation(one)],
        };
        r.kind = EventKind::LabelStudio;
        r.action = Some(action);
        r.project_id = project_obj
            .get("id")
            .and_then(int)
            .or_else(|| project.and_then(int))
            .or_else(|| items.iter().find_map(|a| a.3));
        r.project_name = string(project_obj.get("title"));
        r.annotation_ids = items.iter().filter_map(|a| a.1).collect();
        r.annotation_ids.extend(refs(get("annotations")));
        r.task_ids = refs(get("task"));
        r.task_ids.extend(refs(get("tasks")));
        if r.task_ids.is_empty() {
            r.task_ids = items.iter().filter(|a| a.0).filter_map(|a| a.2).collect();
            r.task_ids.dedup();
        }
        r.useful = project_obj.get("useful_annotation_number").and_then(int);
        r.total = project_obj.get("total_annotations_number").and_then(int);
        return r;
    }
    // Aquarium
    if let Some(event) = string(get("event")) {
        if top.contains_key("issue") || event.starts_with("issue") {
            let issue = get("issue").and_then(Value::as_object).unwrap_or(&empty);
            r.kind = EventKind::Aquarium;
            r.action = Some(event);
            (r.project_name, r.project_id) = match project {
                None => (None, None),
                Some(Value::String(s)) => (Some(s.clone()), None),
                Some(_) => (
                    string(project_obj.get("name")).or_else(|| string(project_obj.get("id"))),
                    project_obj.get("id").and_then(int),
                ),
            };
            r.issue_id = text(issue.get("id"));
            return r;
        }
    }
    // Standard Webhooks
    if let Some(ty) = string(get("type")) {
        let data = get("data").and_then(Value::as_object).unwrap_or(&empty);
        r.kind = EventKind::Generic;
        r.action = Some(ty);
        r.project_id = data.get("project_id").and_then(int);
        return r;
    }
    r.action = string(get("action"))
        .or_else(|| string(get("event")))
        .or_else(|| string(get("type")));
    r
}

/// (an object?, id, task, project, was_cancelled)
type AnnotationRef = (bool, Option<i64>, Option<i64>, Option<i64>, bool);

fn annotation(v: &Value) -> AnnotationRef {
    match v.as_object() {
        Some(o) => (
            true,
            o.get("id").and_then(int),
            o.get("task").and_then(ref_id),
            o.get("project").and_then(ref_id),
            o.get("was_cancelled") == Some(&Value::Bool(true)),
        ),
        None => (false, int(v), None, None, false),
    }
}

fn reading(body: &[u8]) -> Reading {
    let p = parse(body).unwrap_or_else(|e| {
        panic!(
            "{}: {}",
            e.message,
            String::from_utf8_lossy(&body[..body.len().min(300)])
        )
    });
    // The summary is made from these; it must always say something.
    assert!(!p.summary.is_empty(), "{}", String::from_utf8_lossy(body));
    Reading {
        kind: p.kind(),
        action: p.action,
        project_id: p.project_id,
        project_name: p.project_name,
        annotation_ids: p.annotation_ids,
        task_ids: p.task_ids,
        useful: p.useful_annotation_number,
        total: p.total_annotations_number,
        issue_id: p.issue_id,
    }
}

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let root = manifest_dir().join("tests/fixtures");
    let mut out = Vec::new();
    for dir in ["label-studio", "aquarium"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) == Some("json") {
                out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Keys some parser reads; only their values are varied (the rest are skipped unread).
const READ_KEYS: &[&str] = &[
    "action",
    "event",
    "type",
    "project",
    "annotation",
    "annotations",
    "task",
    "tasks",
    "issue",
    "data",
    "id",
    "title",
    "name",
    "useful_annotation_number",
    "total_annotations_number",
    "was_cancelled",
    "elements",
    "element_type",
    "issue_name",
    "project_id",
];

/// Paths (object keys and list indexes) to every value under a read key, three levels deep.
fn paths(v: &Value, prefix: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    if prefix.len() >= 3 {
        return;
    }
    match v {
        Value::Object(o) => {
            for (k, child) in o {
                if READ_KEYS.contains(&k.as_str()) {
                    prefix.push(Value::String(k.clone()));
                    out.push(prefix.clone());
                    paths(child, prefix, out);
                    prefix.pop();
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate().take(2) {
                prefix.push(json!(i));
                out.push(prefix.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn at<'a>(v: &'a mut Value, path: &[Value]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |node, step| match step {
        Value::String(k) => node.get_mut(k.as_str()),
        Value::Number(i) => node.get_mut(i.as_u64()? as usize),
        _ => None,
    })
}

#[test]
fn fixtures_read_as_the_reference_reads_them() {
    for (name, body) in fixtures() {
        assert_eq!(reading(&body), reference(&body), "{name}");
    }
}

#[test]
fn a_byte_order_mark_first_changes_nothing() {
    for (name, body) in fixtures() {
        let marked = [b"\xEF\xBB\xBF".as_slice(), &body].concat();
        assert_eq!(reading(&marked), reading(&body), "{name} after a BOM");
        assert_eq!(
            loopline_payloads::parse::search_text(None, "", &marked),
            loopline_payloads::parse::search_text(None, "", &body),
            "{name}: the search text after a BOM"
        );
    }
    // Only at the very start: anywhere else it is not JSON.
    assert!(loopline_payloads::parse::parse(b" \xEF\xBB\xBF{}").is_err());
}

#[test]
fn every_read_field_in_every_shape_reads_as_the_reference_reads_it() {
    let shapes = [
        json!(null),
        json!(true),
        json!(7),
        json!(-3),
        json!(2.0),
        json!(2.5),
        json!(18446744073709551615u64),
        json!(" 12 "),
        json!("ANNOTATION_CREATED"),
        json!("issue-exported"),
        json!([]),
        json!([1, {"id": 4}, "5", [6], null]),
        json!({}),
        json!({"id": 3, "title": "T", "name": "n", "task": {"id": 8}}),
        json!({"id": {"id": 1}}),
    ];
    let mut cases = 0;
    for (name, body) in fixtures() {
        let original: Value = serde_json::from_slice(&body).unwrap();
        let mut all = Vec::new();
        paths(&original, &mut Vec::new(), &mut all);
        for path in &all {
            for shape in &shapes {
                let mut v = original.clone();
                if let Some(slot) = at(&mut v, path) {
                    *slot = shape.clone();
                }
                let b = serde_json::to_vec(&v).unwrap();
                assert_eq!(reading(&b), reference(&b), "{name} with {path:?} = {shape}");
                cases += 1;
            }
            // And the field missing altogether.
            let mut v = original.clone();
            let (last, parent) = path.split_last().unwrap();
            if let (Some(Value::Object(o)), Value::String(k)) = (at(&mut v, parent), last) {
                o.remove(k);
                let b = serde_json::to_vec(&v).unwrap();
                assert_eq!(reading(&b), reference(&b), "{name} without {path:?}");
                cases += 1;
            }
        }
    }
    assert!(cases > 2000, "only {cases} variants were tried");
}

#[test]
fn top_levels_that_are_not_objects_are_unknown() {
    for body in [
        "[]",
        "[{\"action\": \"A_B\"}]",
        "\"A_B\"",
        "3",
        "null",
        "true",
    ] {
        let r = reading(body.as_bytes());
        assert_eq!(r.kind, EventKind::Unknown, "{body}");
        assert_eq!(r, reference(body.as_bytes()), "{body}");
    }
}
