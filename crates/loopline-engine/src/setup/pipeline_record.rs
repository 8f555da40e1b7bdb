//! Loopline's record of how it built a pipeline, kept in the definition's `Metadata`: the
//! template and its version, the labels, and each script's version and SHA-256.
//!
//! AWS's published schema for pipeline definitions lets `Metadata` map names
//! (`[A-Za-z0-9-_]{1,128}`) to strings of at most 1,024 characters, so the record is a few
//! short strings under `loopline-*` names. Loopline used to keep it as one object under
//! `Metadata.loopline`, which CreatePipeline may refuse (moto stores anything). That older form
//! is still read: a pipeline built with it is recognised as Loopline's, and is not rewritten
//! for its metadata alone.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

const TEMPLATE: &str = "loopline-template";
const TEMPLATE_VERSION: &str = "loopline-template-version";
const LABELS: &str = "loopline-labels";
const SCRIPT: &str = "loopline-script-";
const OLD: &str = "loopline";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptRecord {
    pub version: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub template: String,
    pub version: String,
    /// Class 1, 2, …; labels never hold a comma (`check_labels`), so the record joins them.
    pub labels: Vec<String>,
    /// By the script's name (`preprocess`, `cleanup`).
    pub scripts: BTreeMap<String, ScriptRecord>,
}

impl Record {
    /// The `Metadata` object that carries the record: strings only.
    pub fn metadata(&self) -> Value {
        let mut m = Map::new();
        let mut put = |k: String, v: &str| {
            m.insert(k, Value::String(v.to_string()));
        };
        put(TEMPLATE.into(), &self.template);
        put(TEMPLATE_VERSION.into(), &self.version);
        put(LABELS.into(), &self.labels.join(","));
        for (name, s) in &self.scripts {
            put(format!("{SCRIPT}{name}-version"), &s.version);
            put(format!("{SCRIPT}{name}-sha256"), &s.sha256);
        }
        Value::Object(m)
    }

    /// The record in a definition, in either form; `None` for a pipeline Loopline did not
    /// build.
    pub fn read(definition: &Value) -> Option<Record> {
        let meta = definition.get("Metadata")?.as_object()?;
        match meta.get(TEMPLATE).and_then(Value::as_str) {
            Some(template) => Some(read_strings(meta, template)),
            None => read_old(meta.get(OLD)?),
        }
    }

    /// Whether `definition` keeps its record in the older `Metadata.loopline` object.
    pub fn is_old_form(definition: &Value) -> bool {
        definition["Metadata"].get(TEMPLATE).is_none() && definition["Metadata"][OLD].is_object()
    }
}

fn read_strings(meta: &Map<String, Value>, template: &str) -> Record {
    let text = |k: &str| {
        meta.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let mut scripts: BTreeMap<String, ScriptRecord> = BTreeMap::new();
    for (k, v) in meta {
        let (Some(rest), Some(v)) = (k.strip_prefix(SCRIPT), v.as_str()) else {
            continue;
        };
        let (name, is_version) = if let Some(name) = rest.strip_suffix("-version") {
            (name, true)
        } else if let Some(name) = rest.strip_suffix("-sha256") {
            (name, false)
        } else {
            continue;
        };
        let s = scripts.entry(name.to_string()).or_default();
        let slot = if is_version {
            &mut s.version
        } else {
            &mut s.sha256
        };
        *slot = v.to_string();
    }
    Record {
        template: template.to_string(),
        version: text(TEMPLATE_VERSION),
        labels: text(LABELS)
            .split(',')
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        scripts,
    }
}

/// `{"template", "version", "labels": [...], "scripts": {name: {"version", "sha256"}}}`: the
/// labels array is what marked a pipeline as Loopline's then, so it is required here too.
fn read_old(old: &Value) -> Option<Record> {
    let labels = old["labels"]
        .as_array()?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let scripts = old["scripts"]
        .as_object()
        .map(|all| {
            all.iter()
                .map(|(name, s)| {
                    let record = ScriptRecord {
                        version: text(&s["version"]),
                        sha256: text(&s["sha256"]),
                    };
                    (name.clone(), record)
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Record {
        template: text(&old["template"]),
        version: text(&old["version"]),
        labels,
        scripts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record() -> Record {
        Record {
            template: "semantic-segmentation".into(),
            version: "1".into(),
            labels: vec!["Beak".into(), "Head".into()],
            scripts: BTreeMap::from([(
                "preprocess".to_string(),
                ScriptRecord {
                    version: "1".into(),
                    sha256: "ab".repeat(32),
                },
            )]),
        }
    }

    #[test]
    fn the_record_is_short_strings_and_reads_back() {
        let meta = record().metadata();
        for (k, v) in meta.as_object().unwrap() {
            assert!(k.len() <= 128 && k.starts_with("loopline-"), "{k}");
            assert!(
                v.as_str().is_some_and(|s| s.chars().count() <= 1024),
                "{k}: {v}"
            );
        }
        assert_eq!(meta["loopline-labels"], "Beak,Head");
        let def = json!({"Metadata": meta});
        assert_eq!(Record::read(&def), Some(record()));
        assert!(!Record::is_old_form(&def));
    }

    #[test]
    fn the_older_object_form_is_still_read() {
        let def = json!({"Metadata": {"loopline": {
            "template": "semantic-segmentation",
            "version": "1",
            "labels": ["Beak", "Head"],
            "scripts": {"preprocess": {"version": "1", "sha256": "ab".repeat(32)}},
        }}});
        assert_eq!(Record::read(&def), Some(record()));
        assert!(Record::is_old_form(&def));
    }

    #[test]
    fn a_definition_without_the_record_is_not_looplines() {
        for def in [
            json!({"Version": "2020-12-01", "Steps": []}),
            json!({"Metadata": {"owner": "someone"}}),
            json!({"Metadata": {"loopline": {"note": "no labels"}}}),
        ] {
            assert_eq!(Record::read(&def), None, "{def}");
        }
    }
}
