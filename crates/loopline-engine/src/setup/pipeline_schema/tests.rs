//! The schema rules on every definition the template can produce, and on deliberate breaks.

use super::super::pipeline_template::{definition, TemplateInput, DEFAULT_TRAINING_INSTANCE};
use super::*;
use loopline_core::StorageLayout;
use serde_json::json;
use std::collections::BTreeSet;

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
        serde_json::from_str(include_str!("../../../pipeline/image_registries.json")).unwrap();
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
        pipeline: "birds-seg",
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
                        pipeline: "birds-seg",
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
    let breaks: &[(&str, Break)] = &[
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
        // The Metrics and RegisterModel steps (template version 2).
        ("reports no metric 'validation:iou'", |d| {
            d["Steps"][2]["Arguments"]["AppSpecification"]["ContainerArguments"][1]["Std:Join"]
                ["Values"][0] =
                json!({"Get": "Steps.Train.FinalMetricDataList['validation:iou'].Value"})
        }),
        ("read a metric's value", |d| {
            d["Steps"][2]["Arguments"]["AppSpecification"]["ContainerArguments"][1]["Std:Join"]
                ["Values"][0] = json!({"Get": "Steps.Train.FinalMetricDataList['validation:mIOU']"})
        }),
        ("ModelPackageGroupName: 'birds_seg'", |d| {
            d["Steps"][3]["Arguments"]["ModelPackageGroupName"] = json!("birds_seg")
        }),
        ("ModelPackageGroupName is required", |d| {
            d["Steps"][3]["Arguments"]
                .as_object_mut()
                .unwrap()
                .remove("ModelPackageGroupName");
        }),
        ("'Pending' is not Approved", |d| {
            d["Steps"][3]["Arguments"]["ModelApprovalStatus"] = json!("Pending")
        }),
        ("no property 'ModelApprovalStatuss'", |d| {
            d["Steps"][3]["Arguments"]["ModelApprovalStatuss"] = json!("Approved")
        }),
        ("no property 'RoleArn'", |d| {
            d["Steps"][3]["Arguments"]["RoleArn"] = json!("arn:aws:iam::1:role/r")
        }),
        ("a Training step has no property 'ModelArtifact'", |d| {
            d["Steps"][3]["Arguments"]["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] =
                json!({"Get": "Steps.Train.ModelArtifact.S3ModelArtifacts"})
        }),
        ("ModelArtifacts has only S3ModelArtifacts", |d| {
            d["Steps"][3]["Arguments"]["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] =
                json!({"Get": "Steps.Train.ModelArtifacts.S3Uri"})
        }),
        ("the step has no output 'metric'", |d| {
            d["Steps"][3]["Arguments"]["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
                ["Std:Join"]["Values"][0] = json!({"Get": "Steps.Metrics.ProcessingOutputConfig.Outputs['metric'].S3Output.S3Uri"})
        }),
        ("no parameter 'ModelApproval'", |d| {
            d["Steps"][3]["Arguments"]["ModelApprovalStatus"] =
                json!({"Get": "Parameters.ModelApproval"})
        }),
        ("at least one container", |d| {
            d["Steps"][3]["Arguments"]["InferenceSpecification"]["Containers"] = json!([])
        }),
        ("DatasetManifest' is declared but no step uses it", |d| {
            d["Steps"][0]["Arguments"]["AppSpecification"]["ContainerArguments"]
                .as_array_mut()
                .unwrap()
                .pop();
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
