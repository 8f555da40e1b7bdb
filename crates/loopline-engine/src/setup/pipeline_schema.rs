//! The rules a pipeline definition must keep, checked on every definition the template can
//! produce: moto stores any definition unchecked, so nothing else would catch a break before
//! a user's CreatePipeline does.
//!
//! The shapes are those of AWS's published JSON schema for pipeline definitions
//! (aws-sagemaker-mlops/sagemaker-model-building-pipeline-definition-JSON-schema,
//! `schema/pipeline-definition.schema.json`), written out by hand for the parts our steps use:
//! the top level, `Metadata`, the four parameter types, and the Processing and Training steps.
//! A jsonschema crate would cost more to build than these rules take to write.
//!
//! The schema lags behind the service and the official SDK, which emits what it lacks; those
//! gaps are allowed here, each marked `gap:`. Beyond the schema, the checks also cover what it
//! cannot express: unique step names, `DependsOn` and `Get` references that resolve, declared
//! (and used) parameters, no cycle between steps, and the API's length limits on the fields
//! our steps fill.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

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
        other => out.push(format!(
            "{path}.Type: {other:?} has no rules written here (only Processing and Training)"
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

/// The execution variables a `Get` may read (the SDK's `ExecutionVariables`).
const EXECUTION: [&str; 6] = [
    "StartDateTime",
    "CurrentDateTime",
    "PipelineName",
    "PipelineArn",
    "PipelineExecutionId",
    "PipelineExecutionArn",
];

/// What the schema cannot say: names unique, references that resolve, parameters declared
/// and used, steps that do not wait on each other in a circle.
fn references(def: &Value, out: &mut Vec<String>) {
    let steps = def["Steps"].as_array().cloned().unwrap_or_default();
    let params: Vec<&str> = def["Parameters"]
        .as_array()
        .map(|all| all.iter().filter_map(|p| p["Name"].as_str()).collect())
        .unwrap_or_default();
    let mut seen = BTreeSet::new();
    for p in &params {
        if !seen.insert(*p) {
            out.push(format!("$.Parameters: the name '{p}' is declared twice"));
        }
    }
    let names: Vec<&str> = steps.iter().filter_map(|s| s["Name"].as_str()).collect();
    let mut seen = BTreeSet::new();
    for n in &names {
        if !seen.insert(*n) {
            out.push(format!("$.Steps: the name '{n}' is used twice"));
        }
    }
    let by_name: BTreeMap<&str, &Value> = names.iter().copied().zip(steps.iter()).collect();
    let mut used = BTreeSet::new();
    // Each step's predecessors: DependsOn and the steps whose properties it reads.
    let mut after: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (name, s) in &by_name {
        let preds = after.entry(name).or_default();
        for d in s["DependsOn"].as_array().into_iter().flatten() {
            let d = d.as_str().unwrap_or_default();
            if d == *name || !by_name.contains_key(d) {
                out.push(format!(
                    "$.Steps.{name}.DependsOn: '{d}' is not another step of the pipeline"
                ));
            }
            preds.insert(d.to_string());
        }
        let mut gets = Vec::new();
        collect_gets(s, &mut gets);
        for get in gets {
            let at = format!("$.Steps.{name}: Get '{get}'");
            let mut parts = get.splitn(3, '.');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("Parameters"), Some(p), None) if params.contains(&p) => {
                    used.insert(p.to_string());
                }
                (Some("Parameters"), Some(p), None) => {
                    out.push(format!("{at}: no parameter '{p}' is declared"))
                }
                (Some("Execution"), Some(v), None) if EXECUTION.contains(&v) => {}
                (Some("Steps"), Some(other), Some(property)) => {
                    match by_name.get(other) {
                        Some(_) if other == *name => {
                            out.push(format!("{at}: a step cannot read its own properties"))
                        }
                        Some(source) => {
                            if let Some(why) = unknown_property(source, property) {
                                out.push(format!("{at}: {why}"));
                            }
                        }
                        None => out.push(format!("{at}: no step '{other}'")),
                    }
                    preds.insert(other.to_string());
                }
                _ => out.push(format!("{at}: reads nothing a pipeline has")),
            }
        }
        for p in s["PropertyFiles"].as_array().into_iter().flatten() {
            let output = p["OutputName"].as_str().unwrap_or_default();
            if !output_names(s).contains(&output) {
                out.push(format!(
                    "$.Steps.{name}.PropertyFiles: no output '{output}' to read it from"
                ));
            }
        }
    }
    for p in params {
        if !used.contains(p) {
            out.push(format!(
                "$.Parameters: '{p}' is declared but no step uses it"
            ));
        }
    }
    if let Some(step) = in_a_cycle(&after) {
        out.push(format!(
            "$.Steps.{step}: waits on itself through other steps"
        ));
    }
}

