//! One pass over the body that keeps only what the parsers read.
//!
//! Every reader here accepts any JSON value: a field of an unexpected shape comes out as
//! "not that", never as an error, so one odd field cannot hide the rest of a payload. Values
//! nobody reads (the labeling config, annotation results, frame data) are skipped by
//! serde_json's validating skip, without being built. The only errors are syntax errors.
//! (The readers before this one captured raw slices and parsed some of them again; on a
//! 5.6 KB Label Studio body that was more than twice the work of one pass.)

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess};
use serde::Deserialize;

use super::visit::{entries, skip_seq, AnyValue, AnyVisitor};
use super::NotJson;

/// A value where a string or a number is expected; lists and objects are `Other`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum Scalar {
    #[default]
    Absent,
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Other,
}

impl Scalar {
    pub(crate) fn string(&self) -> Option<String> {
        match self {
            Scalar::Str(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// A number, a whole float, or a string holding an integer.
    pub(crate) fn int(&self) -> Option<i64> {
        match self {
            Scalar::Int(i) => Some(*i),
            Scalar::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => Some(*f as i64),
            Scalar::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// A string as it is, or a number written out: for ids that may be either.
    pub(crate) fn text(&self) -> Option<String> {
        self.string().or_else(|| self.int().map(|i| i.to_string()))
    }
}

/// The top level of a payload: the keys any of the parsers recognise.
#[derive(Debug, Default)]
pub(crate) struct Envelope {
    /// False for valid JSON that is not an object (a list, a string…).
    pub is_object: bool,
    pub action: Scalar,
    pub event: Scalar,
    pub type_: Scalar,
    pub project: Project,
    pub annotation: Annotations,
    pub annotations: Refs,
    pub task: Refs,
    pub tasks: Refs,
    pub issue: Issue,
    pub data: Data,
}

/// `project`: Label Studio's object, Aquarium's name or object, or a bare id.
#[derive(Debug, Default)]
pub(crate) struct Project {
    pub present: bool,
    /// The value itself when it is not an object.
    pub scalar: Scalar,
    pub id: Scalar,
    pub title: Scalar,
    pub name: Scalar,
    pub useful_annotation_number: Scalar,
    pub total_annotations_number: Scalar,
}

/// Label Studio's `annotation`: one object, or a list of them (`ANNOTATIONS_CREATED`).
#[derive(Debug, Default)]
pub(crate) struct Annotations {
    pub present: bool,
    pub items: Vec<Annotation>,
}

#[derive(Debug, Default)]
pub(crate) struct Annotation {
    /// False for a bare id in place of an object.
    pub is_object: bool,
    pub id: Option<i64>,
    pub task: Option<i64>,
    pub project: Option<i64>,
    pub was_cancelled: Option<bool>,
}

/// References: a bare id, an object with an `id`, or a list of either.
#[derive(Debug, Default)]
pub(crate) struct Refs {
    pub present: bool,
    pub ids: Vec<i64>,
}

/// Aquarium's `issue`.
#[derive(Debug, Default)]
pub(crate) struct Issue {
    pub present: bool,
    pub id: Scalar,
    pub name: Scalar,
    pub elements: Vec<Element>,
}

#[derive(Debug, Default)]
pub(crate) struct Element {
    pub element_type: Scalar,
    pub issue_name: Scalar,
}

/// Standard Webhooks' `data`.
#[derive(Debug, Default)]
pub(crate) struct Data {
    pub id: Scalar,
    pub project_id: Scalar,
}

/// Reads a body in one pass. `Err` only when it is not JSON.
pub(crate) fn scan(body: &[u8]) -> Result<Envelope, NotJson> {
    // JSON is UTF-8. Checking the whole body at once is far cheaper than serde_json checking
    // each string as it goes, and it also covers the values that are skipped unread.
    let text = std::str::from_utf8(super::json_text(body)).map_err(|e| NotJson {
        message: format!(
            "The body is not valid JSON (it is not UTF-8 text: invalid byte at offset {}).",
            e.valid_up_to()
        ),
    })?;
    serde_json::from_str(text).map_err(|e| NotJson {
        message: format!("The body is not valid JSON ({e})."),
    })
}

macro_rules! deserialize_any_value {
    ($($t:ty),*) => {$(
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any(AnyVisitor::<$t>(std::marker::PhantomData))
            }
        }
    )*};
}
deserialize_any_value!(
    Scalar,
    Envelope,
    Project,
    Annotations,
    Annotation,
    Refs,
    Ref,
    Issue,
    Element,
    Data
);

impl<'de> AnyValue<'de> for Scalar {
    fn scalar(s: Scalar) -> Self {
        s
    }
    fn map<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
    fn seq<A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        skip_seq(seq)?;
        Ok(Scalar::Other)
    }
}

impl<'de> AnyValue<'de> for Envelope {
    fn map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        const NAMES: &[&str] = &[
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
        ];
        let mut e = Envelope {
            is_object: true,
            ..Envelope::default()
        };
        entries(map, NAMES, |i, m| {
            match i {
                0 => e.action = m.next_value()?,
                1 => e.event = m.next_value()?,
                2 => e.type_ = m.next_value()?,
                3 => e.project = m.next_value()?,
                4 => e.annotation = m.next_value()?,
                5 => e.annotations = m.next_value()?,
                6 => e.task = m.next_value()?,
                7 => e.tasks = m.next_value()?,
                8 => e.issue = m.next_value()?,
                _ => e.data = m.next_value()?,
            }
            Ok(())
        })?;
        Ok(e)
    }
}

impl<'de> AnyValue<'de> for Project {
    fn scalar(s: Scalar) -> Self {
        Project {
            present: true,
            scalar: s,
            ..Project::default()
        }
    }
    fn map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        const NAMES: &[&str] = &[
            "id",
            "title",
            "name",
            "useful_annotation_number",
            "total_annotations_number",
        ];
        let mut p = Project {
            present: true,
            scalar: Scalar::Other,
            ..Project::default()
        };
        entries(map, NAMES, |i, m| {
            let v: Scalar = m.next_value()?;
            match i {
                0 => p.id = v,
                1 => p.title = v,
                2 => p.name = v,
                3 => p.useful_annotation_number = v,
                _ => p.total_annotations_number = v,
            }
            Ok(())
        })?;
        Ok(p)
    }
    fn seq<A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        skip_seq(seq)?;
        Ok(Project::scalar(Scalar::Other))
    }
}

