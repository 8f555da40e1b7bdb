//! JSON templates, shared by the Aquarium exports' REST and GraphQL bodies and the forward
//! automations' bodies: JSON in which a string `"{{path}}"` becomes the value at that path
//! (keeping its JSON type: a list stays a list), `{{path}}` inside a longer string becomes
//! its text, and `{"$each": "list.path", "$item": T}` becomes one T per member of the list,
//! with `element` bound to it. Kept to that on purpose: data the user can read, not a
//! scripting language.

use serde_json::{Map, Value};

use crate::{ApiError, ErrorCode};

fn bad(message: String) -> ApiError {
    ApiError::new(ErrorCode::InvalidArgument, message)
}

/// Parses a template, saying where it is not JSON. `what` names it ("body", "variables").
pub fn parse(template: &str, what: &str) -> Result<Value, ApiError> {
    serde_json::from_str(template).map_err(|e| {
        bad(format!(
            "The {what} template is not JSON (line {}, column {}: {e}). Fix it and try again.",
            e.line(),
            e.column()
        ))
    })
}

/// One path a template reads, and whether it sits inside an `$each` (where `element` is bound).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    pub path: String,
    pub in_each: bool,
}

/// Every path the template reads (the `{{…}}` placeholders and the `$each` lists), so a
/// caller can check them against its fields before anything is rendered. A `{{` that is
/// never closed, or an `$each` without its `$item`, is refused here.
pub fn placeholders(t: &Value) -> Result<Vec<Placeholder>, ApiError> {
    fn walk(t: &Value, in_each: bool, out: &mut Vec<Placeholder>) -> Result<(), ApiError> {
        match t {
            Value::String(s) => {
                let mut rest = s.as_str();
                while let Some(start) = rest.find("{{") {
                    let end = rest[start..]
                        .find("}}")
                        .ok_or_else(|| bad(format!("\"{s}\" opens {{{{ without closing it.")))?;
                    out.push(Placeholder {
                        path: rest[start + 2..start + end].trim().to_string(),
                        in_each,
                    });
                    rest = &rest[start + end + 2..];
                }
                Ok(())
            }
            Value::Array(a) => a.iter().try_for_each(|v| walk(v, in_each, out)),
            Value::Object(o) if o.contains_key("$each") => {
                let over = o["$each"].as_str().ok_or_else(|| {
                    bad("\"$each\" takes the path of a list, as a string.".into())
                })?;
                out.push(Placeholder {
                    path: over.trim().to_string(),
                    in_each,
                });
                let item = o.get("$item").ok_or_else(|| {
                    bad("\"$each\" needs an \"$item\" template beside it.".into())
                })?;
                walk(item, true, out)
            }
            Value::Object(o) => o.values().try_for_each(|v| walk(v, in_each, out)),
            _ => Ok(()),
        }
    }
    let mut out = Vec::new();
    walk(t, false, &mut out)?;
    Ok(out)
}

/// Expands a parsed template against `ctx`. A path `ctx` does not hold is an error that
/// ends with `fields`, the caller's sentence listing what can be named.
pub fn render(t: &Value, ctx: &Value, fields: &str) -> Result<Value, ApiError> {
    match t {
        Value::String(s) => render_text(s, ctx, fields),
        Value::Array(a) => a
            .iter()
            .map(|v| render(v, ctx, fields))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        Value::Object(o) if o.contains_key("$each") => {
            let over = o["$each"].as_str().unwrap_or_default();
            let list = lookup(ctx, over).and_then(Value::as_array).ok_or_else(|| {
                bad(format!(
                    "\"$each\": \"{over}\" does not name a list here. {fields}"
                ))
            })?;
            let item = o
                .get("$item")
                .ok_or_else(|| bad("\"$each\" needs an \"$item\" template beside it.".into()))?;
            let mut out = Vec::with_capacity(list.len());
            for element in list {
                let mut inner = ctx.clone();
                inner["element"] = element.clone();
                out.push(render(item, &inner, fields)?);
            }
            Ok(Value::Array(out))
        }
        Value::Object(o) => {
            let mut out = Map::new();
            for (k, v) in o {
                out.insert(k.clone(), render(v, ctx, fields)?);
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

fn render_text(s: &str, ctx: &Value, fields: &str) -> Result<Value, ApiError> {
    let whole = s.trim();
    if whole.starts_with("{{") && whole.ends_with("}}") && whole.matches("{{").count() == 1 {
        return value_at(ctx, &whole[2..whole.len() - 2], fields).cloned();
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..]
            .find("}}")
            .ok_or_else(|| bad(format!("\"{s}\" opens {{{{ without closing it.")))?;
        out.push_str(&rest[..start]);
        match value_at(ctx, &rest[start + 2..start + end], fields)? {
            Value::String(v) => out.push_str(v),
            Value::Null => {}
            v => out.push_str(&v.to_string()),
        }
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    Ok(Value::String(out))
}

fn value_at<'a>(ctx: &'a Value, path: &str, fields: &str) -> Result<&'a Value, ApiError> {
    lookup(ctx, path).ok_or_else(|| {
        bad(format!(
            "The template names {{{{{}}}}}, which is not a field here. {fields}",
            path.trim()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders_are_listed_with_their_scope() {
        let t = parse(
            r#"{"a": "x {{body.project.title}} y {{ event.id }}", "l": {"$each": "body.tasks", "$item": {"id": "{{element.id}}"}}}"#,
            "body",
        )
        .unwrap();
        let p = placeholders(&t).unwrap();
        let paths: Vec<(&str, bool)> = p.iter().map(|p| (p.path.as_str(), p.in_each)).collect();
        assert_eq!(
            paths,
            vec![
                ("body.project.title", false),
                ("event.id", false),
                ("body.tasks", false),
                ("element.id", true)
            ]
        );
        assert!(placeholders(&json!({"a": "{{open"})).is_err());
        assert!(placeholders(&json!({"$each": "body.tasks"})).is_err());
        assert!(placeholders(&json!({"$each": 3, "$item": 1})).is_err());
    }

    #[test]
    fn a_missing_path_says_what_can_be_named() {
        let e = render(&json!("{{nope}}"), &json!({}), "The fields are: a, b.").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
        assert!(e.message.contains("{{nope}}") && e.message.ends_with("The fields are: a, b."));
    }
}