fn collect_gets<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(o) => {
            if let (1, Some(Value::String(g))) = (o.len(), o.get("Get")) {
                out.push(g);
            }
            o.values().for_each(|x| collect_gets(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_gets(x, out)),
        _ => {}
    }
}

fn output_names(step: &Value) -> Vec<&str> {
    step["Arguments"]["ProcessingOutputConfig"]["Outputs"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|o| o["OutputName"].as_str())
                .collect()
        })
        .unwrap_or_default()
}

/// Why `Steps.<source>.<property>` names nothing, for the properties our steps read.
fn unknown_property(source: &Value, property: &str) -> Option<String> {
    if let Some(file) = property.strip_prefix("PropertyFiles.") {
        let declared = source["PropertyFiles"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["PropertyFileName"] == file);
        return (!declared).then(|| format!("the step declares no property file '{file}'"));
    }
    if let Some(rest) = property.strip_prefix("ProcessingOutputConfig.Outputs['") {
        let output = rest.split("']").next().unwrap_or_default();
        return (!output_names(source).contains(&output))
            .then(|| format!("the step has no output '{output}'"));
    }
    None
}

/// A step that is its own predecessor, if any.
fn in_a_cycle(after: &BTreeMap<&str, BTreeSet<String>>) -> Option<String> {
    for start in after.keys() {
        let mut stack: Vec<&str> = after[start].iter().map(String::as_str).collect();
        let mut seen = BTreeSet::new();
        while let Some(n) = stack.pop() {
            if n == *start {
                return Some(n.to_string());
            }
            if seen.insert(n) {
                stack.extend(after.get(n).into_iter().flatten().map(String::as_str));
            }
        }
    }
    None
}

