//! The pipeline part of the training setup through in-memory IAM, S3 and SageMaker: the
//! plan shows the definition and does nothing, a run uploads the scripts and creates the
//! pipeline, a second run changes nothing, new labels update it, a role that cannot be
//! assumed yet is waited for, a zero quota is reported, and a pipeline Loopline did not
//! build is only ever used as it is; the model package group is created once, and a pipeline
//! of template version 1 is updated with words saying what version 2 adds. Against moto:
//! e2e/test_setup_training.py and e2e/test_models.py.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::fake_registry::FakeRegistry;
use common::fake_roles::FakeIam;
use common::fake_s3::FakeS3;
use common::fake_sagemaker::{cannot_assume, FakeSageMaker};
use common::{receiving_with, Running};
use loopline_cloud::pipeline_definitions::{PipelineInfo, QuotaCheck};
use loopline_cloud::s3::ObjectStore;
use loopline_core::{ErrorCode, RolePolicy, RoleRequest, SetupReport, StepStatus};

const BUCKET: &str = "sagemaker-birds";

struct World {
    r: Running,
    s3: Arc<FakeS3>,
    sm: Arc<FakeSageMaker>,
    registry: Arc<FakeRegistry>,
}

async fn world() -> World {
    world_with(vec![Duration::ZERO; 3]).await
}

async fn world_with(delays: Vec<Duration>) -> World {
    let s3 = Arc::new(FakeS3::new("eu-west-1"));
    s3.create_bucket(BUCKET).await.unwrap();
    let sm = Arc::new(FakeSageMaker::default());
    let registry = Arc::new(FakeRegistry::default());
    let (s, m, g) = (s3.clone(), sm.clone(), registry.clone());
    let r = receiving_with(move |o| {
        o.roles = Some(Arc::new(FakeIam::default()));
        o.object_store = Some(s);
        o.pipeline_definitions = Some(m);
        o.model_registry = Some(g);
        o.setup_retry_delays = Some(delays);
    })
    .await;
    World {
        r,
        s3,
        sm,
        registry,
    }
}

fn ask(labels: &[&str]) -> RoleRequest {
    RoleRequest {
        region: "eu-west-1".into(),
        bucket: Some(BUCKET.into()),
        policy: RolePolicy::Scoped,
        pipeline: Some("birds-segmentation".into()),
        labels: labels.iter().map(|l| l.to_string()).collect(),
        ..Default::default()
    }
}

fn step<'a>(report: &'a SetupReport, key: &str) -> &'a loopline_core::SetupStep {
    report
        .steps
        .iter()
        .find(|s| s.key == key)
        .unwrap_or_else(|| panic!("no step {key} in {report:?}"))
}

const LABELS: [&str; 4] = ["Beak", "Head", "Wing", "Body"];

