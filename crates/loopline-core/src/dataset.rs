//! Dataset versions (issue 26): what a dataset-version automation freezes at its trigger,
//! the manifest written to `s3://B/datasets/<automation>/<version>/manifest.json`, and the
//! comparison of two versions. Pure: building the manifest from S3 is the engine's.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The manifest's format tag: readers (preprocess.py among them) refuse another one.
pub const MANIFEST_FORMAT: &str = "loopline.dataset/1";

/// One annotation object as it was listed at the trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ManifestObject {
    pub key: String,
    /// Without its quotes; the MD5 of the content for an object written in one piece.
    pub etag: String,
    pub size: u64,
}

/// The event that made the version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ManifestTrigger {
    pub event_id: i64,
    pub source_id: String,
    pub action: Option<String>,
    pub project_id: Option<i64>,
    pub received_at: String,
}

/// The Label Studio project the annotations belong to, when the trigger names one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ManifestProject {
    pub id: i64,
    /// SHA-256 (hex) of the project's label config, so a changed config shows.
    pub label_config_sha256: String,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DatasetManifest {
    pub format: String,
    pub automation_id: String,
    pub version: String,
    pub uri: String,
    pub created_at: String,
    pub trigger: ManifestTrigger,
    pub project: Option<ManifestProject>,
    pub bucket: String,
    pub prefix: String,
    pub objects: Vec<ManifestObject>,
    /// Regions per label over the annotations that were not cancelled.
    pub labels: BTreeMap<String, i64>,
    /// Objects listed but not readable as an annotation (kept in `objects`, not counted).
    pub unreadable: Vec<String>,
    pub cancelled: i64,
}

/// One version as `loopline dataset list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DatasetVersion {
    pub automation_id: String,
    pub automation_name: String,
    pub version: String,
    pub uri: String,
    pub event_id: i64,
    pub created_at: String,
    /// False once it fell out of the last K and its manifest was deleted.
    pub kept: bool,
}

/// One label's count in two versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LabelCounts {
    pub label: String,
    pub from: i64,
    pub to: i64,
}

/// `loopline dataset diff V1 V2`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DatasetDiff {
    pub from: String,
    pub to: String,
    pub added: Vec<String>,
    /// Same key, another ETag.
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    pub labels: Vec<LabelCounts>,
}

/// The version name of an automation's `n`th firing.
pub fn version_name(n: i64) -> String {
    format!("v{n}")
}

/// The number in `v12`, if it is one.
pub fn version_number(name: &str) -> Option<i64> {
    name.strip_prefix('v')?.parse().ok().filter(|n| *n >= 1)
}

/// Where an automation's version lives in the bucket.
pub fn manifest_key(automation_id: &str, version: &str) -> String {
    format!("datasets/{automation_id}/{version}/manifest.json")
}

/// The label strings of one Label Studio annotation's regions (every `*labels` value and
/// `choices`), with whether it was cancelled; `None` when it is not an annotation.
pub fn annotation_labels(annotation: &serde_json::Value) -> Option<(bool, Vec<String>)> {
    let obj = annotation.as_object()?;
    let result = obj.get("result")?.as_array()?;
    let cancelled = obj
        .get("was_cancelled")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let mut labels = Vec::new();
    for region in result {
        let Some(value) = region.get("value").and_then(|v| v.as_object()) else {
            continue;
        };
        for (k, v) in value {
            if k.ends_with("labels") || k == "choices" {
                for l in v.as_array().into_iter().flatten() {
                    if let Some(s) = l.as_str() {
                        labels.push(s.to_string());
                    }
                }
            }
        }
    }
    Some((cancelled, labels))
}

