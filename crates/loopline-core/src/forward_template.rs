//! A forward automation's body template: the shared JSON template engine
//! (`json_template`) over the event, `{event: {...}, body: <the body received>}`. Checked
//! when the automation is added, so a typo is refused at once, not at the first event.

use serde_json::{json, Value};

use crate::{json_template, ApiError, ErrorCode};

/// What `event.` names; anything under `body.` is the event's own JSON.
pub const EVENT_FIELDS: &[&str] = &[
    "event.id",
    "event.webhook_id",
    "event.action",
    "event.kind",
    "event.source_id",
    "event.project_id",
];

fn fields() -> String {
    format!(
        "The fields are: {}, body (the whole body received), body.<path> (a field of it, e.g. body.project.title), and inside $each: element and element.<path>.",
        EVENT_FIELDS.join(", ")
    )
}

/// The context a body template is rendered against.
pub struct ForwardEvent<'a> {
    pub id: i64,
    pub webhook_id: &'a str,
    pub action: Option<&'a str>,
    pub kind: &'a str,
    pub source_id: &'a str,
    pub project_id: Option<i64>,
    /// The body as received; one that is not JSON is `null` here.
    pub body: Value,
}

/// Refuses a template that is not JSON or names a field that cannot exist.
pub fn check(template: &str) -> Result<(), ApiError> {
    let t = json_template::parse(template, "body")?;
    for p in json_template::placeholders(&t)? {
        let path = p.path.as_str();
        let root = path.split('.').next().unwrap_or_default();
        let known = match root {
            "body" => true,
            "element" => p.in_each,
            "event" => EVENT_FIELDS.contains(&path),
            _ => false,
        };
        if !known {
            return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                format!(
                    "The body template names {{{{{path}}}}}, which is not a field. {}",
                    fields()
                ),
            ));
        }
    }
    Ok(())
}

/// The bytes to send: the template rendered against the event, as compact JSON. A field
/// the event's body lacks is an error naming it.
pub fn render(template: &str, event: ForwardEvent<'_>) -> Result<Vec<u8>, ApiError> {
    let t = json_template::parse(template, "body")?;
    let ctx = json!({
        "event": {
            "id": event.id,
            "webhook_id": event.webhook_id,
            "action": event.action,
            "kind": event.kind,
            "source_id": event.source_id,
            "project_id": event.project_id,
        },
        "body": event.body,
    });
    let out = json_template::render(&t, &ctx, &fields())?;
    serde_json::to_vec(&out).map_err(|e| ApiError::internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"{"text": "New project '{{body.project.title}}'", "id": "{{event.webhook_id}}",
        "project": "{{body.project.id}}", "n": "{{event.project_id}}",
        "tasks": {"$each": "body.tasks", "$item": "{{element.id}}"}}"#;

    fn event(body: Value) -> ForwardEvent<'static> {
        ForwardEvent {
            id: 7,
            webhook_id: "evt_7",
            action: Some("PROJECT_CREATED"),
            kind: "label-studio",
            source_id: "src_a",
            project_id: Some(3),
            body,
        }
    }

    #[test]
    fn renders_the_event_keeping_types() {
        check(TEMPLATE).unwrap();
        let body =
            json!({"project": {"id": 3, "title": "Birds v2"}, "tasks": [{"id": 1}, {"id": 2}]});
        let out: Value = serde_json::from_slice(&render(TEMPLATE, event(body)).unwrap()).unwrap();
        assert_eq!(
            out,
            json!({"text": "New project 'Birds v2'", "id": "evt_7", "project": 3, "n": 3, "tasks": [1, 2]})
        );
    }

    #[test]
    fn unknown_fields_and_bad_json_are_refused_when_added() {
        for bad in [
            r#"{"a": "{{project.title}}"}"#,
            r#"{"a": "{{event.nope}}"}"#,
            r#"{"a": "{{element.id}}"}"#,
            r#"{"a": "{{body.x"}"#,
            r#"{"a": "#,
        ] {
            let e = check(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidArgument, "{bad}");
        }
        let e = check(r#"{"a": "{{project.title}}"}"#).unwrap_err();
        assert!(e.message.contains("body.project.title"), "{}", e.message);
    }

    #[test]
    fn a_field_the_body_lacks_is_named() {
        let e = render(TEMPLATE, event(json!({"project": {"id": 3}, "tasks": []}))).unwrap_err();
        assert!(
            e.message.contains("{{body.project.title}}"),
            "{}",
            e.message
        );
    }
}