#[tokio::test]
async fn the_pipeline_is_planned_created_left_alone_and_updated_when_the_labels_change() {
    let w = world().await;
    let plan = w.r.engine.setup_role(ask(&LABELS), true).await.unwrap();
    let p = step(&plan, "sm.pipeline");
    assert_eq!(p.status, StepStatus::Planned);
    assert_eq!(
        p.resource,
        "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/birds-segmentation"
    );
    let shown: serde_json::Value = serde_json::from_str(p.detail.as_deref().unwrap()).unwrap();
    assert_eq!(
        shown["Steps"].as_array().unwrap().len(),
        5,
        "the plan shows the definition"
    );
    assert!(p.summary.contains("5 classes"), "{}", p.summary);
    assert_eq!(step(&plan, "sm.scripts").status, StepStatus::Planned);
    assert_eq!(step(&plan, "sm.quota").status, StepStatus::Skipped);
    assert_eq!(
        (w.sm.writes(), w.s3.keys(BUCKET).len()),
        (0, 0),
        "a plan does nothing"
    );

    let done = w.r.engine.setup_role(ask(&LABELS), false).await.unwrap();
    assert_eq!(step(&done, "sm.scripts").status, StepStatus::Uploaded);
    assert_eq!(
        step(&done, "sm.pipeline").status,
        StepStatus::Created,
        "{done:?}"
    );
    let (body, content_type, _) =
        w.s3.object(BUCKET, "script/preprocess/preprocess.py")
            .expect("the script is uploaded under its own prefix");
    assert_eq!(content_type, "text/x-python");
    assert!(String::from_utf8_lossy(&body).contains("VERSION = \"2\""));
    assert!(w.s3.object(BUCKET, "script/cleanup/cleanup.py").is_some());
    assert!(w.s3.object(BUCKET, "script/metrics/metrics.py").is_some());
    let def = w.sm.definition("birds-segmentation");
    assert_eq!(
        def["Steps"][1]["Arguments"]["HyperParameters"]["num_classes"],
        "5"
    );
    let chosen = w.r.engine.chosen_pipeline().await.unwrap().unwrap();
    assert_eq!(chosen.labels, LABELS);

    // Nothing changed: nothing is written. Without --labels, the pipeline's own are kept.
    let (writes, puts) = (
        w.sm.writes(),
        w.s3.puts.load(std::sync::atomic::Ordering::SeqCst),
    );
    for labels in [&LABELS[..], &[]] {
        let again = w.r.engine.setup_role(ask(labels), false).await.unwrap();
        assert_eq!(step(&again, "sm.scripts").status, StepStatus::Unchanged);
        assert_eq!(
            step(&again, "sm.pipeline").status,
            StepStatus::Unchanged,
            "{again:?}"
        );
    }
    assert_eq!(w.sm.writes(), writes);
    assert_eq!(w.s3.puts.load(std::sync::atomic::Ordering::SeqCst), puts);

    let fewer =
        w.r.engine
            .setup_role(ask(&["Beak", "Wing"]), false)
            .await
            .unwrap();
    let p = step(&fewer, "sm.pipeline");
    assert_eq!(p.status, StepStatus::Updated);
    assert!(
        p.summary.contains("labels Beak,Head,Wing,Body → Beak,Wing"),
        "{}",
        p.summary
    );
    let def = w.sm.definition("birds-segmentation");
    assert_eq!(
        def["Steps"][1]["Arguments"]["HyperParameters"]["num_classes"],
        "3"
    );
    let args = def["Steps"][0]["Arguments"]["AppSpecification"]["ContainerArguments"].clone();
    assert!(
        args.as_array().unwrap().contains(&"Beak,Wing".into()),
        "{args}"
    );

    let status = w.r.engine.setup_status().await.unwrap();
    let pipeline = status.iter().find(|s| s.key == "sm.pipeline").unwrap();
    assert_eq!(
        pipeline.status,
        StepStatus::Updated,
        "setup status shows the last outcome"
    );
}

#[tokio::test]
async fn a_role_that_cannot_be_assumed_yet_is_waited_for_then_given_up_on() {
    let w = world().await;
    w.sm.failures
        .lock()
        .unwrap()
        .extend([cannot_assume(), cannot_assume()]);
    let done = w.r.engine.setup_role(ask(&LABELS), false).await.unwrap();
    assert_eq!(step(&done, "sm.pipeline").status, StepStatus::Created);
    assert!(w.sm.failures.lock().unwrap().is_empty());

    let w = world().await;
    w.sm.failures
        .lock()
        .unwrap()
        .extend((0..4).map(|_| cannot_assume()));
    let failed = w.r.engine.setup_role(ask(&LABELS), false).await.unwrap();
    let p = step(&failed, "sm.pipeline");
    assert_eq!(p.status, StepStatus::Failed);
    assert!(p.summary.contains("after a minute"), "{}", p.summary);
}

