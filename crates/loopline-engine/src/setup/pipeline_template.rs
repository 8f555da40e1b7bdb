//! Loopline's pipeline template as data: preprocessing (scikit-learn image, `preprocess.py`),
//! training (the built-in semantic-segmentation algorithm, FCN on ResNet-50), the training
//! job's final metrics written to S3 (`metrics.py`), the trained model registered as a new
//! version of the pipeline's model package group, and cleanup (`cleanup.py`). The definition is built as JSON values, never by replacing text in a
//! template, so nothing is left as a placeholder and every URI is written one way.

use std::collections::BTreeMap;

use loopline_core::{ApiError, ErrorCode, StorageLayout};
use serde::Deserialize;
use serde_json::{json, Value};

use super::model_group::group_name_for;
use super::pipeline_record::{Record, ScriptRecord};
use super::scripts::{ShippedScript, CLEANUP, METRICS, PREPROCESS};

/// The template's name and its own version, kept in the definition's metadata. The version
/// names the steps' shape: it did not change when the record moved to string values.
pub const TEMPLATE: &str = "semantic-segmentation";
pub const TEMPLATE_VERSION: &str = "2";
/// What each template version added, in words, for the update plan of a pipeline built with
/// an older one (`what_changed`). Version 1 is the first.
pub const VERSION_NOTES: &[(&str, &str)] = &[(
    "2",
    "adds a Metrics step (the training job's validation mIOU and pixel accuracy written to S3 as statistics), \
     a RegisterModel step (each run's model becomes a new version of the model package group named after the pipeline, \
     with those metrics, its approval status from the new ModelApprovalStatus parameter, default PendingManualApproval), \
     and a DatasetManifest parameter (a dataset version's manifest.json to train on exactly; empty, the default, trains on every annotation as before)",
)];
/// SageMaker's limit on one container argument: the labels travel as one.
const MAX_ARGUMENT: usize = 256;
/// A GPU type: the algorithm trains on GPUs (CPU instances are for inference only).
pub const DEFAULT_TRAINING_INSTANCE: &str = "ml.p3.2xlarge";
pub const DEFAULT_PROCESSING_INSTANCE: &str = "ml.m5.xlarge";
/// Where each execution keeps its intermediate data, under its own execution id.
pub const TEMP_PREFIX: &str = "loopline-tmp";
pub const STEP_NAMES: [&str; 5] = ["Preprocess", "Train", "Metrics", "RegisterModel", "Cleanup"];
/// The approval status a new model version gets unless a run says otherwise: a person
/// approves it, as in the AWS tutorial's own pipeline.
pub const DEFAULT_APPROVAL: &str = "PendingManualApproval";
/// The algorithm's validation metrics (its documentation's "Metrics Computed by the
/// Semantic Segmentation Algorithm"), as the training step's FinalMetricDataList names them.
pub const MIOU: &str = "validation:mIOU";
pub const PIXEL_ACCURACY: &str = "validation:pixel_accuracy";
/// Under the model prefix: `<model>/metrics/<execution id>/statistics.json`.
pub const METRICS_FOLDER: &str = "metrics";
pub const STATISTICS_FILE: &str = "statistics.json";
/// What the registered model's container takes and answers (the algorithm's inference
/// formats), and where it may be deployed.
const CONTENT_TYPES: [&str; 1] = ["image/jpeg"];
const RESPONSE_TYPES: [&str; 2] = ["image/png", "application/x-protobuf"];
const INFERENCE_INSTANCES: [&str; 2] = ["ml.c5.xlarge", "ml.p3.2xlarge"];

const CODE_DIR: &str = "/opt/ml/processing/input/code";
const METRICS_DIR: &str = "/opt/ml/processing/metrics";
const SUMMARY_DIR: &str = "/opt/ml/processing/summary";
/// The algorithm's four channels, and the content type of each.
const CHANNELS: [(&str, &str); 4] = [
    ("train", "image/jpeg"),
    ("validation", "image/jpeg"),
    ("train_annotation", "image/png"),
    ("validation_annotation", "image/png"),
];

