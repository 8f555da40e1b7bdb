//! The RegisterModel step's rules, from the schema's `RegisterModelStep`, and what its
//! `Arguments` lack that the API and the SDK have.
//!
//! In the published schema, `ModelPackageName` and `additionalProperties: false` sit inside
//! the step's `properties` instead of beside them, so the schema leaves `Arguments` open.
//! Here it is closed, with each property the SDK writes and the schema lacks marked `gap:`.

use super::Shape::{self, *};
use super::{arr, step_common};

fn metrics_source() -> Shape {
    Obj(vec![
        ("ContentType", StrArg),
        ("ContentDigest", StrArg),
        ("S3Uri", StrArg),
    ])
}

fn statistics_and_constraints() -> Shape {
    Obj(vec![
        ("Statistics", metrics_source()),
        ("Constraints", metrics_source()),
    ])
}

fn report() -> Shape {
    Obj(vec![("Report", metrics_source())])
}

pub(super) fn register_model_step() -> Shape {
    let container = Obj(vec![
        ("ContainerHostname", StrArg),
        ("Image", StrArg),
        ("ImageDigest", StrArg),
        ("ModelDataUrl", StrArg),
        ("ProductId", StrArg),
        // gap: the SDK writes a model's environment and framework here.
        ("Environment", Any),
        ("Framework", StrArg),
        ("FrameworkVersion", StrArg),
    ]);
    let inference = Obj(vec![
        ("Containers", arr(container)),
        ("SupportedContentTypes", arr(StrArg)),
        ("SupportedRealtimeInferenceInstanceTypes", arr(StrArg)),
        ("SupportedResponseMIMETypes", arr(StrArg)),
        ("SupportedTransformInstanceTypes", arr(StrArg)),
    ]);
    let metrics = Obj(vec![
        ("ModelQuality", statistics_and_constraints()),
        ("ModelDataQuality", statistics_and_constraints()),
        ("Bias", report()),
        ("Explainability", report()),
        // Where the schema puts it; the API has no such metric.
        ("DeploymentSpecification", Any),
    ]);
    let args = Obj(vec![
        ("CertifyForMarketplace", BoolArg),
        ("InferenceSpecification", inference),
        ("ModelPackageDescription", StrArg),
        ("ModelPackageGroupName", StrArg),
        ("ModelMetrics", metrics),
        // gap: CreateModelPackage's own fields, which the SDK passes through.
        ("ModelApprovalStatus", StrArg),
        ("CustomerMetadataProperties", Any),
        ("DriftCheckBaselines", Any),
        ("MetadataProperties", Any),
        ("Tags", super::tags()),
        ("Domain", StrArg),
        ("Task", StrArg),
        ("SamplePayloadUrl", StrArg),
    ]);
    Obj(step_common(args))
}

/// CreateModelPackage's limits on what our step fills, which the schema does not carry.
pub(super) fn register_limits(i: usize, s: &serde_json::Value, out: &mut Vec<String>) {
    let a = &s["Arguments"];
    let at = format!("$.Steps[{i}].Arguments");
    if let Some(g) = a["ModelPackageGroupName"].as_str() {
        let ok = (1..=63).contains(&g.len())
            && g.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !g.starts_with('-')
            && !g.ends_with('-');
        if !ok {
            out.push(format!(
                "{at}.ModelPackageGroupName: '{g}' does not match ^[a-zA-Z0-9](-*[a-zA-Z0-9]){{0,62}}$"
            ));
        }
    } else if a["ModelPackageGroupName"].is_null() {
        out.push(format!(
            "{at}: ModelPackageGroupName is required (a version belongs to a group)"
        ));
    }
    if let Some(st) = a["ModelApprovalStatus"].as_str() {
        if !["Approved", "Rejected", "PendingManualApproval"].contains(&st) {
            out.push(format!(
                "{at}.ModelApprovalStatus: '{st}' is not Approved, Rejected or PendingManualApproval"
            ));
        }
    }
    if a["ModelPackageDescription"]
        .as_str()
        .is_some_and(|d| d.chars().count() > 1024)
    {
        out.push(format!(
            "{at}.ModelPackageDescription: more than 1024 characters"
        ));
    }
    if a["InferenceSpecification"]["Containers"]
        .as_array()
        .is_none_or(|c| c.is_empty())
    {
        out.push(format!(
            "{at}.InferenceSpecification.Containers: at least one container is required"
        ));
    }
}
