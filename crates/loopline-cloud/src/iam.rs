//! The IAM calls the training setup makes (the SageMaker execution role and its permission
//! policy), on IAM's Query API, signed with the SDK's signer. IAM is global: it is signed
//! for us-east-1 whatever the user's region.

use async_trait::async_trait;
use bytes::Bytes;
use loopline_core::{ApiError, ErrorCode};

use crate::aws::{shared_http, xml_tag, xml_tags, Answer, Aws, Signed};

/// A role as GetRole returns it, its trust document already URL-decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub arn: String,
    pub trust_policy: String,
}

/// The role calls, behind a trait so the setup's decisions are tested fast against a fake,
/// and for real against moto.
#[async_trait]
pub trait Roles: Send + Sync {
    /// The account the credentials belong to (STS GetCallerIdentity): trust policies and
    /// ARNs name it.
    async fn account(&self) -> Result<String, ApiError>;
    async fn get_role(&self, name: &str) -> Result<Option<Role>, ApiError>;
    async fn create_role(
        &self,
        name: &str,
        trust_policy: &str,
        description: &str,
    ) -> Result<Role, ApiError>;
    /// The ARNs of the managed policies attached to the role.
    async fn attached_policies(&self, role: &str) -> Result<Vec<String>, ApiError>;
    async fn attach_policy(&self, role: &str, policy_arn: &str) -> Result<(), ApiError>;
    /// An inline policy's document, URL-decoded, or `None`.
    async fn inline_policy(&self, role: &str, name: &str) -> Result<Option<String>, ApiError>;
    async fn put_inline_policy(
        &self,
        role: &str,
        name: &str,
        document: &str,
    ) -> Result<(), ApiError>;
}

pub struct Iam {
    aws: Aws,
    http: reqwest::Client,
    endpoint: String,
}

impl Iam {
    pub fn new(aws: Aws) -> Result<Iam, ApiError> {
        let endpoint = aws.endpoint_for("IAM", "https://iam.amazonaws.com".into());
        Ok(Iam {
            aws,
            http: shared_http()?,
            endpoint: endpoint + "/",
        })
    }

    pub(crate) async fn call(
        &self,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<Answer, ApiError> {
        let mut form = format!("Action={action}&Version=2010-05-08");
        for (k, v) in params {
            form.push('&');
            form.push_str(k);
            form.push('=');
            form.push_str(&form_encode(v));
        }
        self.aws
            .send_signed(
                &self.http,
                Signed {
                    service: "iam",
                    method: "POST",
                    url: &self.endpoint,
                    headers: vec![(
                        "content-type".into(),
                        "application/x-www-form-urlencoded; charset=utf-8".into(),
                    )],
                    body: Bytes::from(form),
                },
            )
            .await
    }

    pub(crate) fn error(&self, answer: &Answer) -> ApiError {
        let text = answer.text();
        self.aws
            .explain_answer(answer, xml_tag(&text, "Code"), xml_tag(&text, "Message"))
    }

    /// An inline policy's document (GetRolePolicy, GetUserPolicy), URL-decoded; `None`
    /// when there is no such policy.
    pub(crate) async fn policy_document(
        &self,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<Option<String>, ApiError> {
        let answer = self.call(action, params).await?;
        if Self::no_such_entity(&answer) {
            return Ok(None);
        }
        if !answer.ok() {
            return Err(self.error(&answer));
        }
        Ok(xml_tag(&answer.text(), "PolicyDocument").map(|d| url_decode(&d)))
    }

    pub(crate) fn no_such_entity(answer: &Answer) -> bool {
        answer.status == 404 || xml_tag(&answer.text(), "Code").as_deref() == Some("NoSuchEntity")
    }
}

#[async_trait]
impl Roles for Iam {
    async fn account(&self) -> Result<String, ApiError> {
        Ok(self.aws.verify().await?.account)
    }

    async fn get_role(&self, name: &str) -> Result<Option<Role>, ApiError> {
        let answer = self.call("GetRole", &[("RoleName", name)]).await?;
        if Self::no_such_entity(&answer) {
            return Ok(None);
        }
        if !answer.ok() {
            return Err(self.error(&answer));
        }
        role_of(&answer.text()).map(Some)
    }

    async fn create_role(
        &self,
        name: &str,
        trust_policy: &str,
        description: &str,
    ) -> Result<Role, ApiError> {
        let answer = self
            .call(
                "CreateRole",
                &[
                    ("RoleName", name),
                    ("AssumeRolePolicyDocument", trust_policy),
                    ("Description", description),
                ],
            )
            .await?;
        if !answer.ok() {
            return Err(self.error(&answer));
        }
        role_of(&answer.text())
    }

    async fn attached_policies(&self, role: &str) -> Result<Vec<String>, ApiError> {
        let answer = self
            .call("ListAttachedRolePolicies", &[("RoleName", role)])
            .await?;
        if !answer.ok() {
            return Err(self.error(&answer));
        }
        Ok(xml_tags(&answer.text(), "PolicyArn"))
    }

    async fn attach_policy(&self, role: &str, policy_arn: &str) -> Result<(), ApiError> {
        let answer = self
            .call(
                "AttachRolePolicy",
                &[("RoleName", role), ("PolicyArn", policy_arn)],
            )
            .await?;
        if answer.ok() {
            Ok(())
        } else {
            Err(self.error(&answer))
        }
    }

    async fn inline_policy(&self, role: &str, name: &str) -> Result<Option<String>, ApiError> {
        self.policy_document("GetRolePolicy", &[("RoleName", role), ("PolicyName", name)])
            .await
    }

    async fn put_inline_policy(
        &self,
        role: &str,
        name: &str,
        document: &str,
    ) -> Result<(), ApiError> {
        let answer = self
            .call(
                "PutRolePolicy",
                &[
                    ("RoleName", role),
                    ("PolicyName", name),
                    ("PolicyDocument", document),
                ],
            )
            .await?;
        if answer.ok() {
            Ok(())
        } else {
            Err(self.error(&answer))
        }
    }
}

fn role_of(xml: &str) -> Result<Role, ApiError> {
    let arn = xml_tag(xml, "Arn").ok_or_else(|| {
        ApiError::new(ErrorCode::AwsError, "IAM answered without the role's ARN.")
    })?;
    // GetRole returns the trust document URL-encoded (RFC 3986), inside the XML.
    let trust_policy = xml_tag(xml, "AssumeRolePolicyDocument")
        .map(|d| url_decode(&d))
        .unwrap_or_default();
    Ok(Role { arn, trust_policy })
}

/// `application/x-www-form-urlencoded` for a Query API value.
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Percent-decoding (`+` stays `+`: IAM encodes spaces as `%20`).
pub fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_round_trip_through_the_query_encoding() {
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]}"#;
        assert_eq!(url_decode(&form_encode(doc)), doc);
        assert_eq!(url_decode("%7B%22a%22%3A1%7D"), r#"{"a":1}"#);
        assert_eq!(url_decode("100%"), "100%");
    }
}