#[tokio::test]
async fn a_zero_quota_is_reported_with_its_fix_and_the_pipeline_is_still_built() {
    let w = world().await;
    *w.sm.quota.lock().unwrap() = QuotaCheck::Known {
        name: "ml.p3.2xlarge for training job usage".into(),
        value: 0.0,
    };
    let done = w.r.engine.setup_role(ask(&LABELS), false).await.unwrap();
    let q = step(&done, "sm.quota");
    assert_eq!(q.status, StepStatus::Failed);
    let e = q.error.as_ref().unwrap();
    assert_eq!(e.code, ErrorCode::NoQuota);
    assert!(e.message.contains("--training-instance"), "{}", e.message);
    assert_eq!(step(&done, "sm.pipeline").status, StepStatus::Created);

    *w.sm.quota.lock().unwrap() = QuotaCheck::Known {
        name: "ml.g4dn.xlarge for training job usage".into(),
        value: 2.0,
    };
    let other =
        w.r.engine
            .setup_role(
                RoleRequest {
                    training_instance: Some("ml.g4dn.xlarge".into()),
                    ..ask(&LABELS)
                },
                false,
            )
            .await
            .unwrap();
    assert_eq!(step(&other, "sm.quota").status, StepStatus::Unchanged);
    let p = step(&other, "sm.pipeline");
    assert_eq!(p.status, StepStatus::Updated);
    assert!(
        p.summary.contains("ml.p3.2xlarge → ml.g4dn.xlarge"),
        "{}",
        p.summary
    );
}

#[tokio::test]
async fn a_pipeline_loopline_did_not_build_is_only_used_as_it_is() {
    let w = world().await;
    let theirs = r#"{"Version":"2020-12-01","Parameters":[{"Name":"InstanceType","Type":"String","DefaultValue":"ml.g5.xlarge"}],"Steps":[]}"#;
    w.sm.pipelines.lock().unwrap().insert(
        "theirs".into(),
        PipelineInfo {
            arn: "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/theirs".into(),
            definition: theirs.into(),
            role_arn: Some("arn:aws:iam::123456789012:role/Theirs".into()),
        },
    );
    let refused =
        w.r.engine
            .setup_role(
                RoleRequest {
                    pipeline: Some("theirs".into()),
                    ..ask(&LABELS)
                },
                false,
            )
            .await
            .unwrap();
    let p = step(&refused, "sm.pipeline");
    assert_eq!(p.status, StepStatus::Failed);
    assert!(
        p.summary.contains("--use-existing-pipeline"),
        "{}",
        p.summary
    );

    let used =
        w.r.engine
            .setup_role(
                RoleRequest {
                    pipeline: Some("theirs".into()),
                    use_existing_pipeline: true,
                    ..ask(&[])
                },
                false,
            )
            .await
            .unwrap();
    let p = step(&used, "sm.pipeline");
    assert_eq!(p.status, StepStatus::Unchanged);
    assert!(
        p.summary
            .contains("InstanceType (String, default ml.g5.xlarge)"),
        "{}",
        p.summary
    );
    assert_eq!(w.sm.writes(), 0);
    assert_eq!(w.sm.pipelines.lock().unwrap()["theirs"].definition, theirs);
    assert_eq!(
        w.r.engine.chosen_pipeline().await.unwrap().unwrap().name,
        "theirs"
    );

    let missing =
        w.r.engine
            .setup_role(
                RoleRequest {
                    pipeline: Some("nope".into()),
                    use_existing_pipeline: true,
                    ..ask(&[])
                },
                false,
            )
            .await
            .unwrap();
    assert_eq!(
        step(&missing, "sm.pipeline").error.as_ref().unwrap().code,
        ErrorCode::NotFound
    );
}

#[tokio::test]
async fn a_region_without_the_images_and_missing_labels_are_refused_clearly() {
    let w = world().await;
    let far =
        w.r.engine
            .setup_role(
                RoleRequest {
                    region: "mars-north-1".into(),
                    ..ask(&LABELS)
                },
                false,
            )
            .await
            .unwrap();
    let e = step(&far, "sm.pipeline").error.clone().unwrap();
    assert_eq!(e.code, ErrorCode::AwsBadRegion);
    assert!(e.message.contains("eu-west-1"), "{}", e.message);

    let unlabelled = w.r.engine.setup_role(ask(&[]), false).await.unwrap();
    let e = step(&unlabelled, "sm.pipeline").error.clone().unwrap();
    assert!(e.message.contains("--labels"), "{}", e.message);
    assert_eq!(w.sm.writes(), 0);
}