/// What changed from `a` to `b`: objects by key and ETag, labels side by side.
pub fn diff(a: &DatasetManifest, b: &DatasetManifest) -> DatasetDiff {
    let before: BTreeMap<&str, &str> = a
        .objects
        .iter()
        .map(|o| (o.key.as_str(), o.etag.as_str()))
        .collect();
    let after: BTreeMap<&str, &str> = b
        .objects
        .iter()
        .map(|o| (o.key.as_str(), o.etag.as_str()))
        .collect();
    let mut added = Vec::new();
    let mut changed = Vec::new();
    for (k, etag) in &after {
        match before.get(k) {
            None => added.push(k.to_string()),
            Some(e) if e != etag => changed.push(k.to_string()),
            Some(_) => {}
        }
    }
    let removed = before
        .keys()
        .filter(|k| !after.contains_key(*k))
        .map(|k| k.to_string())
        .collect();
    let names: BTreeSet<&String> = a.labels.keys().chain(b.labels.keys()).collect();
    let labels = names
        .into_iter()
        .map(|l| LabelCounts {
            label: l.clone(),
            from: a.labels.get(l).copied().unwrap_or(0),
            to: b.labels.get(l).copied().unwrap_or(0),
        })
        .collect();
    DatasetDiff {
        from: a.version.clone(),
        to: b.version.clone(),
        added,
        changed,
        removed,
        labels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn manifest(
        version: &str,
        objects: &[(&str, &str)],
        labels: &[(&str, i64)],
    ) -> DatasetManifest {
        DatasetManifest {
            format: MANIFEST_FORMAT.into(),
            automation_id: "auto_1".into(),
            version: version.into(),
            uri: String::new(),
            created_at: String::new(),
            trigger: ManifestTrigger {
                event_id: 1,
                source_id: "s".into(),
                action: None,
                project_id: None,
                received_at: String::new(),
            },
            project: None,
            bucket: "b".into(),
            prefix: "annotations".into(),
            objects: objects
                .iter()
                .map(|(k, e)| ManifestObject {
                    key: k.to_string(),
                    etag: e.to_string(),
                    size: 1,
                })
                .collect(),
            labels: labels.iter().map(|(l, n)| (l.to_string(), *n)).collect(),
            unreadable: vec![],
            cancelled: 0,
        }
    }

    #[test]
    fn diff_names_added_changed_removed_and_every_label() {
        let a = manifest(
            "v1",
            &[("a/1", "x"), ("a/2", "y"), ("a/3", "z")],
            &[("Beak", 2), ("Wing", 1)],
        );
        let b = manifest(
            "v2",
            &[("a/1", "x"), ("a/2", "Y"), ("a/4", "w")],
            &[("Beak", 3), ("Head", 1)],
        );
        let d = diff(&a, &b);
        assert_eq!(d.added, vec!["a/4"]);
        assert_eq!(d.changed, vec!["a/2"]);
        assert_eq!(d.removed, vec!["a/3"]);
        let l: Vec<(String, i64, i64)> = d
            .labels
            .into_iter()
            .map(|c| (c.label, c.from, c.to))
            .collect();
        assert_eq!(
            l,
            vec![
                ("Beak".into(), 2, 3),
                ("Head".into(), 0, 1),
                ("Wing".into(), 1, 0)
            ]
        );
    }

    #[test]
    fn labels_come_from_every_labels_key_and_choices() {
        let a = json!({"id": 7, "was_cancelled": false, "result": [
            {"type": "polygonlabels", "value": {"points": [], "polygonlabels": ["Beak"]}},
            {"type": "rectanglelabels", "value": {"rectanglelabels": ["Wing", "Beak"]}},
            {"type": "choices", "value": {"choices": ["Good"]}},
            {"type": "textarea", "value": {"text": ["free text"]}}
        ]});
        let (cancelled, labels) = annotation_labels(&a).unwrap();
        assert!(!cancelled);
        assert_eq!(labels, vec!["Beak", "Wing", "Beak", "Good"]);
        assert!(annotation_labels(&json!({"no": "result"})).is_none());
        assert!(
            annotation_labels(&json!({"was_cancelled": true, "result": []}))
                .unwrap()
                .0
        );
    }

    #[test]
    fn versions_are_numbered_and_parsed() {
        assert_eq!(version_name(3), "v3");
        assert_eq!(version_number("v12"), Some(12));
        assert_eq!(version_number("v0"), None);
        assert_eq!(version_number("12"), None);
        assert_eq!(
            manifest_key("auto_1", "v2"),
            "datasets/auto_1/v2/manifest.json"
        );
    }
}
