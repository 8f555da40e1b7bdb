//! Real payloads (captured from Label Studio 1.23.2, and Aquarium's documented schema)
//! parse to the right action, project and ids.

mod common;

use common::manifest_dir;
use loopline_core::EventKind;
use loopline_payloads::parse::{parse, search_text};

fn fixture(path: &str) -> Vec<u8> {
    let p = manifest_dir().join("tests/fixtures").join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn annotation_created() {
    let p = parse(&fixture("label-studio/ANNOTATION_CREATED.json")).unwrap();
    assert_eq!(p.kind(), EventKind::LabelStudio);
    assert_eq!(p.action.as_deref(), Some("ANNOTATION_CREATED"));
    assert_eq!(p.project_id, Some(2));
    assert_eq!(p.project_name.as_deref(), Some("Bird parts segmentation"));
    assert_eq!(p.annotation_ids, vec![1]);
    assert_eq!(p.task_ids, vec![1]);
    assert_eq!(p.useful_annotation_number, Some(1));
    assert_eq!(p.total_annotations_number, Some(1));
    assert_eq!(
        p.summary,
        "Annotation 1 created on task 1 in 'Bird parts segmentation'"
    );
}

#[test]
fn annotation_updated() {
    let p = parse(&fixture("label-studio/ANNOTATION_UPDATED.json")).unwrap();
    assert_eq!(p.action.as_deref(), Some("ANNOTATION_UPDATED"));
    assert_eq!(p.project_id, Some(2));
    assert_eq!(p.annotation_ids, vec![1]);
    assert_eq!(p.task_ids, vec![1]);
    assert!(
        p.summary.starts_with("Annotation 1 updated on task 1"),
        "{}",
        p.summary
    );
}

#[test]
fn annotations_deleted() {
    let p = parse(&fixture("label-studio/ANNOTATIONS_DELETED.json")).unwrap();
    assert_eq!(p.action.as_deref(), Some("ANNOTATIONS_DELETED"));
    assert_eq!(p.project_id, Some(2));
    assert_eq!(p.annotation_ids, vec![2]);
    assert!(p.task_ids.is_empty());
}

#[test]
fn tasks_created_and_deleted() {
    let c = parse(&fixture("label-studio/TASKS_CREATED.json")).unwrap();
    assert_eq!(c.action.as_deref(), Some("TASKS_CREATED"));
    assert_eq!(c.project_id, Some(2));
    assert_eq!(c.task_ids.len(), 3);
    assert!(c.summary.starts_with("3 tasks created"), "{}", c.summary);
    let d = parse(&fixture("label-studio/TASKS_DELETED.json")).unwrap();
    assert_eq!(d.action.as_deref(), Some("TASKS_DELETED"));
    assert_eq!(d.task_ids, vec![2]);
}

#[test]
fn project_updated() {
    let p = parse(&fixture("label-studio/PROJECT_UPDATED.json")).unwrap();
    assert_eq!(p.action.as_deref(), Some("PROJECT_UPDATED"));
    assert_eq!(p.project_id, Some(2));
    assert!(p.summary.starts_with("Project '"), "{}", p.summary);
}

#[test]
fn bulk_annotations_created_carry_lists() {
    // ANNOTATIONS_CREATED puts lists in `annotation` and `task`.
    let body = br#"{"action": "ANNOTATIONS_CREATED",
        "annotation": [{"id": 10, "task": 3, "project": 5}, {"id": 11, "task": 4, "project": 5}],
        "task": [{"id": 3}, {"id": 4}],
        "project": {"id": 5, "title": "Birds", "useful_annotation_number": 22, "total_annotations_number": 23}}"#;
    let p = parse(body).unwrap();
    assert_eq!(p.action.as_deref(), Some("ANNOTATIONS_CREATED"));
    assert_eq!(p.annotation_ids, vec![10, 11]);
    assert_eq!(p.task_ids, vec![3, 4]);
    assert_eq!(p.useful_annotation_number, Some(22));
    assert_eq!(p.summary, "2 annotations created on tasks 3, 4 in 'Birds'");
}