#[derive(Deserialize)]
struct Registries {
    images: BTreeMap<String, Image>,
    domains: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Image {
    repository: String,
    tag: String,
    registries: BTreeMap<String, String>,
}

/// The region → registry account tables of the SageMaker Python SDK (`image_uri_config`),
/// shipped as data.
const REGISTRIES: &str = include_str!("../../pipeline/image_registries.json");

/// The two images the template uses in `region`, or a message saying the region has none.
pub struct Images {
    pub sklearn: String,
    pub segmentation: String,
}

pub fn images_for(region: &str) -> Result<Images, ApiError> {
    let table: Registries = serde_json::from_str(REGISTRIES)
        .map_err(|e| ApiError::internal(format!("the shipped image table is damaged: {e}")))?;
    let uri = |which: &str| -> Result<String, ApiError> {
        let image = table
            .images
            .get(which)
            .ok_or_else(|| ApiError::internal(format!("no image '{which}' in the table")))?;
        let account = image.registries.get(region).ok_or_else(|| {
            let mut known: Vec<&str> = image.registries.keys().map(String::as_str).collect();
            known.sort();
            ApiError::new(
                ErrorCode::AwsBadRegion,
                format!(
                    "SageMaker's {which} image is not published in '{region}', so the pipeline cannot run there. Choose one of: {}.",
                    known.join(", ")
                ),
            )
        })?;
        let domain = table
            .domains
            .get(region)
            .map(String::as_str)
            .unwrap_or("amazonaws.com");
        Ok(format!(
            "{account}.dkr.ecr.{region}.{domain}/{}:{}",
            image.repository, image.tag
        ))
    };
    Ok(Images {
        sklearn: uri("sklearn")?,
        segmentation: uri("semantic-segmentation")?,
    })
}

/// What the definition is built from.
pub struct TemplateInput<'a> {
    /// The pipeline's name: its model package group is named after it.
    pub pipeline: &'a str,
    pub region: &'a str,
    pub layout: &'a StorageLayout,
    pub role_arn: &'a str,
    pub labels: &'a [String],
    pub training_instance: &'a str,
}

/// The classes, checked: what a mask and the algorithm can hold.
pub fn check_labels(labels: &[String]) -> Result<Vec<String>, ApiError> {
    let clean: Vec<String> = labels
        .iter()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    if clean.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidArgument,
            "Name the classes Label Studio annotates, such as --labels Beak,Head,Wing,Body.",
        ));
    }
    for (i, l) in clean.iter().enumerate() {
        if clean[..i].contains(l) {
            return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                format!("The label '{l}' is given twice; each class needs its own name."),
            ));
        }
        if l.contains(',') || l.eq_ignore_ascii_case("background") {
            return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                format!("'{l}' cannot be a label: labels hold no commas, and 'background' is class 0 already."),
            ));
        }
    }
    let joined = clean.join(",").chars().count();
    if joined > MAX_ARGUMENT {
        return Err(ApiError::new(
            ErrorCode::InvalidArgument,
            format!("The labels take {joined} characters joined with commas; the preprocessing step receives them as one container argument, which SageMaker caps at {MAX_ARGUMENT}. Use shorter names or fewer classes."),
        ));
    }
    // Masks are 8-bit, with 0 for the background.
    if clean.len() > 254 {
        return Err(ApiError::new(
            ErrorCode::InvalidArgument,
            format!(
                "{} labels are more than a mask can hold (254).",
                clean.len()
            ),
        ));
    }
    Ok(clean)
}

/// SageMaker's rule for instance type names, checked before anything is created.
pub fn check_instance(kind: &str) -> Result<(), ApiError> {
    let ok = kind.starts_with("ml.")
        && kind.len() <= 40
        && kind
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
    if ok && kind.matches('.').count() == 2 {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::InvalidArgument,
            format!("'{kind}' is not a SageMaker instance type (such as ml.p3.2xlarge or ml.g4dn.xlarge)."),
        ))
    }
}

/// SageMaker's rule for pipeline names.
pub fn check_pipeline_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 256
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::InvalidArgument,
            format!("'{name}' cannot name a pipeline: use letters, digits and inner hyphens (at most 256)."),
        ))
    }
}

