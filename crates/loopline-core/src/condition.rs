//! The automations' condition language: `field op value`, typed, over a fixed list of parsed
//! fields. Deliberately not a scripting language: a condition is data the UI can build,
//! show and check, and a field that is not on the list is refused with the list.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use crate::{ApiError, ErrorCode};

/// What a field holds, which decides the operators and values it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Bool,
    Int,
    Text,
    /// A list of strings: `contains` asks for one member.
    TextList,
}

/// One field a condition can name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ConditionField {
    pub name: &'static str,
    #[serde(rename = "type")]
    #[ts(rename = "type")]
    pub ty: FieldType,
    pub doc: &'static str,
}

const fn field(name: &'static str, ty: FieldType, doc: &'static str) -> ConditionField {
    ConditionField { name, ty, doc }
}

/// Every field a condition may name: what Label Studio, Aquarium and Loopline's own events
/// really carry. A field an event does not carry makes every condition on it false.
pub const CONDITION_FIELDS: &[ConditionField] = &[
    field(
        "event.action",
        FieldType::Text,
        "Label Studio's `action` (ANNOTATION_CREATED, PROJECT_CREATED, ...), Aquarium's `event` (issue-exported), or Loopline's own (run.ended).",
    ),
    field(
        "event.kind",
        FieldType::Text,
        "label-studio, aquarium, generic, unknown or loopline.",
    ),
    field("project.id", FieldType::Int, "The project's id."),
    field(
        "project.title",
        FieldType::Text,
        "Label Studio's project title, or Aquarium's project name.",
    ),
    field(
        "project.useful_annotation_number",
        FieldType::Int,
        "Label Studio's count of annotations that were not skipped.",
    ),
    field(
        "project.total_annotations_number",
        FieldType::Int,
        "Label Studio's count of all annotations.",
    ),
    field("task.id", FieldType::Int, "The task's id."),
    field("annotation.id", FieldType::Int, "The annotation's id."),
    field(
        "annotation.was_cancelled",
        FieldType::Bool,
        "True when the annotator skipped the task.",
    ),
    field(
        "annotation.ground_truth",
        FieldType::Bool,
        "True when the annotation is marked as ground truth.",
    ),
    field(
        "annotation.labels",
        FieldType::TextList,
        "Every label and choice in the annotation's result (rectanglelabels, polygonlabels, choices, ...).",
    ),
    field(
        "annotation.completed_by",
        FieldType::Int,
        "The id of the user who made the annotation.",
    ),
    field(
        "annotation.result_count",
        FieldType::Int,
        "How many regions the annotation's result holds.",
    ),
    field("issue.id", FieldType::Text, "Aquarium's issue id."),
    field(
        "issue.elements",
        FieldType::Int,
        "How many elements Aquarium's issue holds.",
    ),
    field(
        "run.status",
        FieldType::Text,
        "A Loopline run's status when it ended: Succeeded, Failed, Stopped.",
    ),
    field("run.pipeline", FieldType::Text, "The pipeline a Loopline run ran."),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ConditionOp {
    Eq,
    Ne,
    /// A substring of a text field, or a member of a list field.
    Contains,
    Gt,
    Lt,
}

impl ConditionOp {
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionOp::Eq => "=",
            ConditionOp::Ne => "!=",
            ConditionOp::Contains => "contains",
            ConditionOp::Gt => ">",
            ConditionOp::Lt => "<",
        }
    }

    fn parse(s: &str) -> Option<ConditionOp> {
        Some(match s {
            "=" | "==" => ConditionOp::Eq,
            "!=" => ConditionOp::Ne,
            "contains" => ConditionOp::Contains,
            ">" => ConditionOp::Gt,
            "<" => ConditionOp::Lt,
            _ => return None,
        })
    }

    fn allowed_on(self, ty: FieldType) -> bool {
        match self {
            ConditionOp::Eq | ConditionOp::Ne => ty != FieldType::TextList,
            ConditionOp::Contains => matches!(ty, FieldType::Text | FieldType::TextList),
            ConditionOp::Gt | ConditionOp::Lt => ty == FieldType::Int,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(untagged)]
pub enum ConditionValue {
    Bool(bool),
    Int(i64),
    Text(String),
}

impl std::fmt::Display for ConditionValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConditionValue::Bool(b) => write!(f, "{b}"),
            ConditionValue::Int(i) => write!(f, "{i}"),
            ConditionValue::Text(s) => write!(f, "'{s}'"),
        }
    }
}