#[tokio::test]
async fn the_record_is_string_metadata_and_the_older_object_form_is_still_understood() {
    let w = world().await;
    let done = w.r.engine.setup_role(ask(&LABELS), false).await.unwrap();
    assert_eq!(step(&done, "sm.pipeline").status, StepStatus::Created);
    let def = w.sm.definition("birds-segmentation");
    let meta = def["Metadata"].as_object().unwrap().clone();
    assert!(
        meta.values()
            .all(|v| v.as_str().is_some_and(|s| s.chars().count() <= 1024)),
        "the schema's Metadata holds strings of at most 1,024 characters: {meta:?}"
    );
    assert_eq!(meta["loopline-labels"], "Beak,Head,Wing,Body");
    assert_eq!(
        meta["loopline-script-preprocess-sha256"]
            .as_str()
            .unwrap()
            .len(),
        64
    );

    // The same pipeline as an earlier Loopline wrote it: the record as one object.
    let text = |k: &str| meta[k].clone();
    let mut older = def.clone();
    older["Metadata"] = serde_json::json!({"loopline": {
        "template": text("loopline-template"),
        "version": text("loopline-template-version"),
        "labels": LABELS,
        "scripts": {
            "preprocess": {"version": text("loopline-script-preprocess-version"), "sha256": text("loopline-script-preprocess-sha256")},
            "metrics": {"version": text("loopline-script-metrics-version"), "sha256": text("loopline-script-metrics-sha256")},
            "cleanup": {"version": text("loopline-script-cleanup-version"), "sha256": text("loopline-script-cleanup-sha256")},
        },
    }});
    let older_text = serde_json::to_string(&older).unwrap();
    w.sm.pipelines
        .lock()
        .unwrap()
        .get_mut("birds-segmentation")
        .unwrap()
        .definition = older_text.clone();
    let writes = w.sm.writes();
    for labels in [&LABELS[..], &[]] {
        let again = w.r.engine.setup_role(ask(labels), false).await.unwrap();
        let p = step(&again, "sm.pipeline");
        assert_eq!(p.status, StepStatus::Unchanged, "{again:?}");
        assert!(p.summary.contains("Metadata.loopline"), "{}", p.summary);
    }
    assert_eq!(
        w.sm.writes(),
        writes,
        "not rewritten for its metadata alone"
    );
    assert_eq!(
        w.sm.pipelines.lock().unwrap()["birds-segmentation"].definition,
        older_text
    );
    assert_eq!(
        w.r.engine.chosen_pipeline().await.unwrap().unwrap().labels,
        LABELS
    );

    // Its labels and scripts are read from the older form: a change is named as one.
    let mut stale = older.clone();
    stale["Metadata"]["loopline"]["scripts"]["cleanup"]["sha256"] = "0".repeat(64).into();
    w.sm.pipelines
        .lock()
        .unwrap()
        .get_mut("birds-segmentation")
        .unwrap()
        .definition = serde_json::to_string(&stale).unwrap();
    let fewer =
        w.r.engine
            .setup_role(ask(&["Beak", "Wing"]), false)
            .await
            .unwrap();
    let p = step(&fewer, "sm.pipeline");
    assert_eq!(p.status, StepStatus::Updated);
    assert!(
        p.summary
            .contains("labels Beak,Head,Wing,Body → Beak,Wing; new script versions"),
        "{}",
        p.summary
    );
    let now = w.sm.definition("birds-segmentation");
    assert!(now["Metadata"].get("loopline").is_none(), "{now}");
    assert_eq!(now["Metadata"]["loopline-labels"], "Beak,Wing");
}