impl<'de> AnyValue<'de> for Annotation {
    fn scalar(s: Scalar) -> Self {
        Annotation {
            id: s.int(),
            ..Annotation::default()
        }
    }
    fn map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        const NAMES: &[&str] = &["id", "task", "project", "was_cancelled"];
        let mut a = Annotation {
            is_object: true,
            ..Annotation::default()
        };
        entries(map, NAMES, |i, m| {
            match i {
                0 => a.id = m.next_value::<Scalar>()?.int(),
                1 => a.task = m.next_value::<Ref>()?.0,
                2 => a.project = m.next_value::<Ref>()?.0,
                _ => {
                    a.was_cancelled = match m.next_value::<Scalar>()? {
                        Scalar::Bool(b) => Some(b),
                        _ => None,
                    }
                }
            }
            Ok(())
        })?;
        Ok(a)
    }
}

impl<'de> AnyValue<'de> for Annotations {
    fn scalar(s: Scalar) -> Self {
        Annotations {
            present: true,
            items: vec![Annotation::scalar(s)],
        }
    }
    fn map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        Ok(Annotations {
            present: true,
            items: vec![Annotation::map(map)?],
        })
    }
    fn seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut items = Vec::new();
        while let Some(a) = seq.next_element::<Annotation>()? {
            items.push(a);
        }
        Ok(Annotations {
            present: true,
            items,
        })
    }
}

/// One reference: a bare id, or an object carrying `id`.
#[derive(Debug, Default)]
struct Ref(Option<i64>);

impl<'de> AnyValue<'de> for Ref {
    fn scalar(s: Scalar) -> Self {
        Ref(s.int())
    }
    fn map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        let mut id = None;
        entries(map, &["id"], |_, m| {
            id = m.next_value::<Scalar>()?.int();
            Ok(())
        })?;
        Ok(Ref(id))
    }
}