/// `annotation.was_cancelled = false`: one test on one parsed field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Condition {
    pub field: String,
    pub op: ConditionOp,
    pub value: ConditionValue,
}

fn invalid(message: String) -> ApiError {
    ApiError::new(ErrorCode::InvalidArgument, message)
}

fn known_fields() -> String {
    CONDITION_FIELDS
        .iter()
        .map(|f| f.name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn lookup(name: &str) -> Result<&'static ConditionField, ApiError> {
    CONDITION_FIELDS
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| {
            invalid(format!(
                "Unknown field '{name}'. Known fields: {}.",
                known_fields()
            ))
        })
}

fn unquote(s: &str) -> Option<&str> {
    for q in ['\'', '"'] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return Some(inner);
        }
    }
    None
}

fn typed_value(field: &ConditionField, raw: &str) -> Result<ConditionValue, ApiError> {
    let wrong = |want: &str| {
        invalid(format!(
            "Field '{}' holds {want}; '{raw}' is not one.",
            field.name
        ))
    };
    match field.ty {
        FieldType::Bool => match raw {
            "true" => Ok(ConditionValue::Bool(true)),
            "false" => Ok(ConditionValue::Bool(false)),
            _ => Err(wrong("true or false")),
        },
        FieldType::Int => raw
            .parse::<i64>()
            .map(ConditionValue::Int)
            .map_err(|_| wrong("a whole number")),
        FieldType::Text | FieldType::TextList => Ok(ConditionValue::Text(
            unquote(raw).unwrap_or(raw).to_string(),
        )),
    }
}

impl Condition {
    /// Parses the CLI's `'field op value'`. Text values may be quoted to keep spaces.
    pub fn parse(text: &str) -> Result<Condition, ApiError> {
        let text = text.trim();
        let form = || {
            invalid(format!(
                "A condition is 'field op value' (ops: =, !=, contains, >, <), e.g. 'annotation.was_cancelled = false'; got '{text}'."
            ))
        };
        let (name, rest) = text.split_once(char::is_whitespace).ok_or_else(form)?;
        let rest = rest.trim_start();
        let (op, value) = rest.split_once(char::is_whitespace).ok_or_else(form)?;
        let op = ConditionOp::parse(op).ok_or_else(form)?;
        let value = value.trim();
        if value.is_empty() {
            return Err(form());
        }
        let field = lookup(name)?;
        Condition::checked(field, op, typed_value(field, value)?)
    }

    /// Checks a condition that arrived as data (the UI, a stored automation).
    pub fn validate(&self) -> Result<(), ApiError> {
        let field = lookup(&self.field)?;
        let value = match (&self.value, field.ty) {
            (ConditionValue::Bool(_), FieldType::Bool)
            | (ConditionValue::Int(_), FieldType::Int)
            | (ConditionValue::Text(_), FieldType::Text | FieldType::TextList) => {
                self.value.clone()
            }
            (v, _) => typed_value(field, &v.to_string())?,
        };
        Condition::checked(field, self.op, value).map(|_| ())
    }

    fn checked(
        field: &'static ConditionField,
        op: ConditionOp,
        value: ConditionValue,
    ) -> Result<Condition, ApiError> {
        if !op.allowed_on(field.ty) {
            return Err(invalid(format!(
                "'{}' cannot be used on '{}' ({:?}).",
                op.as_str(),
                field.name,
                field.ty
            )));
        }
        Ok(Condition {
            field: field.name.to_string(),
            op,
            value,
        })
    }

