//! The body and variables templates of REST and GraphQL exports: the shared JSON template
//! engine (`loopline_core::json_template`) over `{issue, label_ids, elements}`, where
//! `{"$each": "elements", "$item": T}` makes one T per chosen element.

use loopline_core::{json_template, ApiError};
use serde_json::Value;

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

/// What the Aquarium templates can name, for the error that lists them.
fn fields() -> String {
    format!("The fields are: {FIELDS}.")
}

/// Parses a template, saying where it is not JSON (the shared engine, `loopline_core::json_template`).
pub fn parse(template: &str, what: &str) -> Result<Value, ApiError> {
    json_template::parse(template, what)
}

/// Expands a parsed template against `ctx` (`{issue, label_ids, elements}`).
pub fn render(t: &Value, ctx: &Value) -> Result<Value, ApiError> {
    json_template::render(t, ctx, &fields())
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