/// The pipeline definition.
pub fn definition(input: &TemplateInput) -> Result<Value, ApiError> {
    let images = images_for(input.region)?;
    let labels = check_labels(input.labels)?;
    check_instance(input.training_instance)?;
    let l = input.layout;
    let s3 = |prefix: &str| format!("s3://{}/{}/", l.bucket, prefix);
    let temp = |channel: &str| {
        json!({"Std:Join": {"On": "/", "Values": [
            format!("s3://{}/{TEMP_PREFIX}", l.bucket),
            {"Get": "Execution.PipelineExecutionId"},
            channel,
        ]}})
    };
    let text = |v: Value| json!({"Std:Join": {"On": "", "Values": [v]}});
    let code_input = |script: &ShippedScript| {
        processing_input("code", &s3(&script.folder(&l.scripts)), CODE_DIR)
    };
    let processing_resources = json!({"ClusterConfig": {
        "InstanceType": {"Get": "Parameters.ProcessingInstanceType"},
        "InstanceCount": 1,
        "VolumeSizeInGB": 30,
    }});

    let mut outputs: Vec<Value> = CHANNELS
        .iter()
        .map(|(c, _)| processing_output(c, temp(c), &format!("/opt/ml/processing/output/{c}")))
        .collect();
    outputs.push(processing_output("summary", temp("summary"), SUMMARY_DIR));
    let preprocess = json!({
        "Name": "Preprocess",
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": processing_resources,
            "AppSpecification": {
                "ImageUri": images.sklearn,
                "ContainerEntrypoint": ["python3", format!("{CODE_DIR}/{}", PREPROCESS.file)],
                "ContainerArguments": [
                    "--images-uri", s3(&l.images),
                    "--labels", labels.join(","),
                    "--validation-ratio", text(json!({"Get": "Parameters.ValidationRatio"})),
                    "--summary", SUMMARY_DIR,
                    // One argument, so an empty parameter (no manifest) is `--manifest=`
                    // rather than an empty argument.
                    {"Std:Join": {"On": "", "Values": ["--manifest=", {"Get": "Parameters.DatasetManifest"}]}},
                ],
            },
            "RoleArn": input.role_arn,
            "ProcessingInputs": [
                code_input(&PREPROCESS),
                processing_input("annotations", &s3(&l.annotations), "/opt/ml/processing/input/annotations"),
                processing_input("images", &s3(&l.images), "/opt/ml/processing/input/images"),
            ],
            "ProcessingOutputConfig": {"Outputs": outputs},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        },
        // The number of training images is known only once preprocessing has run.
        "PropertyFiles": [{"PropertyFileName": "Summary", "OutputName": "summary", "FilePath": "summary.json"}],
    });

    let channels: Vec<Value> = CHANNELS
        .iter()
        .map(|(c, content_type)| {
            json!({
                "ChannelName": c,
                "DataSource": {"S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": {"Get": format!("Steps.Preprocess.ProcessingOutputConfig.Outputs['{c}'].S3Output.S3Uri")},
                    "S3DataDistributionType": "FullyReplicated",
                }},
                "ContentType": content_type,
                "CompressionType": "None",
                "RecordWrapperType": "None",
            })
        })
        .collect();
    let train = json!({
        "Name": "Train",
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {"TrainingImage": images.segmentation, "TrainingInputMode": "File"},
            "RoleArn": input.role_arn,
            "OutputDataConfig": {"S3OutputPath": s3(&l.model)},
            "ResourceConfig": {
                "InstanceType": {"Get": "Parameters.TrainingInstanceType"},
                "InstanceCount": 1,
                "VolumeSizeInGB": 50,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
            "InputDataConfig": channels,
            // The algorithm's documentation requires both counts; background is class 0.
            "HyperParameters": {
                "backbone": "resnet-50",
                "algorithm": "fcn",
                "use_pretrained_model": "True",
                "num_classes": (labels.len() + 1).to_string(),
                "num_training_samples": text(json!({"Std:JsonGet": {
                    "PropertyFile": {"Get": "Steps.Preprocess.PropertyFiles.Summary"},
                    "Path": "train",
                }})),
                "epochs": text(json!({"Get": "Parameters.Epochs"})),
            },
        },
    });

    let metric = |name: &str| {
        text(json!({"Get": format!("Steps.Train.FinalMetricDataList['{name}'].Value")}))
    };
    let metrics = json!({
        "Name": "Metrics",
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": processing_resources,
            "AppSpecification": {
                "ImageUri": images.sklearn,
                "ContainerEntrypoint": ["python3", format!("{CODE_DIR}/{}", METRICS.file)],
                "ContainerArguments": [
                    "--miou", metric(MIOU),
                    "--pixel-accuracy", metric(PIXEL_ACCURACY),
                    "--output", METRICS_DIR,
                ],
            },
            "RoleArn": input.role_arn,
            "ProcessingInputs": [code_input(&METRICS)],
            "ProcessingOutputConfig": {"Outputs": [processing_output(
                "metrics",
                json!({"Std:Join": {"On": "/", "Values": [
                    format!("s3://{}/{}/{METRICS_FOLDER}", l.bucket, l.model),
                    {"Get": "Execution.PipelineExecutionId"},
                ]}}),
                METRICS_DIR,
            )]},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        },
    });

    // The shape the SageMaker Python SDK's RegisterModel emits. SageMaker itself records the
    // execution's ARN as the version's MetadataProperties.GeneratedBy.
    let register = json!({
        "Name": "RegisterModel",
        "Type": "RegisterModel",
        "Arguments": {
            "ModelPackageGroupName": group_name_for(input.pipeline),
            "ModelPackageDescription": {"Std:Join": {"On": " ", "Values": [
                "Trained by Loopline's pipeline, execution",
                {"Get": "Execution.PipelineExecutionId"},
            ]}},
            "ModelApprovalStatus": {"Get": "Parameters.ModelApprovalStatus"},
            "InferenceSpecification": {
                "Containers": [{
                    "Image": images.segmentation,
                    "ModelDataUrl": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"},
                }],
                "SupportedContentTypes": CONTENT_TYPES,
                "SupportedResponseMIMETypes": RESPONSE_TYPES,
                "SupportedRealtimeInferenceInstanceTypes": INFERENCE_INSTANCES,
                "SupportedTransformInstanceTypes": INFERENCE_INSTANCES,
            },
            "ModelMetrics": {"ModelQuality": {"Statistics": {
                "ContentType": "application/json",
                "S3Uri": {"Std:Join": {"On": "/", "Values": [
                    {"Get": "Steps.Metrics.ProcessingOutputConfig.Outputs['metrics'].S3Output.S3Uri"},
                    STATISTICS_FILE,
                ]}},
            }}},
        },
    });

    let cleanup = json!({
        "Name": "Cleanup",
        "Type": "Processing",
        "DependsOn": ["Train"],
        "Arguments": {
            "ProcessingResources": processing_resources,
            "AppSpecification": {
                "ImageUri": images.sklearn,
                "ContainerEntrypoint": ["python3", format!("{CODE_DIR}/{}", CLEANUP.file)],
                "ContainerArguments": [
                    "--bucket", l.bucket,
                    "--prefix", {"Std:Join": {"On": "/", "Values": [TEMP_PREFIX, {"Get": "Execution.PipelineExecutionId"}]}},
                ],
            },
            "RoleArn": input.role_arn,
            "ProcessingInputs": [code_input(&CLEANUP)],
            "StoppingCondition": {"MaxRuntimeInSeconds": 1800},
        },
    });

    Ok(json!({
        "Version": "2020-12-01",
        "Metadata": record(&labels).metadata(),
        "Parameters": [
            {"Name": "ProcessingInstanceType", "Type": "String", "DefaultValue": DEFAULT_PROCESSING_INSTANCE},
            {"Name": "TrainingInstanceType", "Type": "String", "DefaultValue": input.training_instance},
            {"Name": "Epochs", "Type": "Integer", "DefaultValue": 10},
            {"Name": "ValidationRatio", "Type": "Float", "DefaultValue": 0.2},
            {"Name": "ModelApprovalStatus", "Type": "String", "DefaultValue": DEFAULT_APPROVAL},
            {"Name": "DatasetManifest", "Type": "String", "DefaultValue": ""},
        ],
        "Steps": [preprocess, train, metrics, register, cleanup],
    }))
}

