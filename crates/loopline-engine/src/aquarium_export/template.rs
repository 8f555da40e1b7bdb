//! The body and variables templates of REST and GraphQL exports: JSON in which a string
//! `"{{path}}"` becomes the value at that path (keeping its JSON type: a list stays a list),
//! `{{path}}` inside a longer string becomes its text, and `{"$each": "elements", "$item": T}`
//! becomes one T per chosen element, with `element` bound to it.

use loopline_core::{ApiError, ErrorCode};
use serde_json::{Map, Value};

/// Aquarium's REST sample, built as it meant to: the issue's name and project, and each
/// frame with its id and image URL.
pub const DEFAULT_REST_BODY: &str = r#"{
  "name": "{{issue.name}}",
  "project": "{{issue.project}}",
  "issue_id": "{{issue.id}}",
  "frames": {"$each": "elements", "$item": {
    "id": "{{element.frame_id}}",
    "element_id": "{{element.element_id}}",
    "image_url": "{{element.image_url}}"
  }}
}"#;

/// Aquarium's GraphQL sample's variables: the issue and the chosen label ids.
pub const DEFAULT_GRAPHQL_VARIABLES: &str =
    r#"{"issueId": "{{issue.id}}", "labelIds": "{{label_ids}}"}"#;

/// The fields a template can name, for the error that lists them.
const FIELDS: &str = "issue.id, issue.name, issue.project, label_ids, elements, and inside $each: element.element_id, element.element_type, element.frame_id, element.dataset, element.inference_set, element.image_url, element.preview_url, element.width, element.height, element.label_ids, element.classes, element.labels, element.user_metadata";

fn bad(message: String) -> ApiError {
    ApiError::new(ErrorCode::InvalidArgument, message)
}

/// Parses a template, saying where it is not JSON.
pub fn parse(template: &str, what: &str) -> Result<Value, ApiError> {
    serde_json::from_str(template).map_err(|e| {
        bad(format!(
            "The {what} template is not JSON (line {}, column {}: {e}). Fix it and preview again.",
            e.line(),
            e.column()
        ))
    })
}

/// Expands a parsed template against `ctx` (`{issue, label_ids, elements}`).
pub fn render(t: &Value, ctx: &Value) -> Result<Value, ApiError> {
    match t {
        Value::String(s) => render_text(s, ctx),
        Value::Array(a) => a
            .iter()
            .map(|v| render(v, ctx))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        Value::Object(o) if o.contains_key("$each") => {
            let over = o["$each"].as_str().unwrap_or_default();
            let list = lookup(ctx, over).and_then(Value::as_array).ok_or_else(|| {
                bad(format!(
                    "\"$each\": \"{over}\" does not name a list. Use \"$each\": \"elements\"."
                ))
            })?;
            let item = o
                .get("$item")
                .ok_or_else(|| bad("\"$each\" needs an \"$item\" template beside it.".into()))?;
            let mut out = Vec::with_capacity(list.len());
            for element in list {
                let mut inner = ctx.clone();
                inner["element"] = element.clone();
                out.push(render(item, &inner)?);
            }
            Ok(Value::Array(out))
        }
        Value::Object(o) => {
            let mut out = Map::new();
            for (k, v) in o {
                out.insert(k.clone(), render(v, ctx)?);
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

fn lookup<'a>(ctx: &'a Value, path: &str) -> Option<&'a Value> {
    path.trim()
        .split('.')
        .try_fold(ctx, |v, k| v.as_object().and_then(|o| o.get(k)))
}

fn render_text(s: &str, ctx: &Value) -> Result<Value, ApiError> {
    let whole = s.trim();
    if whole.starts_with("{{") && whole.ends_with("}}") && whole.matches("{{").count() == 1 {
        return value_at(ctx, &whole[2..whole.len() - 2]).cloned();
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..]
            .find("}}")
            .ok_or_else(|| bad(format!("\"{s}\" opens {{{{ without closing it.")))?;
        out.push_str(&rest[..start]);
        match value_at(ctx, &rest[start + 2..start + end])? {
            Value::String(v) => out.push_str(v),
            Value::Null => {}
            v => out.push_str(&v.to_string()),
        }
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    Ok(Value::String(out))
}

fn value_at<'a>(ctx: &'a Value, path: &str) -> Result<&'a Value, ApiError> {
    lookup(ctx, path).ok_or_else(|| {
        bad(format!(
            "The template names {{{{{}}}}}, which is not a field. The fields are: {FIELDS}.",
            path.trim()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn whole_placeholders_keep_their_type_and_each_repeats() {
        let ctx = json!({"issue": {"id": "i1", "name": "wings", "project": null},
            "label_ids": ["a", "b"],
            "elements": [{"frame_id": "f1", "width": 10}, {"frame_id": "f2", "width": null}]});
        let t = parse(r#"{"n": "Issue {{issue.name}} ({{issue.id}})", "ids": "{{label_ids}}",
            "p": "{{issue.project}}", "f": {"$each": "elements", "$item": {"id": "{{element.frame_id}}", "w": "{{element.width}}"}}}"#, "body").unwrap();
        assert_eq!(
            render(&t, &ctx).unwrap(),
            json!({"n": "Issue wings (i1)", "ids": ["a", "b"], "p": null,
                   "f": [{"id": "f1", "w": 10}, {"id": "f2", "w": null}]})
        );
        let e = render(&json!({"x": "{{issue.nope}}"}), &ctx).unwrap_err();
        assert!(e.message.contains("{{issue.nope}}"), "{}", e.message);
        assert!(parse("{", "body").unwrap_err().message.contains("line 1"));
    }
}
