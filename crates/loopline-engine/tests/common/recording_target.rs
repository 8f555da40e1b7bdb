//! A recording HTTP target for the automations' fast tests: answers from a script of
//! statuses (then 200) and keeps every POST as it arrived.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use loopline_cloud::image_hosts::ImageHosts;
use loopline_cloud::web::{Answer, Web};
use loopline_core::{
    ApiError, AutomationAction, AutomationRequest, AutomationTrigger, Condition, CreatedSource,
    ErrorCode, FireMode, Sensitive, SourceKind,
};

use super::manual_clock::ManualClock;
use super::{receiving_with, Running};

/// A receiver (no background work) whose outbound HTTP goes to `target`, on `clock`, with
/// a Label Studio source and the keychain secret `name`.
pub async fn receiving_for(
    target: Arc<Target>,
    clock: Arc<ManualClock>,
    name: &str,
    secret: &str,
) -> (Running, CreatedSource) {
    let web: Arc<dyn Web> = target;
    let r = receiving_with(move |o| {
        o.web = Some(web);
        o.clock = Some(clock);
    })
    .await;
    let src = r.add(SourceKind::LabelStudio, None).await;
    r.engine
        .set_secret(name, Sensitive::new(secret.to_string()))
        .await
        .unwrap();
    (r, src)
}

/// A forward of every ANNOTATION_CREATED from `src` to this target, signed with the secret "fwd".
pub fn forward(src: &CreatedSource, conditions: Vec<Condition>) -> AutomationRequest {
    AutomationRequest {
        name: "to the annotations db".into(),
        trigger: AutomationTrigger {
            source_id: src.id.clone(),
            actions: vec!["ANNOTATION_CREATED".into()],
            project_id: None,
            conditions,
            fire: FireMode::Each,
        },
        action: AutomationAction::Forward {
            url: "http://127.0.0.1:9/annotations".into(),
            secret_name: Some("fwd".into()),
            body_template: None,
        },
        dry_run: false,
        start_count: None,
        even_if_shared: None,
    }
}

/// One POST as the target saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A target that answers from a script of statuses (then 200), and records every POST.
/// `replies` (status and body) are used before `script`.
#[derive(Default)]
pub struct Target {
    pub seen: Mutex<Vec<Seen>>,
    pub script: Mutex<Vec<u16>>,
    pub replies: Mutex<Vec<(u16, String)>>,
}

impl Target {
    pub fn header(seen: &Seen, name: &str) -> String {
        seen.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

#[async_trait]
impl Web for Target {
    async fn post_json(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &serde_json::Value,
    ) -> Result<Answer, ApiError> {
        self.post_body(url, headers, &serde_json::to_vec(body).unwrap())
            .await
    }

    async fn post_body(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<Answer, ApiError> {
        self.seen.lock().unwrap().push(Seen {
            url: url.into(),
            headers: headers.to_vec(),
            body: body.to_vec(),
        });
        let mut replies = self.replies.lock().unwrap();
        if !replies.is_empty() {
            let (status, body) = replies.remove(0);
            return Ok(Answer { status, body });
        }
        let mut script = self.script.lock().unwrap();
        let status = if script.is_empty() {
            200
        } else {
            script.remove(0)
        };
        Ok(Answer {
            status,
            body: format!("{{\"answered\": {status}}}"),
        })
    }

    async fn head_bytes(&self, _: &str, _: usize, _: &ImageHosts) -> Result<Vec<u8>, ApiError> {
        Err(ApiError::new(ErrorCode::NotFound, "no image here"))
    }

    async fn fetch(
        &self,
        _: &str,
        _: usize,
        _: &ImageHosts,
    ) -> Result<(String, Vec<u8>), ApiError> {
        Err(ApiError::new(ErrorCode::NotFound, "no image here"))
    }
}