#[test]
fn send_payload_off_is_just_the_action() {
    let p = parse(br#"{"action": "ANNOTATION_CREATED"}"#).unwrap();
    assert_eq!(p.kind(), EventKind::LabelStudio);
    assert_eq!(p.action.as_deref(), Some("ANNOTATION_CREATED"));
    assert_eq!(p.project_id, None);
    assert!(p.summary.contains("send_payload"), "{}", p.summary);
}

#[test]
fn skipped_annotation_is_marked() {
    let p = parse(br#"{"action": "ANNOTATION_CREATED", "annotation": {"id": 3, "task": 9, "was_cancelled": true}, "project": {"id": 1, "title": "T"}}"#).unwrap();
    assert!(p.summary.ends_with("(skipped)"), "{}", p.summary);
    assert_eq!(p.task_ids, vec![9]);
}

#[test]
fn aquarium_issue_exported() {
    let p = parse(&fixture("aquarium/issue-exported.json")).unwrap();
    assert_eq!(p.kind(), EventKind::Aquarium);
    assert_eq!(p.action.as_deref(), Some("issue-exported"));
    assert_eq!(p.project_name.as_deref(), Some("bird-parts"));
    assert_eq!(p.issue_id.as_deref(), Some("issue-9d2ca13ffe79"));
    assert!(
        p.summary.contains("3 elements (2 frames, 1 crop)"),
        "{}",
        p.summary
    );
    assert!(p.summary.contains("wing-confusion"), "{}", p.summary);
}

#[test]
fn aquarium_variants_are_parsed_leniently() {
    let p = parse(br#"{"event": "issue-exported", "project": {"name": "birds", "id": 7}, "issue": {"id": 42, "elements": "not a list"}, "extra": [1]}"#).unwrap();
    assert_eq!(p.kind(), EventKind::Aquarium);
    assert_eq!(p.project_name.as_deref(), Some("birds"));
    assert_eq!(p.project_id, Some(7));
    assert_eq!(p.issue_id.as_deref(), Some("42"));
}

#[test]
fn unknown_json_is_kept_as_unknown() {
    let p = parse(br#"{"hello": "world"}"#).unwrap();
    assert_eq!(p.kind(), EventKind::Unknown);
    let p = parse(br#"[1, 2, 3]"#).unwrap();
    assert_eq!(p.kind(), EventKind::Unknown);
    let p = parse(br#"{"action": "something happened"}"#).unwrap();
    assert_eq!(p.kind(), EventKind::Unknown);
    assert_eq!(p.action.as_deref(), Some("something happened"));
}

#[test]
fn malformed_is_an_error_with_a_position() {
    let e = parse(b"{\"action\": ").unwrap_err();
    assert!(e.message.contains("line 1"), "{}", e.message);
    assert!(parse(b"").is_err());
}

#[test]
fn standard_webhooks_payload() {
    let p = parse(br#"{"type": "contact.created", "timestamp": "2022-11-03T20:26:10.344522Z", "data": {"id": "c_1"}}"#).unwrap();
    assert_eq!(p.kind(), EventKind::Generic);
    assert_eq!(p.action.as_deref(), Some("contact.created"));
    assert_eq!(p.summary, "contact.created (c_1)");
}

#[test]
fn search_text_leaves_out_config_and_secrets() {
    let body = fixture("label-studio/ANNOTATION_CREATED.json");
    let text = search_text(Some("ANNOTATION_CREATED"), "Annotation 1 created", &body);
    assert!(text.contains("Beak"));
    assert!(text.contains("bird_001.jpg"));
    assert!(
        !text.contains("F48Hc5bF4xtepDljD4iOtuCUqJCYMJANQxKwM9Qz"),
        "the project token is not indexed"
    );
    assert!(!text.contains("<View>"), "the label config is not indexed");
}

/// Every captured Label Studio body parses as Label Studio, with the action its file is
/// named after and the project it carries.
#[test]
fn every_captured_label_studio_payload_parses() {
    let dir = manifest_dir().join("tests/fixtures/label-studio");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let action = name.split('.').next().unwrap();
        let body = std::fs::read(&path).unwrap();
        let p = parse(&body).unwrap_or_else(|e| panic!("{name}: {}", e.message));
        assert_eq!(p.kind(), EventKind::LabelStudio, "{name}");
        assert_eq!(p.action.as_deref(), Some(action), "{name}");
        let raw: serde_json::Value = serde_json::from_slice(&body).unwrap();
        if let Some(id) = raw["project"]["id"].as_i64() {
            assert_eq!(p.project_id, Some(id), "{name}");
        }
        assert!(!p.summary.is_empty(), "{name}");
        seen += 1;
    }
    assert!(seen >= 6, "fixtures found: {seen}");
}

#[test]
fn captured_bulk_skip_and_no_payload_variants() {
    let bulk = parse(&fixture("label-studio/ANNOTATIONS_CREATED.json")).unwrap();
    let raw: serde_json::Value =
        serde_json::from_slice(&fixture("label-studio/ANNOTATIONS_CREATED.json")).unwrap();
    assert_eq!(
        bulk.annotation_ids.len(),
        raw["annotation"].as_array().unwrap().len()
    );
    assert_eq!(bulk.task_ids.len(), raw["task"].as_array().unwrap().len());
    let skipped = parse(&fixture("label-studio/ANNOTATION_CREATED.skipped.json")).unwrap();
    assert!(
        skipped.summary.ends_with("(skipped)"),
        "{}",
        skipped.summary
    );
    let bare = parse(&fixture(
        "label-studio/ANNOTATION_CREATED.send_payload_false.json",
    ))
    .unwrap();
    assert!(bare.summary.contains("send_payload"), "{}", bare.summary);
    let created = parse(&fixture("label-studio/PROJECT_CREATED.json")).unwrap();
    assert!(
        created.summary.starts_with("Project '"),
        "{}",
        created.summary
    );
}
