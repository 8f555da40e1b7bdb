//! Loopline's pipeline template as data: preprocessing (scikit-learn image, `preprocess.py`),
//! training (the built-in semantic-segmentation algorithm, FCN on ResNet-50), cleanup
//! (`cleanup.py`). The definition is built as JSON values, never by replacing text in a
//! template, so nothing is left as a placeholder and every URI is written one way.

use std::collections::BTreeMap;

use loopline_core::{ApiError, ErrorCode, StorageLayout};
use serde::Deserialize;
use serde_json::{json, Value};

use super::pipeline_record::{Record, ScriptRecord};
use super::scripts::{ShippedScript, CLEANUP, PREPROCESS};

/// The template's name and its own version, kept in the definition's metadata. The version
/// names the steps' shape: it did not change when the record moved to string values.
pub const TEMPLATE: &str = "semantic-segmentation";
pub const TEMPLATE_VERSION: &str = "1";
/// SageMaker's limit on one container argument: the labels travel as one.
const MAX_ARGUMENT: usize = 256;
/// A GPU type: the algorithm trains on GPUs (CPU instances are for inference only).
pub const DEFAULT_TRAINING_INSTANCE: &str = "ml.p3.2xlarge";
pub const DEFAULT_PROCESSING_INSTANCE: &str = "ml.m5.xlarge";
/// Where each execution keeps its intermediate data, under its own execution id.
pub const TEMP_PREFIX: &str = "loopline-tmp";
pub const STEP_NAMES: [&str; 3] = ["Preprocess", "Train", "Cleanup"];

const CODE_DIR: &str = "/opt/ml/processing/input/code";
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
        ],
        "Steps": [preprocess, train, cleanup],
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
        assert_eq!(steps.len(), 3);
        for s in steps {
            assert_eq!(s["Arguments"]["RoleArn"], role);
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
        assert!(parameters_of(&def)
            .contains(&"TrainingInstanceType (String, default ml.p3.2xlarge)".to_string()));
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