impl<'de> AnyValue<'de> for Refs {
    fn scalar(s: Scalar) -> Self {
        Refs {
            present: true,
            ids: s.int().into_iter().collect(),
        }
    }
    fn map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        Ok(Refs {
            present: true,
            ids: Ref::map(map)?.0.into_iter().collect(),
        })
    }
    fn seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut ids = Vec::new();
        while let Some(r) = seq.next_element::<Ref>()? {
            ids.extend(r.0);
        }
        Ok(Refs { present: true, ids })
    }
}

impl<'de> AnyValue<'de> for Issue {
    fn scalar(_: Scalar) -> Self {
        Issue {
            present: true,
            ..Issue::default()
        }
    }
    fn map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        let mut issue = Issue {
            present: true,
            ..Issue::default()
        };
        entries(map, &["id", "name", "elements"], |i, m| {
            match i {
                0 => issue.id = m.next_value()?,
                1 => issue.name = m.next_value()?,
                _ => issue.elements = m.next_value::<Elements>()?.0,
            }
            Ok(())
        })?;
        Ok(issue)
    }
    fn seq<A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        skip_seq(seq)?;
        Ok(Issue::scalar(Scalar::Other))
    }
}

/// An issue's elements; anything but a list is no elements, and an element that is not an
/// object still counts as one (of no known type).
#[derive(Default)]
struct Elements(Vec<Element>);

impl<'de> Deserialize<'de> for Elements {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AnyVisitor::<Elements>(std::marker::PhantomData))
    }
}

impl<'de> AnyValue<'de> for Elements {
    fn seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut items = Vec::new();
        while let Some(e) = seq.next_element::<Element>()? {
            items.push(e);
        }
        Ok(Elements(items))
    }
}

impl<'de> AnyValue<'de> for Element {
    fn map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        let mut e = Element::default();
        entries(map, &["element_type", "issue_name"], |i, m| {
            let v: Scalar = m.next_value()?;
            if i == 0 {
                e.element_type = v;
            } else {
                e.issue_name = v;
            }
            Ok(())
        })?;
        Ok(e)
    }
}

impl<'de> AnyValue<'de> for Data {
    fn map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        let mut data = Data::default();
        entries(map, &["id", "project_id"], |i, m| {
            let v: Scalar = m.next_value()?;
            if i == 0 {
                data.id = v;
            } else {
                data.project_id = v;
            }
            Ok(())
        })?;
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_takes_any_shape() {
        for odd in [
            "null",
            "true",
            "1.5",
            "\"x\"",
            "[1, {\"id\": 2}]",
            "{\"id\": {}}",
            "[[]]",
        ] {
            let body = format!(
                r#"{{"action": {odd}, "project": {odd}, "annotation": {odd}, "annotations": {odd},
                    "task": {odd}, "tasks": {odd}, "issue": {odd}, "data": {odd}, "event": {odd}}}"#
            );
            let e = scan(body.as_bytes()).unwrap_or_else(|err| panic!("{odd}: {}", err.message));
            assert!(e.is_object, "{odd}");
            assert!(
                e.project.present && e.annotation.present && e.task.present,
                "{odd}"
            );
        }
    }

    #[test]
    fn refs_read_ids_from_every_shape() {
        let e =
            scan(br#"{"task": [3, {"id": "4"}, {"no": 1}, "x", [5], 6.0], "tasks": {"id": 9}}"#)
                .unwrap();
        assert_eq!(e.task.ids, vec![3, 4, 6]);
        assert_eq!(e.tasks.ids, vec![9]);
    }

    #[test]
    fn escaped_and_repeated_keys() {
        let e = scan(br#"{"act\u0069on": "A_B", "project": 1, "project": {"id": 2}}"#).unwrap();
        assert_eq!(e.action, Scalar::Str("A_B".into()));
        assert_eq!(e.project.id.int(), Some(2), "the last value wins");
    }

    #[test]
    fn not_an_object_and_not_json() {
        assert!(!scan(b"[1, 2]").unwrap().is_object);
        assert!(!scan(b"\"text\"").unwrap().is_object);
        assert!(scan(b"{\"a\": ").is_err());
        assert!(
            scan(b"{\"a\": \"\xff\"}").is_err(),
            "not UTF-8, even in a skipped value"
        );
        assert!(scan(b"{} x").is_err(), "trailing characters");
    }
}
