//! The rules a pipeline definition must keep, checked on every definition the template can
//! produce: moto stores any definition unchecked, so nothing else would catch a break before
//! a user's CreatePipeline does.
//!
//! The shapes are those of AWS's published JSON schema for pipeline definitions
//! (aws-sagemaker-mlops/sagemaker-model-building-pipeline-definition-JSON-schema,
//! `schema/pipeline-definition.schema.json`), written out by hand for the parts our steps use:
//! the top level, `Metadata`, the four parameter types, and the Processing, Training and
//! RegisterModel steps.
//! A jsonschema crate would cost more to build than these rules take to write.
//!
//! The schema lags behind the service and the official SDK, which emits what it lacks; those
//! gaps are allowed here, each marked `gap:`. Beyond the schema, the checks also cover what it
//! cannot express: unique step names, `DependsOn` and `Get` references that resolve, declared
//! (and used) parameters, no cycle between steps, and the API's length limits on the fields
//! our steps fill.

use serde_json::Value;

mod references;
mod register_model;
#[cfg(test)]
mod tests;

use references::{api_limits, references};
use register_model::register_model_step;

/// The problems found, each as `path: what is wrong`; empty when the definition keeps the
/// rules.
pub fn problems(definition: &Value) -> Vec<String> {
    let mut out = Vec::new();
    check(&top_level(), definition, "$", &mut out);
    if let Some(o) = definition.as_object() {
        top_level_items(o, &mut out);
    }
    if out.is_empty() {
        references(definition, &mut out);
        api_limits(definition, &mut out);
    }
    out
}

