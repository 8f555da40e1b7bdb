//! REST and GraphQL exports: the element fields templates see, the one request an export
//! sends, and how the endpoint's answer is read.

use loopline_core::{
    ApiError, AquariumIssue, ElementType, ErrorCode, ExportTarget, IssueElement, PreviewHeader,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::template::{self, DEFAULT_GRAPHQL_VARIABLES, DEFAULT_REST_BODY};

/// The label ids an element stands for: a crop's own label, or all of a frame's labels.
pub fn label_ids(e: &IssueElement) -> Vec<String> {
    match (e.element_type, &e.crop_label) {
        (ElementType::Crop, Some(own)) => vec![own.clone()],
        (ElementType::Crop, None) => vec![e.element_id.clone()],
        (ElementType::Frame, _) => e.labels.iter().map(|l| l.uuid.clone()).collect(),
    }
}

/// What a template sees of one element (kept as the element's request, so a resumed export
/// sends exactly what the preview showed).
pub fn element_fields(e: &IssueElement) -> Value {
    json!({
        "element_id": e.element_id,
        "element_type": match e.element_type { ElementType::Frame => "frame", ElementType::Crop => "crop" },
        "frame_id": e.frame_id,
        "dataset": e.dataset,
        "inference_set": e.inference_set,
        "image_url": e.image_url,
        "preview_url": e.preview_url,
        "width": e.width,
        "height": e.height,
        "label_ids": label_ids(e),
        "classes": e.labels.iter().map(|l| l.class.clone()).collect::<Vec<_>>(),
        "labels": e.labels.iter().map(|l| json!({
            "uuid": l.uuid, "class": l.class, "label_type": l.label_type,
            "confidence": l.confidence, "inference": l.inference,
        })).collect::<Vec<_>>(),
        "user_metadata": e.user_metadata,
    })
}

/// The one request of a REST or GraphQL export, from its elements' fields.
/// What templates see of the issue (kept with the export, so a delivery does not read the
/// issue's payload again).
pub fn issue_fields(issue_id: &str, issue: &AquariumIssue) -> Value {
    json!({"id": issue_id, "name": issue.name, "project": issue.project})
}

pub fn build_body(
    target: &ExportTarget,
    issue: &Value,
    elements: &[Value],
) -> Result<Value, ApiError> {
    let all_labels: Vec<Value> = elements
        .iter()
        .flat_map(|e| e["label_ids"].as_array().cloned().unwrap_or_default())
        .collect();
    let ctx = json!({
                "issue": issue,
        "label_ids": all_labels,
        "elements": elements,
    });
    match target {
        ExportTarget::Rest { body_template, .. } => {
            let t = template::parse(
                body_template.as_deref().unwrap_or(DEFAULT_REST_BODY),
                "body",
            )?;
            template::render(&t, &ctx)
        }
        ExportTarget::Graphql {
            query,
            variables_template,
            ..
        } => {
            if query.trim().is_empty() {
                return Err(ApiError::new(
                    ErrorCode::InvalidArgument,
                    "A GraphQL export needs its query (--query-file FILE): the mutation that receives the label ids.",
                ));
            }
            let t = template::parse(
                variables_template
                    .as_deref()
                    .unwrap_or(DEFAULT_GRAPHQL_VARIABLES),
                "variables",
            )?;
            Ok(json!({"query": query, "variables": template::render(&t, &ctx)?}))
        }
        ExportTarget::LabelStudio { .. } => Err(ApiError::internal("not an HTTP target")),
    }
}

/// The headers sent, with the secret's value as given (masked for a preview). The
/// idempotency key lets an endpoint that honours it drop a resend after a crash.
pub fn headers(
    target_key: &str,
    issue_id: &str,
    element_ids: &[&str],
    secret: Option<&str>,
) -> Vec<PreviewHeader> {
    let mut h = Sha256::new();
    h.update(target_key.as_bytes());
    h.update([0]);
    h.update(issue_id.as_bytes());
    for e in element_ids {
        h.update([0]);
        h.update(e.as_bytes());
    }
    let digest = h.finalize();
    let key: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    let mut out = vec![
        PreviewHeader {
            name: "Content-Type".into(),
            value: "application/json".into(),
        },
        PreviewHeader {
            name: "Idempotency-Key".into(),
            value: format!("loopline-{key}"),
        },
    ];
    if let Some(s) = secret {
        out.push(PreviewHeader {
            name: "Authorization".into(),
            value: format!("Bearer {s}"),
        });
    }
    out
}

/// Reads an endpoint's answer: a 2xx is done (for GraphQL, only without `errors`);
/// 408, 429 and 5xx are worth retrying; anything else is refused in the endpoint's words.
pub fn judge(graphql: bool, url: &str, status: u16, body: &str) -> Result<(), (bool, ApiError)> {
    let excerpt: String = body.chars().take(300).collect();
    if (200..300).contains(&status) {
        if graphql {
            if let Ok(v) = serde_json::from_str::<Value>(body) {
                if let Some(errors) = v["errors"].as_array().filter(|a| !a.is_empty()) {
                    let first = errors[0]["message"]
                        .as_str()
                        .unwrap_or("an error")
                        .to_string();
                    return Err((false, ApiError::new(
                        ErrorCode::TargetRejected,
                        format!("{url} answered the mutation with errors: {first}. Check the query and the variables template, then retry."),
                    )));
                }
            }
        }
        return Ok(());
    }
    let retry = status == 408 || status == 429 || status >= 500;
    let code = if retry {
        ErrorCode::TargetUnavailable
    } else {
        ErrorCode::TargetRejected
    };
    let hint = match status {
        401 | 403 => " Check the auth secret (`loopline secret set NAME`) and that it is allowed to post here.",
        404 => " Check the URL.",
        _ if retry => " Loopline retries.",
        _ => " Check the body template against what the endpoint expects, then retry.",
    };
    Err((
        retry,
        ApiError::new(
            code,
            format!("{url} answered HTTP {status}: {excerpt}{hint}"),
        ),
    ))
}
