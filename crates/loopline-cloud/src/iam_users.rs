//! The IAM user Label Studio reads and writes the bucket as: created by the labeling setup
//! with a policy for two prefixes of one bucket, its access key handed to Label Studio once
//! and never kept by Loopline.

use async_trait::async_trait;
use loopline_core::{ApiError, ErrorCode, Sensitive};

use crate::aws::{xml_tag, xml_tags};
use crate::iam::Iam;

/// One of a user's access keys, as IAM lists it (never its secret, which IAM shows once).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccessKey {
    pub id: String,
    /// When it was made (ISO 8601, as IAM writes it).
    pub created: Option<String>,
    /// When it was last used; `None` when never, or when IAM could not say.
    pub last_used: Option<String>,
}

#[async_trait]
pub trait StorageUsers: Send + Sync {
    /// The user's ARN, or `None` when there is no such user.
    async fn user(&self, name: &str) -> Result<Option<String>, ApiError>;
    async fn create_user(&self, name: &str) -> Result<String, ApiError>;
    async fn user_policy(&self, user: &str, name: &str) -> Result<Option<String>, ApiError>;
    async fn put_user_policy(&self, user: &str, name: &str, document: &str)
        -> Result<(), ApiError>;
    /// The user's access keys, with when each was made and last used.
    async fn access_keys(&self, user: &str) -> Result<Vec<AccessKey>, ApiError>;
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

    async fn access_keys(&self, user: &str) -> Result<Vec<AccessKey>, ApiError> {
        let xml = self.ok("ListAccessKeys", &[("UserName", user)]).await?;
        let mut keys = Vec::new();
        for member in xml_tags(&xml, "member") {
            let Some(id) = xml_tag(&member, "AccessKeyId") else {
                continue;
            };
            // Only to tell the user which key is which; a failure here hides nothing.
            let last_used = match self
                .call("GetAccessKeyLastUsed", &[("AccessKeyId", id.as_str())])
                .await
            {
                Ok(a) if a.ok() => xml_tag(&a.text(), "LastUsedDate"),
                _ => None,
            };
            keys.push(AccessKey {
                created: xml_tag(&member, "CreateDate"),
                last_used,
                id,
            });
        }
        Ok(keys)
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
