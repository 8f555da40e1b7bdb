//! The IAM user Label Studio reads and writes the bucket as: created by the labeling setup
//! with a policy for two prefixes of one bucket, its access key handed to Label Studio once
//! and never kept by Loopline.

use async_trait::async_trait;
use loopline_core::{ApiError, ErrorCode, Sensitive};

use crate::aws::{xml_tag, xml_tags};
use crate::iam::Iam;

#[async_trait]
pub trait StorageUsers: Send + Sync {
    /// The user's ARN, or `None` when there is no such user.
    async fn user(&self, name: &str) -> Result<Option<String>, ApiError>;
    async fn create_user(&self, name: &str) -> Result<String, ApiError>;
    async fn user_policy(&self, user: &str, name: &str) -> Result<Option<String>, ApiError>;
    async fn put_user_policy(&self, user: &str, name: &str, document: &str)
        -> Result<(), ApiError>;
    async fn access_key_ids(&self, user: &str) -> Result<Vec<String>, ApiError>;
    async fn create_access_key(&self, user: &str) -> Result<(String, Sensitive<String>), ApiError>;
    async fn delete_access_key(&self, user: &str, key_id: &str) -> Result<(), ApiError>;
}

impl Iam {
    async fn ok(&self, action: &str, params: &[(&str, &str)]) -> Result<String, ApiError> {
        let answer = self.call(action, params).await?;
        if answer.ok() {
            Ok(answer.text())
        } else {
            Err(self.error(&answer))
        }
    }
}

#[async_trait]
impl StorageUsers for Iam {
    async fn user(&self, name: &str) -> Result<Option<String>, ApiError> {
        let answer = self.call("GetUser", &[("UserName", name)]).await?;
        if Self::no_such_entity(&answer) {
            return Ok(None);
        }
        if !answer.ok() {
            return Err(self.error(&answer));
        }
        Ok(xml_tag(&answer.text(), "Arn"))
    }

    async fn create_user(&self, name: &str) -> Result<String, ApiError> {
        let xml = self.ok("CreateUser", &[("UserName", name)]).await?;
        xml_tag(&xml, "Arn").ok_or_else(|| {
            ApiError::new(ErrorCode::AwsError, "IAM answered without the user's ARN.")
        })
    }

    async fn user_policy(&self, user: &str, name: &str) -> Result<Option<String>, ApiError> {
        self.policy_document("GetUserPolicy", &[("UserName", user), ("PolicyName", name)])
            .await
    }

    async fn put_user_policy(
        &self,
        user: &str,
        name: &str,
        document: &str,
    ) -> Result<(), ApiError> {
        self.ok(
            "PutUserPolicy",
            &[
                ("UserName", user),
                ("PolicyName", name),
                ("PolicyDocument", document),
            ],
        )
        .await
        .map(|_| ())
    }

    async fn access_key_ids(&self, user: &str) -> Result<Vec<String>, ApiError> {
        let xml = self.ok("ListAccessKeys", &[("UserName", user)]).await?;
        Ok(xml_tags(&xml, "AccessKeyId"))
    }

    async fn create_access_key(&self, user: &str) -> Result<(String, Sensitive<String>), ApiError> {
        let xml = self.ok("CreateAccessKey", &[("UserName", user)]).await?;
        match (
            xml_tag(&xml, "AccessKeyId"),
            xml_tag(&xml, "SecretAccessKey"),
        ) {
            (Some(id), Some(secret)) => Ok((id, Sensitive::new(secret))),
            _ => Err(ApiError::new(
                ErrorCode::AwsError,
                "IAM answered without the new access key.",
            )),
        }
    }

    async fn delete_access_key(&self, user: &str, key_id: &str) -> Result<(), ApiError> {
        self.ok(
            "DeleteAccessKey",
            &[("UserName", user), ("AccessKeyId", key_id)],
        )
        .await
        .map(|_| ())
    }
}
