//! Training setup, its first part (`loopline setup sagemaker`, Setup → Training): the
//! SageMaker execution role, trusted by SageMaker for this account only, with the
//! permissions the user chose (the managed policy, or a policy scoped to the bucket), shown
//! before anything is created and read back after.

use loopline_cloud::iam::{Role, Roles};
use loopline_core::{
    ApiError, ErrorCode, RolePolicy, RoleRequest, SetupReport, SetupStep, StepStatus, StorageLayout,
};

use super::pipeline::{run_pipeline_steps, PipelineAsk};
use super::pipeline_template::DEFAULT_TRAINING_INSTANCE;

use super::policies::{
    managed_policy_arn, role_name_of, same_document, scoped_policy, trust_policy, trusts_sagemaker,
    SCOPED_POLICY_NAME,
};
use super::StepLog;
use crate::Engine;

pub const DEFAULT_ROLE: &str = "LooplineSageMakerExecution";

impl Engine {
    /// `loopline setup sagemaker` (the role): with `plan`, says what it would do.
    pub async fn setup_role(&self, req: RoleRequest, plan: bool) -> Result<SetupReport, ApiError> {
        let layout = self.storage_layout().await?;
        let bucket = match (&req.bucket, &layout) {
            (Some(b), _) => b.trim().to_string(),
            (None, Some(l)) => l.bucket.clone(),
            (None, None) => return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                "Set up the storage first (`loopline setup s3`), or name the bucket with --bucket.",
            )),
        };
        let region = req.region.trim().to_string();
        let roles = self.roles(&region).await?;
        let account = roles.account().await?;
        let name = match (&req.role_arn, &req.role) {
            (Some(arn), _) => role_name_of(arn)
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::InvalidArgument,
                        format!("'{arn}' is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)."),
                    )
                })?
                .to_string(),
            (None, Some(n)) => n.trim().to_string(),
            (None, None) => DEFAULT_ROLE.to_string(),
        };
        let arn_guess = format!(
            "arn:{}:iam::{account}:role/{name}",
            super::policies::partition(&region)
        );
        let work = self.begin_setup_work(loopline_core::SetupWork::Role);
        let mut run = RoleRun {
            log: StepLog::new(self, plan),
        };
        run.log.cancel = Some(work.token.clone());
        let existing_only = req.role_arn.is_some();
        let role = run
            .role(roles.as_ref(), &name, &arn_guess, &account, existing_only)
            .await?;
        let role_arn = role.as_ref().map(|r| r.arn.clone());
        match role {
            // Picking an existing role leaves its permissions as they are: they are the
            // owner's to manage.
            Some(_) if existing_only => {}
            Some(r) => {
                run.policy(
                    roles.as_ref(),
                    &name,
                    &r.arn,
                    &region,
                    &account,
                    &bucket,
                    req.policy,
                )
                .await?
            }
            // The role is only planned: its permissions are shown in full all the same, so
            // the user sees what the role will be allowed before anything is created.
            None if run.log.plan
                && run
                    .log
                    .steps
                    .last()
                    .is_some_and(|s| s.status == StepStatus::Planned) =>
            {
                let step = run.planned_policy(&arn_guess, &region, &account, &bucket, req.policy);
                run.log.steps.push(step);
            }
            None => run
                .log
                .waits("iam.policy", "Permissions", arn_guess.as_str(), "the role"),
        }
        if let Some(pipeline) = req.pipeline.as_deref().map(str::trim) {
            let layout = match layout {
                Some(l) if l.bucket == bucket => l,
                _ => StorageLayout::with_defaults(&bucket, &region),
            };
            let labels = if req.labels.is_empty() {
                // A rerun without --labels keeps the labels the pipeline was built with.
                match self.chosen_pipeline().await? {
                    Some(p) if p.name == pipeline => p.labels,
                    _ => Vec::new(),
                }
            } else {
                req.labels.clone()
            };
            let training_instance = req
                .training_instance
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .unwrap_or(DEFAULT_TRAINING_INSTANCE);
            let role_ready = role_arn.is_some();
            run_pipeline_steps(
                &mut run.log,
                PipelineAsk {
                    name: pipeline,
                    region: &region,
                    account: &account,
                    layout: &layout,
                    role_arn: role_arn.as_deref().unwrap_or(&arn_guess),
                    role_ready,
                    labels: &labels,
                    training_instance,
                    use_existing: req.use_existing_pipeline,
                },
            )
            .await?;
        }
        Ok(run.log.report("training"))
    }
}

struct RoleRun<'a> {
    log: StepLog<'a>,
}