    /// Whether the condition holds for an event. A field the event does not carry makes it
    /// false, whatever the operator: "not cancelled" must not match an event that has no
    /// annotation at all.
    pub fn holds(&self, facts: &EventFacts) -> bool {
        let Some(fact) = facts.get(&self.field) else {
            return false;
        };
        match (fact, self.op, &self.value) {
            (Fact::Bool(a), ConditionOp::Eq, ConditionValue::Bool(b)) => a == b,
            (Fact::Bool(a), ConditionOp::Ne, ConditionValue::Bool(b)) => a != b,
            (Fact::Int(a), op, ConditionValue::Int(b)) => match op {
                ConditionOp::Eq => a == b,
                ConditionOp::Ne => a != b,
                ConditionOp::Gt => a > b,
                ConditionOp::Lt => a < b,
                ConditionOp::Contains => false,
            },
            (Fact::Text(a), op, ConditionValue::Text(b)) => match op {
                ConditionOp::Eq => a == b,
                ConditionOp::Ne => a != b,
                ConditionOp::Contains => a.contains(b.as_str()),
                _ => false,
            },
            (Fact::List(items), ConditionOp::Contains, ConditionValue::Text(b)) => {
                items.iter().any(|i| i == b)
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.field, self.op.as_str(), self.value)
    }
}

/// A value a field took in one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    Bool(bool),
    Int(i64),
    Text(String),
    List(Vec<String>),
}

/// The condition fields one event carries, read once from its body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFacts {
    facts: Vec<(&'static str, Fact)>,
}

fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