/// The SageMaker API's limits on the fields our steps fill with text Loopline or the user
/// chooses (CreateProcessingJob, CreateTrainingJob): the schema carries none of them.
fn api_limits(def: &Value, out: &mut Vec<String>) {
    for (i, s) in def["Steps"].as_array().into_iter().flatten().enumerate() {
        let app = &s["Arguments"]["AppSpecification"];
        for field in ["ContainerArguments", "ContainerEntrypoint"] {
            for (j, a) in app[field].as_array().into_iter().flatten().enumerate() {
                if a.as_str().is_some_and(|a| a.chars().count() > 256) {
                    out.push(format!(
                        "$.Steps[{i}].Arguments.AppSpecification.{field}[{j}]: more than 256 characters"
                    ));
                }
            }
        }
        for image in [
            &app["ImageUri"],
            &s["Arguments"]["AlgorithmSpecification"]["TrainingImage"],
        ] {
            if image.as_str().is_some_and(|u| u.len() > 255) {
                out.push(format!("$.Steps[{i}]: an image URI over 255 characters"));
            }
        }
        for (k, v) in s["Arguments"]["HyperParameters"]
            .as_object()
            .into_iter()
            .flatten()
        {
            if k.len() > 256 || v.as_str().is_some_and(|v| v.chars().count() > 2500) {
                out.push(format!(
                    "$.Steps[{i}].Arguments.HyperParameters.{k}: over the API's length limits"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::pipeline_template::{definition, TemplateInput, DEFAULT_TRAINING_INSTANCE};
    use super::*;
    use loopline_core::StorageLayout;
    use serde_json::json;

    fn layout(bucket: &str, prefixes: [&str; 4]) -> StorageLayout {
        StorageLayout {
            bucket: bucket.into(),
            region: String::new(),
            images: prefixes[0].into(),
            annotations: prefixes[1].into(),
            scripts: prefixes[2].into(),
            model: prefixes[3].into(),
        }
    }

    /// Every region both images are published in, as the shipped table lists them.
    fn regions() -> Vec<String> {
        let table: Value =
            serde_json::from_str(include_str!("../../pipeline/image_registries.json")).unwrap();
        let of = |image: &str| -> BTreeSet<String> {
            table["images"][image]["registries"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect()
        };
        of("sklearn")
            .intersection(&of("semantic-segmentation"))
            .cloned()
            .collect()
    }

    fn label_sets() -> Vec<Vec<String>> {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // The longest the preprocessing argument holds: 256 characters joined.
        let longest: Vec<String> = (0..64).map(|i| format!("L{i:02}")).collect();
        assert_eq!(longest.join(",").chars().count(), 255);
        vec![
            words(&["Beak"]),
            words(&["Beak", "Head", "Wing", "Body"]),
            words(&["Flügel", "頭", "a b", "x\"y"]),
            longest,
        ]
    }

    fn good() -> Value {
        definition(&TemplateInput {
            region: "eu-west-1",
            layout: &layout(
                "sagemaker-birds",
                ["bird-images", "annotations", "script", "model"],
            ),
            role_arn: "arn:aws:iam::123456789012:role/LooplineSageMakerExecution",
            labels: &["Beak".to_string(), "Head".to_string()],
            training_instance: DEFAULT_TRAINING_INSTANCE,
        })
        .unwrap()
    }

    #[test]
    fn every_definition_the_template_can_produce_keeps_the_schema() {
        let regions = regions();
        assert!(regions.len() > 20, "{regions:?}");
        let layouts = [
            layout(
                "sagemaker-birds",
                ["bird-images", "annotations", "script", "model"],
            ),
            layout(
                "a-sagemaker-b",
                ["in/images", "in/ann", "code/loopline", "out/model"],
            ),
        ];
        let mut checked = 0;
        for region in &regions {
            for labels in label_sets() {
                for instance in [DEFAULT_TRAINING_INSTANCE, "ml.g4dn.xlarge"] {
                    for l in &layouts {
                        let def = definition(&TemplateInput {
                            region,
                            layout: l,
                            role_arn: "arn:aws:iam::123456789012:role/LooplineSageMakerExecution",
                            labels: &labels,
                            training_instance: instance,
                        })
                        .unwrap_or_else(|e| panic!("{region}: {}", e.message));
                        let found = problems(&def);
                        assert!(
                            found.is_empty(),
                            "{region}, labels {labels:?}, {instance}:\n{}",
                            found.join("\n")
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, regions.len() * 4 * 2 * 2);
    }

    /// Each rule goes red on the break it is there for.
    #[test]
    fn the_checks_catch_each_break() {
        assert_eq!(problems(&good()), Vec::<String>::new());
        type Break = fn(&mut Value);
        let breaks: [(&str, Break); 16] = [
            ("Metadata.loopline", |d| {
                d["Metadata"] = json!({"loopline": {"labels": ["Beak"]}})
            }),
            ("at most 1024", |d| {
                d["Metadata"]["loopline-labels"] = json!("x".repeat(1025))
            }),
            ("the name 'loopline.labels'", |d| {
                d["Metadata"]["loopline.labels"] = json!("Beak")
            }),
            ("no property 'Tags'", |d| d["Tags"] = json!([])),
            ("no property 'Retries'", |d| {
                d["Steps"][0]["Retries"] = json!(1)
            }),
            ("InstanceCount", |d| {
                d["Steps"][1]["Arguments"]["ResourceConfig"]["InstanceCount"] = json!("1")
            }),
            ("DefaultValue", |d| {
                d["Parameters"][2]["DefaultValue"] = json!(2.5)
            }),
            ("used twice", |d| d["Steps"][2]["Name"] = json!("Train")),
            ("DependsOn: 'Training'", |d| {
                d["Steps"][2]["DependsOn"] = json!(["Training"])
            }),
            ("no parameter 'Epoch'", |d| {
                d["Steps"][1]["Arguments"]["HyperParameters"]["epochs"] =
                    json!({"Get": "Parameters.Epoch"})
            }),
            ("no output 'trian'", |d| {
                d["Steps"][1]["Arguments"]["InputDataConfig"][0]["DataSource"]["S3DataSource"]
                    ["S3Uri"] = json!({"Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['trian'].S3Output.S3Uri"})
            }),
            ("no step 'Prep'", |d| {
                d["Steps"][1]["Arguments"]["RoleArn"] = json!({"Get": "Steps.Prep.RoleArn"})
            }),
            ("declared but no step uses it", |d| {
                d["Parameters"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"Name": "Unused", "Type": "String"}))
            }),
            ("waits on itself", |d| {
                d["Steps"][0]["DependsOn"] = json!(["Cleanup"])
            }),
            ("no rules written here", |d| {
                d["Steps"][2]["Type"] = json!("Condition")
            }),
            ("more than 256 characters", |d| {
                d["Steps"][0]["Arguments"]["AppSpecification"]["ContainerArguments"][3] =
                    json!("L".repeat(257))
            }),
        ];
        for (expected, apply) in breaks {
            let mut d = good();
            apply(&mut d);
            let found = problems(&d);
            assert!(
                found.iter().any(|p| p.contains(expected)),
                "expected a problem with '{expected}', found {found:?}"
            );
        }
    }
}