impl RoleRun<'_> {
    /// The role, existing or created; `None` when it cannot be used (or is only planned).
    async fn role(
        &mut self,
        roles: &dyn Roles,
        name: &str,
        arn_guess: &str,
        account: &str,
        existing_only: bool,
    ) -> Result<Option<Role>, ApiError> {
        let (key, title) = ("iam.role", "Execution role");
        let trust = trust_policy(account);
        let found = match roles.get_role(name).await {
            Ok(f) => f,
            Err(e) => {
                let s = self.log.step(
                    key,
                    title,
                    arn_guess,
                    StepStatus::Failed,
                    e.message.clone(),
                    None,
                    Some(e),
                );
                self.log.push(s).await?;
                return Ok(None);
            }
        };
        let (step, role) = match found {
            Some(r) if trusts_sagemaker(&r.trust_policy) => (
                self.log.step(key, title, &r.arn, StepStatus::Unchanged, "The role exists and SageMaker may assume it.".into(), Some(r.trust_policy.clone()), None),
                Some(r),
            ),
            Some(r) => {
                let e = ApiError::new(
                    ErrorCode::InvalidArgument,
                    format!("The role '{name}' exists but does not let SageMaker assume it (its trust policy has no sts:AssumeRole for sagemaker.amazonaws.com). Choose another role, or let Loopline create its own with --role NEW_NAME."),
                );
                (self.log.step(key, title, &r.arn, StepStatus::Failed, e.message.clone(), Some(r.trust_policy), Some(e)), None)
            }
            None if existing_only => {
                let e = ApiError::new(ErrorCode::NotFound, format!("There is no role '{name}' in account {account}. Check the ARN, or leave --role-arn out and Loopline creates one."));
                (self.log.step(key, title, arn_guess, StepStatus::Failed, e.message.clone(), None, Some(e)), None)
            }
            None if self.log.plan => (
                self.log.step(key, title, arn_guess, StepStatus::Planned, format!("Create the role, which only SageMaker jobs of account {account} may assume."), Some(pretty(&trust)), None),
                None,
            ),
            None => match roles.create_role(name, &trust, "SageMaker pipeline execution role, created by Loopline").await {
                Err(e) => (self.log.step(key, title, arn_guess, StepStatus::Failed, e.message.clone(), None, Some(e)), None),
                // Read back: the stored trust document is what counts (moto accepts any).
                Ok(_) => match roles.get_role(name).await {
                    Ok(Some(r)) if trusts_sagemaker(&r.trust_policy) => (
                        self.log.step(key, title, &r.arn, StepStatus::Created, "Created; only SageMaker jobs of this account may assume it.".into(), Some(r.trust_policy.clone()), None),
                        Some(r),
                    ),
                    Ok(_) => {
                        let e = ApiError::new(ErrorCode::AwsError, format!("IAM accepted the role '{name}' but does not show it with its trust policy yet. Run the setup again in a minute."));
                        (self.log.step(key, title, arn_guess, StepStatus::Failed, e.message.clone(), None, Some(e)), None)
                    }
                    Err(e) => (self.log.step(key, title, arn_guess, StepStatus::Failed, e.message.clone(), None, Some(e)), None),
                },
            },
        };
        self.log.push(step).await?;
        Ok(role)
    }

    /// The permissions step of a role that does not exist yet: what will be attached, in
    /// full (the managed policy's ARN, or the scoped inline document).
    fn planned_policy(
        &self,
        role_arn: &str,
        region: &str,
        account: &str,
        bucket: &str,
        choice: RolePolicy,
    ) -> SetupStep {
        let (key, title) = ("iam.policy", "Permissions");
        let (summary, detail) = match choice {
            RolePolicy::Managed => {
                let managed = managed_policy_arn(region);
                let warn = if bucket.contains("sagemaker") {
                    ""
                } else {
                    " The bucket's name has no 'sagemaker' in it, so this policy cannot read it: choose --policy scoped."
                };
                (
                    format!("Attach the managed policy AmazonSageMakerFullAccess ({managed}) once the role exists.{warn}"),
                    format!("{managed} (AWS managed). It reaches only buckets whose name contains 'sagemaker'."),
                )
            }
            RolePolicy::Scoped => (
                format!("Add the inline policy {SCOPED_POLICY_NAME} once the role exists: s3://{bucket} only, image pulls, job logs, registering models in the pipeline's group, passing this role to SageMaker."),
                pretty(&scoped_policy(region, account, bucket, role_arn)),
            ),
        };
        self.log.step(
            key,
            title,
            role_arn,
            StepStatus::Planned,
            summary,
            Some(detail),
            None,
        )
    }

    #[allow(clippy::too_many_arguments)]
    async fn policy(
        &mut self,
        roles: &dyn Roles,
        name: &str,
        role_arn: &str,
        region: &str,
        account: &str,
        bucket: &str,
        choice: RolePolicy,
    ) -> Result<(), ApiError> {
        let (key, title) = ("iam.policy", "Permissions");
        let step = match choice {
            RolePolicy::Managed => {
                let managed = managed_policy_arn(region);
                let detail = Some(format!("{managed} (AWS managed). It reaches only buckets whose name contains 'sagemaker'."));
                let warn = if bucket.contains("sagemaker") {
                    ""
                } else {
                    " The bucket's name has no 'sagemaker' in it, so this policy cannot read it: choose --policy scoped."
                };
                match roles.attached_policies(name).await {
                    Err(e) => self.log.step(key, title, role_arn, StepStatus::Failed, e.message.clone(), None, Some(e)),
                    Ok(list) if list.contains(&managed) => self.log.step(key, title, role_arn, StepStatus::Unchanged, format!("AmazonSageMakerFullAccess is attached.{warn}"), detail, None),
                    Ok(_) if self.log.plan => self.log.step(key, title, role_arn, StepStatus::Planned, format!("Attach the managed policy AmazonSageMakerFullAccess.{warn}"), detail, None),
                    Ok(_) => match roles.attach_policy(name, &managed).await.and(Ok(())) {
                        Err(e) => self.log.step(key, title, role_arn, StepStatus::Failed, e.message.clone(), None, Some(e)),
                        Ok(()) => match roles.attached_policies(name).await {
                            Ok(list) if list.contains(&managed) => self.log.step(key, title, role_arn, StepStatus::Created, format!("AmazonSageMakerFullAccess is attached.{warn}"), detail, None),
                            Ok(_) => self.log.step(key, title, role_arn, StepStatus::Failed, "IAM accepted the policy but does not list it on the role yet. Run the setup again in a minute.".into(), None, Some(ApiError::new(ErrorCode::AwsError, "The attached policy is not listed yet."))),
                            Err(e) => self.log.step(key, title, role_arn, StepStatus::Failed, e.message.clone(), None, Some(e)),
                        },
                    },
                }
            }
            RolePolicy::Scoped => {
                let wanted = scoped_policy(region, account, bucket, role_arn);
                let detail = Some(pretty(&wanted));
                match roles.inline_policy(name, SCOPED_POLICY_NAME).await {
                    Err(e) => self.log.step(key, title, role_arn, StepStatus::Failed, e.message.clone(), None, Some(e)),
                    Ok(Some(doc)) if same_document(&doc, &wanted) => self.log.step(key, title, role_arn, StepStatus::Unchanged, format!("The inline policy {SCOPED_POLICY_NAME} allows s3://{bucket} only, image pulls, job logs, registering models in the pipeline's group and passing this role to SageMaker."), detail, None),
                    Ok(existing) if self.log.plan => self.log.step(key, title, role_arn, StepStatus::Planned, format!("{} the inline policy {SCOPED_POLICY_NAME}: s3://{bucket} only, image pulls, job logs, registering models in the pipeline's group, passing this role to SageMaker.", if existing.is_some() { "Update" } else { "Add" }), detail, None),
                    Ok(existing) => {
                        let done = match roles.put_inline_policy(name, SCOPED_POLICY_NAME, &wanted).await {
                            Ok(()) => roles.inline_policy(name, SCOPED_POLICY_NAME).await,
                            Err(e) => Err(e),
                        };
                        match done {
                            Ok(Some(doc)) if same_document(&doc, &wanted) => self.log.step(key, title, role_arn, if existing.is_some() { StepStatus::Updated } else { StepStatus::Created }, format!("The inline policy {SCOPED_POLICY_NAME} allows s3://{bucket} only, image pulls, job logs, registering models in the pipeline's group and passing this role to SageMaker."), detail, None),
                            Ok(_) => self.log.step(key, title, role_arn, StepStatus::Failed, "IAM accepted the policy but reads back another document. Run the setup again.".into(), None, Some(ApiError::new(ErrorCode::AwsError, "The policy read back differs."))),
                            Err(e) => self.log.step(key, title, role_arn, StepStatus::Failed, e.message.clone(), None, Some(e)),
                        }
                    }
                }
            }
        };
        self.log.push(step).await
    }
}

fn pretty(doc: &str) -> String {
    serde_json::from_str::<serde_json::Value>(doc)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| doc.to_string())
}
