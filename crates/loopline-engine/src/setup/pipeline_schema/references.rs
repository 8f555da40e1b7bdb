//! What the pipeline schema cannot say, and the API's length limits it does not carry.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

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
pub(super) fn references(def: &Value, out: &mut Vec<String>) {
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

/// The metrics the built-in semantic-segmentation algorithm reports (its documentation's
/// "Metrics Computed by the Semantic Segmentation Algorithm"); a FinalMetricDataList entry by
/// another name would fail the step that reads it, at run time.
const SEGMENTATION_METRICS: [&str; 2] = ["validation:mIOU", "validation:pixel_accuracy"];

/// Why `Steps.<source>.<property>` names nothing, for the properties our steps read.
fn unknown_property(source: &Value, property: &str) -> Option<String> {
    let kind = source["Type"].as_str().unwrap_or_default();
    let root = property.split(['.', '[']).next().unwrap_or_default();
    // DescribeTrainingJob's and DescribeProcessingJob's fields, as the SDK's step
    // properties offer them.
    let of_kind: &[&str] = match kind {
        "Training" => &[
            "ModelArtifacts",
            "FinalMetricDataList",
            "TrainingJobName",
            "TrainingJobArn",
            "TrainingJobStatus",
            "AlgorithmSpecification",
            "HyperParameters",
            "OutputDataConfig",
        ],
        "Processing" => &[
            "ProcessingOutputConfig",
            "PropertyFiles",
            "ProcessingJobName",
            "ProcessingJobArn",
            "ProcessingJobStatus",
        ],
        "RegisterModel" => &[
            "ModelPackageArn",
            "ModelPackageVersion",
            "ModelApprovalStatus",
        ],
        _ => return None,
    };
    if !of_kind.contains(&root) {
        return Some(format!("a {kind} step has no property '{root}'"));
    }
    if let Some(rest) = property.strip_prefix("FinalMetricDataList['") {
        let metric = rest.split("']").next().unwrap_or_default();
        let image = source["Arguments"]["AlgorithmSpecification"]["TrainingImage"]
            .as_str()
            .unwrap_or_default();
        if !rest.contains("'].Value") {
            return Some(format!(
                "read a metric's value: FinalMetricDataList['{metric}'].Value"
            ));
        }
        if image.contains("/semantic-segmentation:") && !SEGMENTATION_METRICS.contains(&metric) {
            return Some(format!(
                "the semantic-segmentation algorithm reports no metric '{metric}' (only {})",
                SEGMENTATION_METRICS.join(", ")
            ));
        }
    }
    if property == "ModelArtifacts" || property.starts_with("ModelArtifacts.") {
        return (property != "ModelArtifacts.S3ModelArtifacts")
            .then(|| format!("ModelArtifacts has only S3ModelArtifacts, not '{property}'"));
    }
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
pub(super) fn api_limits(def: &Value, out: &mut Vec<String>) {
    for (i, s) in def["Steps"].as_array().into_iter().flatten().enumerate() {
        if s["Type"] == "RegisterModel" {
            super::register_model::register_limits(i, s, out);
        }
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