/// Label Studio's result keeps labels under a key named for the control: `rectanglelabels`,
/// `polygonlabels`, `labels`, `choices`, `taxonomy` (nested lists).
fn labels_of(annotation: &Value) -> Vec<String> {
    fn strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for region in annotation
        .get("result")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(value) = region.get("value").and_then(Value::as_object) {
            for (k, v) in value {
                if k.ends_with("labels") || k == "choices" || k == "taxonomy" {
                    strings(v, &mut out);
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

impl EventFacts {
    pub fn get(&self, name: &str) -> Option<&Fact> {
        self.facts.iter().find(|(n, _)| *n == name).map(|(_, f)| f)
    }

    fn put(&mut self, name: &'static str, fact: Option<Fact>) {
        if let Some(fact) = fact {
            self.facts.retain(|(n, _)| *n != name);
            self.facts.push((name, fact));
        }
    }

    /// Reads the fields from a stored body. `kind` is the event kind as stored
    /// (`label-studio`, `aquarium`, ..., or `loopline` for Loopline's own events).
    pub fn from_body(kind: &str, body: &Value) -> EventFacts {
        let mut f = EventFacts::default();
        let int = |p: &[&str]| at(body, p).and_then(Value::as_i64).map(Fact::Int);
        let text = |p: &[&str]| {
            at(body, p)
                .and_then(Value::as_str)
                .map(|s| Fact::Text(s.to_string()))
        };
        let boolean = |p: &[&str]| at(body, p).and_then(Value::as_bool).map(Fact::Bool);
        f.put("event.kind", Some(Fact::Text(kind.to_string())));
        f.put(
            "event.action",
            text(&["action"]).or_else(|| text(&["event"])),
        );
        f.put("project.id", int(&["project", "id"]));
        // Aquarium sends the project as a name, or as an object with a name.
        f.put(
            "project.title",
            text(&["project", "title"])
                .or_else(|| text(&["project", "name"]))
                .or_else(|| text(&["project"])),
        );
        f.put(
            "project.useful_annotation_number",
            int(&["project", "useful_annotation_number"]),
        );
        f.put(
            "project.total_annotations_number",
            int(&["project", "total_annotations_number"]),
        );
        f.put("task.id", int(&["task", "id"]));
        if let Some(annotation) = body.get("annotation").filter(|a| a.is_object()) {
            f.put("annotation.id", int(&["annotation", "id"]));
            f.put(
                "annotation.was_cancelled",
                boolean(&["annotation", "was_cancelled"]),
            );
            f.put(
                "annotation.ground_truth",
                boolean(&["annotation", "ground_truth"]),
            );
            f.put("annotation.labels", Some(Fact::List(labels_of(annotation))));
            f.put(
                "annotation.completed_by",
                int(&["annotation", "completed_by"]),
            );
            f.put(
                "annotation.result_count",
                annotation
                    .get("result")
                    .and_then(Value::as_array)
                    .map(|r| Fact::Int(r.len() as i64)),
            );
        }
        if let Some(issue) = body.get("issue") {
            f.put(
                "issue.id",
                issue.get("id").and_then(|v| match v {
                    Value::String(s) => Some(Fact::Text(s.clone())),
                    Value::Number(n) => Some(Fact::Text(n.to_string())),
                    _ => None,
                }),
            );
            f.put(
                "issue.elements",
                issue
                    .get("elements")
                    .and_then(Value::as_array)
                    .map(|e| Fact::Int(e.len() as i64)),
            );
        }
        f.put("run.status", text(&["run", "status"]));
        f.put("run.pipeline", text(&["run", "pipeline"]));
        f
    }

    /// The text a message template puts for `{field}`: lists joined with ", ".
    pub fn render(&self, name: &str) -> Option<String> {
        self.get(name).map(|f| match f {
            Fact::Bool(b) => b.to_string(),
            Fact::Int(i) => i.to_string(),
            Fact::Text(s) => s.clone(),
            Fact::List(items) => items.join(", "),
        })
    }
}

/// Fills `{field}` placeholders in a short message ("New project '{project.title}' is
/// ready for labeling"). An unknown placeholder is refused when the automation is made, so
/// a typo shows at once, not at the first event; a known field the event lacks is left
/// empty.
pub fn render_message(template: &str, facts: &EventFacts) -> String {
    render_message_with(template, facts, |v| v.to_string())
}

/// `render_message`, each field's value passed through `escape` first (the template's own
/// text is the user's and is kept as written).
pub fn render_message_with(
    template: &str,
    facts: &EventFacts,
    escape: impl Fn(&str) -> String,
) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) if CONDITION_FIELDS.iter().any(|f| f.name == &after[..end]) => {
                out.push_str(&escape(&facts.render(&after[..end]).unwrap_or_default()));
                rest = &after[end + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Refuses a message template that names a field not on the list.
pub fn check_message(template: &str) -> Result<(), ApiError> {
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        let looks_like_field = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_');
        if looks_like_field {
            lookup(name)?;
        }
        rest = &after[end + 1..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn created() -> Value {
        json!({
            "action": "ANNOTATION_CREATED",
            "annotation": {
                "id": 12, "was_cancelled": false, "ground_truth": true, "completed_by": 1,
                "result": [
                    {"type": "polygonlabels", "value": {"points": [[1, 2]], "polygonlabels": ["Beak"]}},
                    {"type": "rectanglelabels", "value": {"rectanglelabels": ["Wing", "Beak"]}},
                    {"type": "choices", "value": {"choices": ["Clear"]}}
                ]
            },
            "project": {"id": 2, "title": "Bird parts", "useful_annotation_number": 5, "total_annotations_number": 7},
            "task": {"id": 7}
        })
    }

    fn holds(cond: &str, body: &Value) -> bool {
        Condition::parse(cond)
            .unwrap()
            .holds(&EventFacts::from_body("label-studio", body))
    }

    #[test]
    fn parses_typed_conditions() {
        let c = Condition::parse("annotation.was_cancelled = false").unwrap();
        assert_eq!(c.value, ConditionValue::Bool(false));
        assert_eq!(c.op, ConditionOp::Eq);
        let c = Condition::parse("project.id > 3").unwrap();
        assert_eq!(c.value, ConditionValue::Int(3));
        let c = Condition::parse("project.title = 'Birds v2'").unwrap();
        assert_eq!(c.value, ConditionValue::Text("Birds v2".into()));
        assert_eq!(c.to_string(), "project.title = 'Birds v2'");
        assert_eq!(Condition::parse(&c.to_string()).unwrap(), c);
    }

    #[test]
    fn unknown_field_lists_known_ones() {
        let e = Condition::parse("annotation.cancelled = true").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
        assert!(
            e.message.contains("annotation.was_cancelled"),
            "{}",
            e.message
        );
        assert!(e.message.contains("run.status"), "{}", e.message);
    }

    #[test]
    fn wrong_typed_values_and_ops_are_refused() {
        for bad in [
            "annotation.was_cancelled = maybe",
            "project.id = two",
            "project.id contains 2",
            "annotation.labels = Beak",
            "project.title > a",
            "annotation.ground_truth > 1",
            "project.id",
            "project.id =",
            "project.id ~ 2",
        ] {
            let e = Condition::parse(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn validate_checks_conditions_that_arrive_as_data() {
        let bad = Condition {
            field: "project.id".into(),
            op: ConditionOp::Eq,
            value: ConditionValue::Bool(true),
        };
        assert!(bad.validate().is_err());
        let ok = Condition {
            field: "project.id".into(),
            op: ConditionOp::Eq,
            value: ConditionValue::Int(2),
        };
        ok.validate().unwrap();
    }

    #[test]
    fn evaluates_label_studio_fields() {
        let body = created();
        assert!(holds("annotation.was_cancelled = false", &body));
        assert!(!holds("annotation.was_cancelled = true", &body));
        assert!(holds("annotation.ground_truth = true", &body));
        assert!(holds("annotation.labels contains Beak", &body));
        assert!(holds("annotation.labels contains Clear", &body));
        assert!(!holds("annotation.labels contains Tail", &body));
        assert!(holds("project.id = 2", &body));
        assert!(holds("project.id != 3", &body));
        assert!(holds("project.useful_annotation_number > 4", &body));
        assert!(!holds("project.useful_annotation_number < 5", &body));
        assert!(holds("project.title contains Bird", &body));
        assert!(holds("event.action = ANNOTATION_CREATED", &body));
        assert!(holds("annotation.result_count = 3", &body));
        assert!(holds("task.id = 7", &body));
    }

    #[test]
    fn a_missing_field_never_holds() {
        let project_created =
            json!({"action": "PROJECT_CREATED", "project": {"id": 3, "title": "Birds v2"}});
        assert!(!holds("annotation.was_cancelled = false", &project_created));
        assert!(!holds("annotation.was_cancelled != true", &project_created));
        assert!(!holds("run.status = Succeeded", &project_created));
    }

    #[test]
    fn aquarium_and_loopline_events() {
        let exported = json!({"event": "issue-exported", "project": "Birds", "issue": {"id": "iss-1", "elements": [{}, {}]}});
        let facts = EventFacts::from_body("aquarium", &exported);
        let c = |s: &str| Condition::parse(s).unwrap().holds(&facts);
        assert!(c("event.action = issue-exported"));
        assert!(c("project.title = Birds"));
        assert!(c("issue.id = iss-1"));
        assert!(c("issue.elements > 1"));
        assert!(c("event.kind = aquarium"));

        let ended =
            json!({"action": "run.ended", "run": {"status": "Succeeded", "pipeline": "retrain"}});
        let facts = EventFacts::from_body("loopline", &ended);
        assert!(Condition::parse("run.status = Succeeded")
            .unwrap()
            .holds(&facts));
    }

    #[test]
    fn messages_fill_fields() {
        let body = json!({"action": "PROJECT_CREATED", "project": {"id": 3, "title": "Birds v2"}});
        let facts = EventFacts::from_body("label-studio", &body);
        assert_eq!(
            render_message(
                "New project '{project.title}' is ready for labeling",
                &facts
            ),
            "New project 'Birds v2' is ready for labeling"
        );
        assert_eq!(render_message("{annotation.id} {x} {", &facts), " {x} {");
        check_message("New project '{project.title}'").unwrap();
        let e = check_message("New project '{project.name}'").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
    }
}
