//! The IAM documents the training setup writes, built as JSON data (never by pasting text
//! together), and the checks that read them back.

use serde_json::{json, Value};

/// The inline policy's name on a role Loopline set up with the scoped choice.
pub const SCOPED_POLICY_NAME: &str = "loopline-sagemaker-pipeline";

/// `aws`, or the partition of the China and GovCloud regions.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

pub fn managed_policy_arn(region: &str) -> String {
    format!(
        "arn:{}:iam::aws:policy/AmazonSageMakerFullAccess",
        partition(region)
    )
}

/// Who may assume the role: the SageMaker service, on behalf of this account only (the
/// `aws:SourceAccount` condition keeps another account's jobs from borrowing it). This is a
/// trust policy: a principal and `sts:AssumeRole`, no `Resource`.
pub fn trust_policy(account: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}}
        }]
    })
    .to_string()
}

/// The scoped permissions: this bucket only, pulling the built-in algorithm images, the
/// jobs' own logs, the pipeline's job calls, registering the trained model in the
/// pipeline's model package group (the RegisterModel step calls CreateModelPackage as the
/// pipeline's role), and passing this role to SageMaker.
pub fn scoped_policy(region: &str, account: &str, bucket: &str, role_arn: &str) -> String {
    let p = partition(region);
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ThisBucketOnly",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": [format!("arn:{p}:s3:::{bucket}"), format!("arn:{p}:s3:::{bucket}/*")]
            },
            {
                "Sid": "PullBuiltInAlgorithmImages",
                "Effect": "Allow",
                "Action": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                "Resource": "*"
            },
            {
                "Sid": "JobLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": format!("arn:{p}:logs:{region}:{account}:log-group:/aws/sagemaker/*")
            },
            {
                "Sid": "PipelineJobs",
                "Effect": "Allow",
                "Action": [
                    "sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob",
                    "sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob",
                    "sagemaker:AddTags"
                ],
                "Resource": format!("arn:{p}:sagemaker:{region}:{account}:*")
            },
            {
                "Sid": "RegisterTheModel",
                "Effect": "Allow",
                "Action": ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup"],
                "Resource": [
                    format!("arn:{p}:sagemaker:{region}:{account}:model-package/*"),
                    format!("arn:{p}:sagemaker:{region}:{account}:model-package-group/*")
                ]
            },
            {
                "Sid": "PassThisRoleToSageMaker",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": role_arn,
                "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
            }
        ]
    })
    .to_string()
}

fn as_list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Null => vec![],
        other => vec![other],
    }
}

/// Whether a trust document lets SageMaker assume the role.
pub fn trusts_sagemaker(document: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(document) else {
        return false;
    };
    as_list(&doc["Statement"]).iter().any(|s| {
        s["Effect"] == "Allow"
            && as_list(&s["Action"])
                .iter()
                .any(|a| a.as_str() == Some("sts:AssumeRole"))
            && as_list(&s["Principal"]["Service"])
                .iter()
                .any(|p| p.as_str() == Some("sagemaker.amazonaws.com"))
    })
}

/// Two policy documents say the same (key order and spacing aside).
pub fn same_document(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<Value>(a),
        serde_json::from_str::<Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// `arn:aws:iam::123456789012:role/path/name` → `name`.
pub fn role_name_of(arn: &str) -> Option<&str> {
    let rest = arn.split(":role/").nth(1)?;
    rest.rsplit('/').next().filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trust_policy_trusts_sagemaker_for_this_account_and_names_no_resource() {
        let doc: Value = serde_json::from_str(&trust_policy("123456789012")).unwrap();
        let s = &doc["Statement"][0];
        assert_eq!(s["Principal"]["Service"], "sagemaker.amazonaws.com");
        assert_eq!(s["Action"], "sts:AssumeRole");
        assert_eq!(
            s["Condition"]["StringEquals"]["aws:SourceAccount"],
            "123456789012"
        );
        assert!(s.get("Resource").is_none());
        assert!(trusts_sagemaker(&trust_policy("1")));
    }

    #[test]
    fn a_permission_policy_is_not_a_trust_policy() {
        // The tutorial's mistake: the permission policy passed as the trust policy.
        let wrong = scoped_policy("eu-west-1", "1", "b", "arn:aws:iam::1:role/r");
        assert!(!trusts_sagemaker(&wrong));
        assert!(!trusts_sagemaker("not json"));
        let lambda = r#"{"Statement":{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com"]},"Action":["sts:AssumeRole"]}}"#;
        assert!(!trusts_sagemaker(lambda));
        let both = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com","sagemaker.amazonaws.com"]},"Action":["sts:AssumeRole"]}]}"#;
        assert!(trusts_sagemaker(both));
    }

    #[test]
    fn the_scoped_policy_reaches_this_bucket_and_passes_only_this_role() {
        let doc: Value = serde_json::from_str(&scoped_policy(
            "eu-west-1",
            "123456789012",
            "sagemaker-birds",
            "arn:aws:iam::123456789012:role/r",
        ))
        .unwrap();
        let st = doc["Statement"].as_array().unwrap();
        assert_eq!(st[0]["Resource"][0], "arn:aws:s3:::sagemaker-birds");
        assert_eq!(st[0]["Resource"][1], "arn:aws:s3:::sagemaker-birds/*");
        let register = st.iter().find(|s| s["Sid"] == "RegisterTheModel").unwrap();
        assert!(register["Action"]
            .as_array()
            .unwrap()
            .contains(&"sagemaker:CreateModelPackage".into()));
        let pass = st.iter().find(|s| s["Action"] == "iam:PassRole").unwrap();
        assert_eq!(pass["Resource"], "arn:aws:iam::123456789012:role/r");
        assert!(st[2]["Resource"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:logs:eu-west-1:123456789012:"));
        assert!(scoped_policy("cn-north-1", "1", "b", "r").contains("arn:aws-cn:s3:::b"));
        assert_eq!(
            managed_policy_arn("us-gov-west-1"),
            "arn:aws-us-gov:iam::aws:policy/AmazonSageMakerFullAccess"
        );
    }

    #[test]
    fn documents_compare_by_meaning_and_arns_give_their_role() {
        assert!(same_document(
            r#"{"a":1,"b":[2]}"#,
            r#"{ "b": [2], "a": 1 }"#
        ));
        assert!(!same_document(r#"{"a":1}"#, r#"{"a":2}"#));
        assert_eq!(
            role_name_of("arn:aws:iam::1:role/service-role/Loopline"),
            Some("Loopline")
        );
        assert_eq!(role_name_of("arn:aws:iam::1:user/x"), None);
    }
}
