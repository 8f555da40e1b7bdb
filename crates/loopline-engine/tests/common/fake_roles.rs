//! An in-memory IAM for the role setup's fast tests.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use loopline_cloud::iam::{Role, Roles};
use loopline_core::{ApiError, ErrorCode};

#[derive(Default)]
pub struct FakeRole {
    pub trust: String,
    pub attached: Vec<String>,
    pub inline: HashMap<String, String>,
}

#[derive(Default)]
pub struct FakeIam {
    pub roles: Mutex<HashMap<String, FakeRole>>,
    pub writes: AtomicUsize,
    pub deny_create: Mutex<bool>,
}

impl FakeIam {
    fn arn(name: &str) -> String {
        format!("arn:aws:iam::123456789012:role/{name}")
    }
}

#[async_trait]
impl Roles for FakeIam {
    async fn account(&self) -> Result<String, ApiError> {
        Ok("123456789012".into())
    }

    async fn get_role(&self, name: &str) -> Result<Option<Role>, ApiError> {
        Ok(self.roles.lock().unwrap().get(name).map(|r| Role {
            arn: Self::arn(name),
            trust_policy: r.trust.clone(),
        }))
    }

    async fn create_role(
        &self,
        name: &str,
        trust_policy: &str,
        _description: &str,
    ) -> Result<Role, ApiError> {
        if *self.deny_create.lock().unwrap() {
            return Err(ApiError::new(
                ErrorCode::AwsAccessDenied,
                "AWS accepted the access key …ABCD but refused this action (User: arn:aws:iam::123456789012:user/ada is not authorized to perform: iam:CreateRole). The missing permission is iam:CreateRole.",
            ));
        }
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.roles.lock().unwrap().insert(
            name.into(),
            FakeRole {
                trust: trust_policy.into(),
                ..Default::default()
            },
        );
        Ok(Role {
            arn: Self::arn(name),
            trust_policy: trust_policy.into(),
        })
    }

    async fn attached_policies(&self, role: &str) -> Result<Vec<String>, ApiError> {
        Ok(self
            .roles
            .lock()
            .unwrap()
            .get(role)
            .map(|r| r.attached.clone())
            .unwrap_or_default())
    }

    async fn attach_policy(&self, role: &str, policy_arn: &str) -> Result<(), ApiError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        if let Some(r) = self.roles.lock().unwrap().get_mut(role) {
            r.attached.push(policy_arn.into());
        }
        Ok(())
    }

    async fn inline_policy(&self, role: &str, name: &str) -> Result<Option<String>, ApiError> {
        Ok(self
            .roles
            .lock()
            .unwrap()
            .get(role)
            .and_then(|r| r.inline.get(name).cloned()))
    }

    async fn put_inline_policy(
        &self,
        role: &str,
        name: &str,
        document: &str,
    ) -> Result<(), ApiError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        if let Some(r) = self.roles.lock().unwrap().get_mut(role) {
            r.inline.insert(name.into(), document.into());
        }
        Ok(())
    }
}
