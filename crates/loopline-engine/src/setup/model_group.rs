//! The pipeline's model package group, a part of the training setup: the RegisterModel
//! step adds each run's model to it as a new version, and CreateModelPackage fails when the
//! group does not exist, so it is created before the pipeline can run.

use loopline_cloud::model_registry::ModelRegistry;
use loopline_core::{ApiError, ErrorCode, StepStatus};
use sha2::{Digest, Sha256};

use super::StepLog;

/// SageMaker's limit on a group's name (`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$`).
const MAX_GROUP_NAME: usize = 63;

/// The group named after the pipeline: the pipeline's own name when it fits (it always
/// keeps the group's rule otherwise: letters, digits, inner hyphens), else its start and a
/// short hash of the whole name, so two long names never share a group.
pub fn group_name_for(pipeline: &str) -> String {
    // A pipeline given by its ARN is named by its last part.
    let name = pipeline.rsplit('/').next().unwrap_or(pipeline);
    if name.len() <= MAX_GROUP_NAME {
        return name.to_string();
    }
    let hash: String = Sha256::digest(name.as_bytes())[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let head = name[..MAX_GROUP_NAME - 9].trim_end_matches('-');
    format!("{head}-{hash}")
}

pub(crate) async fn group_step(
    log: &mut StepLog<'_>,
    registry: &dyn ModelRegistry,
    pipeline: &str,
    region: &str,
    account: &str,
) -> Result<(), ApiError> {
    let (key, title) = ("sm.model_group", "Model package group");
    let name = group_name_for(pipeline);
    let arn_guess = format!(
        "arn:{}:sagemaker:{region}:{account}:model-package-group/{}",
        super::policies::partition(region),
        name.to_lowercase()
    );
    let what = format!("each run's model becomes a new version of '{name}', waiting for approval unless the run's ModelApprovalStatus says otherwise");
    let step = match registry.describe_group(&name).await {
        Err(e) => log.failed(key, title, &arn_guess, e.error),
        Ok(Some(g)) if g.status == "Completed" => log.plain(
            key,
            title,
            &g.arn,
            StepStatus::Unchanged,
            format!("The group exists: {what}."),
        ),
        Ok(Some(g)) => log.failed(
            key,
            title,
            &g.arn,
            ApiError::new(
                ErrorCode::AwsError,
                format!("The model package group '{name}' is {} in SageMaker, so a run could not register its model. Run the setup again in a minute; if it stays so, look at the group in the SageMaker console.", g.status),
            ),
        ),
        Ok(None) if log.plan => log.plain(
            key,
            title,
            &arn_guess,
            StepStatus::Planned,
            format!("Create the model package group '{name}': {what}."),
        ),
        Ok(None) => {
            let description = format!(
                "Models trained by the Loopline pipeline '{pipeline}', one version per run."
            );
            match registry.create_group(&name, &description).await {
                Err(e) => log.failed(key, title, &arn_guess, e.error),
                Ok(_) => match registry.describe_group(&name).await {
                    Ok(Some(g)) => log.plain(
                        key,
                        title,
                        &g.arn,
                        StepStatus::Created,
                        format!("Created: {what}."),
                    ),
                    Ok(None) => log.failed(
                        key,
                        title,
                        &arn_guess,
                        ApiError::new(
                            ErrorCode::AwsError,
                            format!("SageMaker accepted the model package group '{name}' but does not show it yet. Run the setup again in a minute."),
                        ),
                    ),
                    Err(e) => log.failed(key, title, &arn_guess, e.error),
                },
            }
        }
    };
    log.push(step).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keeps_the_rule(n: &str) -> bool {
        !n.is_empty()
            && n.len() <= MAX_GROUP_NAME
            && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !n.starts_with('-')
            && !n.ends_with('-')
    }

    #[test]
    fn the_group_is_named_after_the_pipeline_and_keeps_sagemakers_rule() {
        assert_eq!(group_name_for("birds-seg"), "birds-seg");
        assert_eq!(
            group_name_for("arn:aws:sagemaker:eu-west-1:1:pipeline/birds-seg"),
            "birds-seg"
        );
        let long = format!("{}-{}", "a".repeat(53), "b".repeat(100));
        let other = format!("{}-{}", "a".repeat(53), "c".repeat(100));
        for n in [&long, &other] {
            assert!(keeps_the_rule(&group_name_for(n)), "{}", group_name_for(n));
        }
        assert_ne!(group_name_for(&long), group_name_for(&other));
        assert_eq!(group_name_for(&"x".repeat(63)), "x".repeat(63));
    }
}