#[tokio::test]
async fn a_cancel_while_the_new_role_spreads_stops_waiting_and_keeps_the_role() {
    // An hour between tries: only Cancel ends the wait.
    let w = world_with(vec![Duration::from_secs(3600); 3]).await;
    w.sm.failures
        .lock()
        .unwrap()
        .extend((0..4).map(|_| cannot_assume()));
    let engine = w.r.engine.clone();
    let setup = tokio::spawn(async move { engine.setup_role(ask(&LABELS), false).await });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !w.r.engine.cancel_setup(loopline_core::SetupWork::Role) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the setup never ran"
        );
        tokio::task::yield_now().await;
    }
    let done = tokio::time::timeout(Duration::from_secs(10), setup)
        .await
        .expect("Cancel ends the wait at once")
        .unwrap()
        .unwrap();
    assert_eq!(step(&done, "iam.role").status, StepStatus::Created, "kept");
    let p = step(&done, "sm.pipeline");
    assert_eq!(p.status, StepStatus::Failed);
    let e = p.error.as_ref().unwrap();
    assert_eq!(e.code, ErrorCode::Cancelled);
    assert!(
        e.message.contains("new role usable by SageMaker"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn the_model_package_group_is_planned_created_once_and_then_left_alone() {
    let w = world().await;
    let plan = w.r.engine.setup_role(ask(&LABELS), true).await.unwrap();
    let g = step(&plan, "sm.model_group");
    assert_eq!(g.status, StepStatus::Planned);
    assert_eq!(
        g.resource,
        "arn:aws:sagemaker:eu-west-1:123456789012:model-package-group/birds-segmentation"
    );
    assert!(g.summary.contains("'birds-segmentation'"), "{}", g.summary);
    assert_eq!(
        *w.registry.group_creates.lock().unwrap(),
        0,
        "a plan does nothing"
    );

    let done = w.r.engine.setup_role(ask(&LABELS), false).await.unwrap();
    let g = step(&done, "sm.model_group");
    assert_eq!(g.status, StepStatus::Created, "{done:?}");
    assert!(g
        .resource
        .ends_with(":model-package-group/birds-segmentation"));
    // The pipeline registers into that very group, with the metrics the Metrics step writes.
    let def = w.sm.definition("birds-segmentation");
    let register = def["Steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Type"] == "RegisterModel")
        .unwrap();
    assert_eq!(
        register["Arguments"]["ModelPackageGroupName"],
        "birds-segmentation"
    );

    let again = w.r.engine.setup_role(ask(&LABELS), false).await.unwrap();
    assert_eq!(step(&again, "sm.model_group").status, StepStatus::Unchanged);
    assert_eq!(*w.registry.group_creates.lock().unwrap(), 1);
    let status = w.r.engine.setup_status().await.unwrap();
    assert!(status
        .iter()
        .any(|s| s.key == "sm.model_group" && s.status == StepStatus::Unchanged));
}

#[tokio::test]
async fn a_pipeline_of_template_version_1_is_updated_with_what_version_2_adds() {
    let w = world().await;
    w.r.engine.setup_role(ask(&LABELS), false).await.unwrap();
    // The same pipeline as version 1 built it: three steps, four parameters.
    let mut old = w.sm.definition("birds-segmentation");
    old["Metadata"]["loopline-template-version"] = "1".into();
    let steps: Vec<serde_json::Value> = old["Steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Name"] != "Metrics" && s["Name"] != "RegisterModel")
        .cloned()
        .collect();
    old["Steps"] = steps.into();
    let params: Vec<serde_json::Value> = old["Parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["Name"] != "ModelApprovalStatus" && p["Name"] != "DatasetManifest")
        .cloned()
        .collect();
    old["Parameters"] = params.into();
    w.sm.pipelines
        .lock()
        .unwrap()
        .get_mut("birds-segmentation")
        .unwrap()
        .definition = old.to_string();

    let plan = w.r.engine.setup_role(ask(&LABELS), true).await.unwrap();
    let p = step(&plan, "sm.pipeline");
    assert_eq!(p.status, StepStatus::Planned);
    for words in [
        "template version 1 → 2: adds a Metrics step",
        "a RegisterModel step",
        "model package group named after the pipeline",
        "ModelApprovalStatus parameter, default PendingManualApproval",
        "a DatasetManifest parameter",
        "new parameters ModelApprovalStatus (String, default PendingManualApproval), DatasetManifest (String, default empty)",
    ] {
        assert!(p.summary.contains(words), "'{words}' not in: {}", p.summary);
    }
    let done = w.r.engine.setup_role(ask(&LABELS), false).await.unwrap();
    assert_eq!(step(&done, "sm.pipeline").status, StepStatus::Updated);
    assert_eq!(
        w.sm.definition("birds-segmentation")["Steps"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}