/// A shape of the schema: what a value may be.
enum Shape {
    Str,
    /// A string of at most this many characters.
    StrMax(usize),
    /// A string matching `^[A-Za-z0-9\-_]{1,N}$` (step, parameter and metadata names).
    Name(usize),
    Enum(&'static [&'static str]),
    /// The schema's `*ArgumentValue`: the literal, or `{"Get": …}`; gap: also `Std:Join`.
    StrArg,
    IntArg,
    BoolArg,
    Bool,
    /// `additionalProperties: false`, with these properties.
    Obj(Vec<(&'static str, Shape)>),
    /// Properties checked where the schema sets no `additionalProperties`.
    Open(Vec<(&'static str, Shape)>),
    /// `patternProperties: {".*": …}`.
    Map(Box<Shape>),
    Arr(Box<Shape>),
    /// gap: something the SDK emits that the schema does not describe.
    Any,
}

use Shape::*;

fn arr(s: Shape) -> Shape {
    Arr(Box::new(s))
}

fn map(s: Shape) -> Shape {
    Map(Box::new(s))
}

fn top_level() -> Shape {
    Obj(vec![
        ("Version", Enum(&["2020-12-01"])),
        // `patternProperties` of names to strings of at most 1,024 characters.
        ("Metadata", Map(Box::new(StrMax(1024)))),
        ("Parameters", Any), // checked one by one in `parameter`
        ("Steps", Any),      // checked one by one in `step`
        // gap: the SDK writes it; the schema has no such property.
        ("PipelineExperimentConfig", Any),
    ])
}

fn step_common(arguments: Shape) -> Vec<(&'static str, Shape)> {
    vec![
        ("Name", Name(64)),
        ("Type", Str),
        ("DependsOn", arr(Name(64))),
        ("DisplayName", Name(64)),
        ("Description", StrMax(4096)),
        ("RetryPolicies", arr(retry_policy())),
        (
            "CacheConfig",
            Obj(vec![("Enabled", Bool), ("ExpireAfter", Str)]),
        ),
        ("Arguments", arguments),
    ]
}

fn retry_policy() -> Shape {
    Obj(vec![
        (
            "ExceptionType",
            Enum(&[
                "Step.SERVICE_FAULT",
                "Step.THROTTLING",
                "SageMaker.JOB_INTERNAL_ERROR",
                "SageMaker.CAPACITY_ERROR",
                "SageMaker.RESOURCE_LIMIT",
                "Emr.RESOURCE_LIMIT",
            ]),
        ),
        ("IntervalSeconds", Any),
        ("BackoffRate", Any),
        ("ExpireAfterMin", Any),
        ("MaxAttempts", Any),
    ])
}

fn tags() -> Shape {
    arr(Obj(vec![("Key", StrArg), ("Value", StrArg)]))
}

fn processing_step() -> Shape {
    let mut props = step_common(processing_args());
    // gap: the SDK's PropertyFile; the schema's ProcessingStep has no such property.
    props.push((
        "PropertyFiles",
        arr(Obj(vec![
            ("PropertyFileName", Str),
            ("OutputName", Str),
            ("FilePath", Str),
        ])),
    ));
    Obj(props)
}

fn processing_args() -> Shape {
    let s3_input = Obj(vec![
        ("LocalPath", StrArg),
        ("S3CompressionType", StrArg),
        ("S3DataDistributionType", StrArg),
        ("S3DataType", StrArg),
        ("S3InputMode", StrArg),
        ("S3Uri", StrArg),
    ]);
    let s3_output = Obj(vec![
        ("LocalPath", StrArg),
        ("S3UploadMode", StrArg),
        ("S3Uri", StrArg),
    ]);
    Obj(vec![
        (
            "AppSpecification",
            Obj(vec![
                ("ContainerArguments", arr(StrArg)),
                ("ContainerEntrypoint", arr(StrArg)),
                ("ImageUri", StrArg),
            ]),
        ),
        ("Environment", map(StrArg)),
        (
            "NetworkConfig",
            Obj(vec![
                ("EnableInterContainerTrafficEncryption", BoolArg),
                ("EnableNetworkIsolation", BoolArg),
                ("VpcConfig", Any),
            ]),
        ),
        (
            "ProcessingInputs",
            arr(Obj(vec![
                ("InputName", StrArg),
                // gap: the SDK writes AppManaged on every input and output.
                ("AppManaged", Bool),
                ("S3Input", s3_input),
            ])),
        ),
        (
            "ProcessingOutputConfig",
            Obj(vec![
                ("KmsKeyId", StrArg),
                (
                    "Outputs",
                    arr(Obj(vec![
                        ("OutputName", StrArg),
                        ("AppManaged", Bool), // gap, as above
                        ("S3Output", s3_output),
                    ])),
                ),
            ]),
        ),
        (
            "ProcessingResources",
            Obj(vec![("ClusterConfig", cluster())]),
        ),
        ("RoleArn", StrArg),
        (
            "StoppingCondition",
            Obj(vec![("MaxRuntimeInSeconds", IntArg)]),
        ),
        ("Tags", tags()),
        ("ProcessingJobName", StrArg),
    ])
}

fn cluster() -> Shape {
    Obj(vec![
        ("InstanceCount", IntArg),
        ("InstanceType", StrArg),
        ("VolumeKmsKeyId", StrArg),
        ("VolumeSizeInGB", IntArg),
    ])
}

fn training_step() -> Shape {
    let local_and_s3 = |a: &'static str, b: &'static str| Obj(vec![(a, StrArg), (b, StrArg)]);
    let s3_source = Obj(vec![
        ("AttributeNames", arr(StrArg)),
        ("S3DataDistributionType", StrArg),
        ("S3DataType", StrArg),
        ("S3Uri", StrArg),
    ]);
    let channel = Open(vec![
        ("ChannelName", StrArg),
        ("CompressionType", StrArg),
        ("ContentType", StrArg),
        (
            "DataSource",
            Open(vec![
                ("FileSystemDataSource", Any),
                ("S3DataSource", s3_source),
            ]),
        ),
        ("InputMode", StrArg),
        ("RecordWrapperType", StrArg),
        ("ShuffleConfig", Obj(vec![("Seed", IntArg)])),
    ]);
    let args = Obj(vec![
        (
            "AlgorithmSpecification",
            Obj(vec![
                ("AlgorithmName", StrArg),
                ("EnableSageMakerMetricsTimeSeries", BoolArg),
                (
                    "MetricDefinitions",
                    arr(Obj(vec![("Name", StrArg), ("Regex", StrArg)])),
                ),
                ("TrainingImage", StrArg),
                ("TrainingInputMode", StrArg),
            ]),
        ),
        ("CheckpointConfig", local_and_s3("LocalPath", "S3Uri")),
        ("DebugHookConfig", Any),
        ("DebugRuleConfigurations", Any),
        ("EnableInterContainerTrafficEncryption", BoolArg),
        ("EnableManagedSpotTraining", BoolArg),
        ("EnableNetworkIsolation", BoolArg),
        ("HyperParameters", map(StrArg)),
        ("InputDataConfig", arr(channel)),
        ("OutputDataConfig", local_and_s3("KmsKeyId", "S3OutputPath")),
        ("ResourceConfig", cluster()),
        ("RoleArn", StrArg),
        (
            "StoppingCondition",
            Obj(vec![
                ("MaxRuntimeInSeconds", IntArg),
                ("MaxWaitTimeInSeconds", IntArg),
            ]),
        ),
        ("Tags", tags()),
        ("TrainingJobName", StrArg),
        (
            "TensorBoardOutputConfig",
            local_and_s3("LocalPath", "S3OutputPath"),
        ),
        ("VpcConfig", Any),
    ]);
    Obj(step_common(args))
}

fn check(shape: &Shape, v: &Value, path: &str, out: &mut Vec<String>) {
    let mut bad = |what: &str| out.push(format!("{path}: {what}, found {}", short(v)));
    match shape {
        Any => {}
        Str => {
            if !v.is_string() {
                bad("must be a string")
            }
        }
        StrMax(n) => match v.as_str() {
            Some(s) if s.chars().count() <= *n => {}
            _ => bad(&format!("must be a string of at most {n} characters")),
        },
        Name(n) => {
            if !v.as_str().is_some_and(|s| is_name(s, *n)) {
                bad(&format!("must match ^[A-Za-z0-9\\-_]{{1,{n}}}$"))
            }
        }
        Enum(allowed) => {
            if !v.as_str().is_some_and(|s| allowed.contains(&s)) {
                bad(&format!("must be one of {allowed:?}"))
            }
        }
        Bool => {
            if !v.is_boolean() {
                bad("must be true or false")
            }
        }
        StrArg | IntArg | BoolArg => {
            let literal = match shape {
                StrArg => v.is_string(),
                IntArg => v.is_i64() || v.is_u64(),
                _ => v.is_boolean(),
            };
            if !literal && !is_get(v) && !is_join(v) {
                bad("must be a literal of its type, a Get or (gap) a Std:Join")
            }
        }
        Obj(props) | Open(props) => {
            let Some(o) = v.as_object() else {
                return bad("must be an object");
            };
            for (k, x) in o {
                match props.iter().find(|(name, _)| name == k) {
                    Some((_, s)) => check(s, x, &format!("{path}.{k}"), out),
                    None if matches!(shape, Obj(_)) => {
                        out.push(format!("{path}: the schema allows no property '{k}'"))
                    }
                    None => {}
                }
            }
        }
        Map(inner) => {
            let Some(o) = v.as_object() else {
                return bad("must be an object");
            };
            for (k, x) in o {
                check(inner, x, &format!("{path}.{k}"), out);
            }
        }
        Arr(inner) => {
            let Some(a) = v.as_array() else {
                return bad("must be an array");
            };
            for (i, x) in a.iter().enumerate() {
                check(inner, x, &format!("{path}[{i}]"), out);
            }
        }
    }
}

fn top_level_items(o: &serde_json::Map<String, Value>, out: &mut Vec<String>) {
    if !o.contains_key("Steps") {
        out.push("$: Steps is required".into());
    }
    if let Some(meta) = o.get("Metadata").and_then(Value::as_object) {
        for k in meta.keys() {
            // Other names fall outside the schema's patternProperties; none of ours may.
            if !is_name(k, 128) {
                out.push(format!(
                    "$.Metadata: the name '{k}' must match ^[A-Za-z0-9\\-_]{{1,128}}$"
                ));
            }
        }
    }
    match o.get("Parameters") {
        None => {}
        Some(Value::Array(all)) => {
            for (i, p) in all.iter().enumerate() {
                parameter(p, &format!("$.Parameters[{i}]"), out);
            }
        }
        Some(_) => out.push("$.Parameters: must be an array".into()),
    }
    match o.get("Steps") {
        None => {}
        Some(Value::Array(all)) => {
            for (i, s) in all.iter().enumerate() {
                step(s, &format!("$.Steps[{i}]"), out);
            }
        }
        Some(_) => out.push("$.Steps: must be an array".into()),
    }
}

/// One of the schema's String, Integer, Float and Boolean parameters.
fn parameter(p: &Value, path: &str, out: &mut Vec<String>) {
    let kind = p["Type"].as_str();
    let default_ok = |d: &Value| match kind {
        None | Some("String") => d.as_str().is_some_and(|s| s.chars().count() <= 4096),
        Some("Integer") => d.is_i64() || d.is_u64(),
        Some("Float") => d.is_number(),
        Some("Boolean") => d.is_boolean(),
        _ => false,
    };
    if !matches!(
        kind,
        None | Some("String" | "Integer" | "Float" | "Boolean")
    ) {
        out.push(format!(
            "{path}.Type: no parameter type {}",
            short(&p["Type"])
        ));
        return;
    }
    let Some(o) = p.as_object() else {
        return out.push(format!("{path}: must be an object"));
    };
    for (k, v) in o {
        match k.as_str() {
            "Name" => check(&Name(64), v, &format!("{path}.Name"), out),
            "Description" => check(&StrMax(4096), v, &format!("{path}.Description"), out),
            "Type" => {}
            "DefaultValue" if default_ok(v) => {}
            "DefaultValue" => out.push(format!(
                "{path}.DefaultValue: {} does not fit a {} parameter",
                short(v),
                kind.unwrap_or("String")
            )),
            _ => out.push(format!("{path}: the schema allows no property '{k}'")),
        }
    }
    if !o.contains_key("Name") {
        out.push(format!("{path}: Name is required"));
    }
}

/// A step of a type our template uses; any other type is reported, so a new one gets its
/// rules written here first.
fn step(s: &Value, path: &str, out: &mut Vec<String>) {
    for required in ["Type", "Name", "Arguments"] {
        if s.get(required).is_none() {
            out.push(format!("{path}: {required} is required"));
        }
    }
    match s["Type"].as_str() {
        Some("Processing") => check(&processing_step(), s, path, out),
        Some("Training") => check(&training_step(), s, path, out),
        Some("RegisterModel") => check(&register_model_step(), s, path, out),
        other => out.push(format!(
            "{path}.Type: {other:?} has no rules written here (only Processing, Training and RegisterModel)"
        )),
    }
}

fn is_name(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn is_get(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|o| o.len() == 1 && o.get("Get").is_some_and(Value::is_string))
}

/// gap: `Std:Join` is not an argument value in the schema (and its own `JoinFunction` is
/// malformed); the SDK joins strings, numbers, `Get`s and `Std:JsonGet`s.
fn is_join(v: &Value) -> bool {
    let Some(join) = v
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.get("Std:Join"))
    else {
        return false;
    };
    let Some(o) = join.as_object() else {
        return false;
    };
    let on_ok = o.get("On").is_none_or(Value::is_string);
    let keys_ok = o.keys().all(|k| k == "On" || k == "Values");
    let values_ok = o
        .get("Values")
        .and_then(Value::as_array)
        .is_some_and(|all| {
            all.iter()
                .all(|x| x.is_string() || x.is_number() || is_get(x) || is_json_get(x))
        });
    on_ok && keys_ok && values_ok
}

/// gap: `Std:JsonGet`, which the schema lacks: `{"PropertyFile": Get, "Path": string}`.
fn is_json_get(v: &Value) -> bool {
    let Some(o) = v
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.get("Std:JsonGet"))
    else {
        return false;
    };
    o.as_object().is_some_and(|o| {
        o.len() == 2 && o.get("PropertyFile").is_some_and(is_get) && o["Path"].is_string()
    })
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}
