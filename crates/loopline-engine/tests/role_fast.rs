//! The execution role's setup through an in-memory IAM: planned with its trust policy shown,
//! created and read back, the chosen permissions attached, nothing done twice, an existing
//! role picked as it is, and a role that does not trust SageMaker refused. Against moto:
//! e2e/test_setup_training.py.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use common::fake_roles::{FakeIam, FakeRole};
use common::receiving_with;
use loopline_core::{ErrorCode, RolePolicy, RoleRequest, StepStatus};

fn request(policy: RolePolicy) -> RoleRequest {
    RoleRequest {
        region: "eu-west-1".into(),
        bucket: Some("sagemaker-birds".into()),
        role: None,
        role_arn: None,
        policy,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_new_role_is_planned_created_with_its_policy_and_left_alone_after() {
    let fake = Arc::new(FakeIam::default());
    let f = fake.clone();
    let r = receiving_with(move |o| o.roles = Some(f)).await;

    let plan = r
        .engine
        .setup_role(request(RolePolicy::Scoped), true)
        .await
        .unwrap();
    let role = &plan.steps[0];
    assert_eq!(
        (role.key.as_str(), role.status),
        ("iam.role", StepStatus::Planned)
    );
    assert_eq!(
        role.resource,
        "arn:aws:iam::123456789012:role/LooplineSageMakerExecution"
    );
    assert!(
        role.detail
            .as_deref()
            .unwrap()
            .contains("sagemaker.amazonaws.com"),
        "the trust policy is shown before it is created"
    );
    // Issue 23.6: the permissions are shown in full before anything is created.
    let permissions = &plan.steps[1];
    assert_eq!(
        (permissions.key.as_str(), permissions.status),
        ("iam.policy", StepStatus::Planned)
    );
    assert_eq!(permissions.resource, role.resource);
    let shown = permissions.detail.as_deref().unwrap();
    let doc: serde_json::Value = serde_json::from_str(shown).unwrap();
    let text = doc.to_string();
    for must in [
        "arn:aws:s3:::sagemaker-birds/*",
        "ecr:BatchGetImage",
        "logs:PutLogEvents",
        "iam:PassRole",
        "arn:aws:iam::123456789012:role/LooplineSageMakerExecution",
    ] {
        assert!(
            text.contains(must),
            "{must} missing from the planned policy: {shown}"
        );
    }
    assert!(permissions.summary.contains("loopline-sagemaker-pipeline"));
    let managed_plan = r
        .engine
        .setup_role(request(RolePolicy::Managed), true)
        .await
        .unwrap();
    let managed_step = &managed_plan.steps[1];
    assert_eq!(managed_step.status, StepStatus::Planned);
    assert!(managed_step
        .detail
        .as_deref()
        .unwrap()
        .starts_with("arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"));
    assert_eq!(fake.writes.load(Ordering::SeqCst), 0, "a plan does nothing");

    let done = r
        .engine
        .setup_role(request(RolePolicy::Scoped), false)
        .await
        .unwrap();
    assert_eq!(done.steps[0].status, StepStatus::Created);
    assert_eq!(done.steps[1].status, StepStatus::Created);
    let detail = done.steps[1].detail.as_deref().unwrap();
    assert!(
        detail.contains("arn:aws:s3:::sagemaker-birds/*") && detail.contains("iam:PassRole"),
        "{detail}"
    );
    let writes = fake.writes.load(Ordering::SeqCst);

    let again = r
        .engine
        .setup_role(request(RolePolicy::Scoped), false)
        .await
        .unwrap();
    assert!(
        again
            .steps
            .iter()
            .all(|s| s.status == StepStatus::Unchanged),
        "{again:?}"
    );
    assert_eq!(
        fake.writes.load(Ordering::SeqCst),
        writes,
        "nothing written twice"
    );

    let managed = r
        .engine
        .setup_role(request(RolePolicy::Managed), false)
        .await
        .unwrap();
    assert_eq!(managed.steps[1].status, StepStatus::Created);
    assert_eq!(
        fake.roles.lock().unwrap()["LooplineSageMakerExecution"].attached,
        vec!["arn:aws:iam::aws:policy/AmazonSageMakerFullAccess".to_string()]
    );
    let status = r.engine.setup_status().await.unwrap();
    assert!(status
        .iter()
        .any(|s| s.key == "iam.role" && s.status.is_done()));
}

#[tokio::test]
async fn an_existing_role_is_checked_not_changed_and_a_wrong_one_is_refused() {
    let fake = Arc::new(FakeIam::default());
    fake.roles.lock().unwrap().insert(
        "Theirs".into(),
        FakeRole {
            trust: loopline_engine::setup_trust_policy("123456789012"),
            ..Default::default()
        },
    );
    fake.roles.lock().unwrap().insert(
        "LambdaRole".into(),
        FakeRole {
            trust: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#.into(),
            ..Default::default()
        },
    );
    let f = fake.clone();
    let r = receiving_with(move |o| o.roles = Some(f)).await;
    let picked = r
        .engine
        .setup_role(
            RoleRequest {
                role_arn: Some("arn:aws:iam::123456789012:role/Theirs".into()),
                ..request(RolePolicy::Managed)
            },
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        picked.steps.len(),
        1,
        "an existing role's permissions are its owner's"
    );
    assert_eq!(picked.steps[0].status, StepStatus::Unchanged);
    assert_eq!(fake.writes.load(Ordering::SeqCst), 0);

    let wrong = r
        .engine
        .setup_role(
            RoleRequest {
                role: Some("LambdaRole".into()),
                ..request(RolePolicy::Managed)
            },
            false,
        )
        .await
        .unwrap();
    let e = wrong.steps[0].error.as_ref().unwrap();
    assert!(
        e.message.contains("does not let SageMaker assume it"),
        "{}",
        e.message
    );
    assert_eq!(wrong.steps[1].status, StepStatus::Skipped);

    let missing = r
        .engine
        .setup_role(
            RoleRequest {
                role_arn: Some("arn:aws:iam::123456789012:role/Nope".into()),
                ..request(RolePolicy::Managed)
            },
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        missing.steps[0].error.as_ref().unwrap().code,
        ErrorCode::NotFound
    );

    *fake.deny_create.lock().unwrap() = true;
    let denied = r
        .engine
        .setup_role(
            RoleRequest {
                role: Some("New".into()),
                ..request(RolePolicy::Managed)
            },
            false,
        )
        .await
        .unwrap();
    let e = denied.steps[0].error.as_ref().unwrap();
    assert_eq!(e.code, ErrorCode::AwsAccessDenied);
    assert!(e.message.contains("iam:CreateRole"));
}