fn processing_input(name: &str, uri: &str, local: &str) -> Value {
    json!({
        "InputName": name,
        "AppManaged": false,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
        },
    })
}

fn processing_output(name: &str, uri: Value, local: &str) -> Value {
    json!({
        "OutputName": name,
        "AppManaged": false,
        "S3Output": {"S3Uri": uri, "LocalPath": local, "S3UploadMode": "EndOfJob"},
    })
}

/// The record Loopline keeps in a definition built from `labels`.
pub fn record(labels: &[String]) -> Record {
    let script = |s: &ShippedScript| ScriptRecord {
        version: s.version().to_string(),
        sha256: s.sha256(),
    };
    Record {
        template: TEMPLATE.to_string(),
        version: TEMPLATE_VERSION.to_string(),
        labels: labels.to_vec(),
        scripts: BTreeMap::from([
            (PREPROCESS.name.to_string(), script(&PREPROCESS)),
            (METRICS.name.to_string(), script(&METRICS)),
            (CLEANUP.name.to_string(), script(&CLEANUP)),
        ]),
    }
}

/// The labels a definition was built with (from its metadata), if Loopline built it.
pub fn labels_of(definition: &Value) -> Option<Vec<String>> {
    Record::read(definition).map(|r| r.labels)
}

/// A definition's parameters, as `name (type, default value)` lines.
pub fn parameters_of(definition: &Value) -> Vec<String> {
    definition["Parameters"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|p| {
                    let name = p["Name"].as_str().unwrap_or("?");
                    let kind = p["Type"].as_str().unwrap_or("String");
                    match &p["DefaultValue"] {
                        Value::Null => format!("{name} ({kind}, no default)"),
                        Value::String(s) if s.is_empty() => {
                            format!("{name} ({kind}, default empty)")
                        }
                        Value::String(s) => format!("{name} ({kind}, default {s})"),
                        v => format!("{name} ({kind}, default {v})"),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> StorageLayout {
        StorageLayout {
            bucket: "sagemaker-birds".into(),
            region: "eu-west-1".into(),
            images: "bird-images".into(),
            annotations: "annotations".into(),
            scripts: "script".into(),
            model: "model".into(),
        }
    }

    fn strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
            Value::Object(o) => o.values().for_each(|x| strings(x, out)),
            _ => {}
        }
    }

    #[test]
    fn the_definition_is_complete_for_the_region_and_bucket() {
        let labels: Vec<String> = ["Beak", "Head", "Wing", "Body"].map(String::from).to_vec();
        let role = "arn:aws:iam::123456789012:role/LooplineSageMakerExecution";
        let def = definition(&TemplateInput {
            pipeline: "birds-seg",
            region: "eu-west-1",
            layout: &layout(),
            role_arn: role,
            labels: &labels,
            training_instance: DEFAULT_TRAINING_INSTANCE,
        })
        .unwrap();
        let mut all = Vec::new();
        strings(&def, &mut all);
        for s in &all {
            if s.to_lowercase().starts_with("s3:") {
                assert!(s.starts_with("s3://sagemaker-birds/"), "{s}");
            }
            assert!(!s.contains('$') && !s.contains("ROLE_FOR"), "{s}");
            if s.contains(".dkr.ecr.") {
                assert!(
                    s.starts_with("685385470294.dkr.ecr.eu-west-1.amazonaws.com/")
                        || s.starts_with("141502667606.dkr.ecr.eu-west-1.amazonaws.com/"),
                    "{s}"
                );
            }
        }
        let steps = def["Steps"].as_array().unwrap();
        let names: Vec<&str> = steps.iter().map(|s| s["Name"].as_str().unwrap()).collect();
        assert_eq!(names, STEP_NAMES);
        for s in steps {
            if s["Type"] != "RegisterModel" {
                assert_eq!(s["Arguments"]["RoleArn"], role);
            }
        }
        let hp = &steps[1]["Arguments"]["HyperParameters"];
        assert_eq!(hp["num_classes"], "5");
        assert_eq!(
            hp["num_training_samples"]["Std:Join"]["Values"][0]["Std:JsonGet"]["Path"],
            "train"
        );
        assert_eq!(
            steps[1]["Arguments"]["ResourceConfig"]["InstanceType"],
            json!({"Get": "Parameters.TrainingInstanceType"})
        );
        assert_eq!(
            steps[1]["Arguments"]["AlgorithmSpecification"]["TrainingImage"],
            "685385470294.dkr.ecr.eu-west-1.amazonaws.com/semantic-segmentation:1"
        );
        assert_eq!(labels_of(&def).unwrap(), labels);
        let params = parameters_of(&def);
        assert!(
            params.contains(&"TrainingInstanceType (String, default ml.p3.2xlarge)".to_string())
        );
        assert!(params
            .contains(&"ModelApprovalStatus (String, default PendingManualApproval)".to_string()));
        assert!(params.contains(&"DatasetManifest (String, default empty)".to_string()));
    }

    #[test]
    fn the_model_is_registered_with_the_training_metrics_and_the_approval_parameter() {
        let labels = vec!["Beak".to_string()];
        let def = definition(&TemplateInput {
            pipeline: "birds-seg",
            region: "eu-west-1",
            layout: &layout(),
            role_arn: "arn:aws:iam::123456789012:role/R",
            labels: &labels,
            training_instance: DEFAULT_TRAINING_INSTANCE,
        })
        .unwrap();
        let step = |n: &str| {
            def["Steps"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["Name"] == n)
                .unwrap()
                .clone()
        };
        let args = step("Metrics")["Arguments"]["AppSpecification"]["ContainerArguments"].clone();
        assert_eq!(
            args[1]["Std:Join"]["Values"][0]["Get"],
            "Steps.Train.FinalMetricDataList['validation:mIOU'].Value"
        );
        assert_eq!(
            args[3]["Std:Join"]["Values"][0]["Get"],
            "Steps.Train.FinalMetricDataList['validation:pixel_accuracy'].Value"
        );
        let out = &step("Metrics")["Arguments"]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]
            ["S3Uri"];
        assert_eq!(
            out["Std:Join"]["Values"][0],
            "s3://sagemaker-birds/model/metrics"
        );
        let reg = step("RegisterModel")["Arguments"].clone();
        assert_eq!(reg["ModelPackageGroupName"], "birds-seg");
        assert_eq!(
            reg["ModelApprovalStatus"],
            json!({"Get": "Parameters.ModelApprovalStatus"})
        );
        assert_eq!(
            reg["InferenceSpecification"]["Containers"][0]["ModelDataUrl"],
            json!({"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"})
        );
        assert_eq!(
            reg["InferenceSpecification"]["Containers"][0]["Image"],
            "685385470294.dkr.ecr.eu-west-1.amazonaws.com/semantic-segmentation:1"
        );
        let stats = &reg["ModelMetrics"]["ModelQuality"]["Statistics"];
        assert_eq!(stats["ContentType"], "application/json");
        assert_eq!(stats["S3Uri"]["Std:Join"]["Values"][1], "statistics.json");
        // The manifest travels as one `--manifest=<value>` argument, empty by default.
        let pre = step("Preprocess")["Arguments"]["AppSpecification"]["ContainerArguments"].clone();
        let last = pre.as_array().unwrap().last().unwrap().clone();
        assert_eq!(
            last,
            json!({"Std:Join": {"On": "", "Values": ["--manifest=", {"Get": "Parameters.DatasetManifest"}]}})
        );
        let record = Record::read(&def).unwrap();
        assert_eq!(record.version, "2");
        assert!(record.scripts.contains_key("metrics"));
    }

    #[test]
    fn regions_come_from_the_table_and_unknown_ones_are_refused() {
        assert!(images_for("us-east-2")
            .unwrap()
            .segmentation
            .starts_with("825641698319.dkr.ecr.us-east-2.amazonaws.com/"));
        assert!(images_for("us-east-1")
            .unwrap()
            .segmentation
            .starts_with("811284229777."));
        assert!(images_for("cn-north-1")
            .unwrap()
            .sklearn
            .contains(".amazonaws.com.cn/"));
        let e = images_for("mars-north-1").err().unwrap();
        assert_eq!(e.code, ErrorCode::AwsBadRegion);
        assert!(e.message.contains("eu-west-1"));
    }

    #[test]
    fn labels_instances_and_names_are_checked() {
        assert!(check_labels(&[]).is_err());
        assert!(check_labels(&["A".into(), "A".into()]).is_err());
        assert!(check_labels(&["background".into()]).is_err());
        assert_eq!(check_labels(&[" A ".into(), "".into()]).unwrap(), vec!["A"]);
        assert!(check_instance("ml.g4dn.xlarge").is_ok());
        assert!(check_instance("p3.2xlarge").is_err());
        let longest: Vec<String> = (0..64).map(|i| format!("L{i:02}")).collect();
        assert!(check_labels(&longest).is_ok(), "255 characters joined");
        let e = check_labels(&[longest, vec!["L64".into()]].concat()).unwrap_err();
        assert!(e.message.contains("259 characters"), "{}", e.message);
        assert!(check_pipeline_name("birds-seg").is_ok());
        assert!(check_pipeline_name("birds_seg").is_err());
    }
}
