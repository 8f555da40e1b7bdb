//! "Send test event": a realistic sample posted through the real HTTP path, authenticated
//! the way the real sender would, so it proves the whole chain works.

use loopline_core::{ApiError, ErrorCode, SourceKind};
use loopline_hooks::auth::{sign_standard_webhook, signing_key};

use crate::Engine;

const LABEL_STUDIO_SAMPLE: &str = include_str!("../samples/label-studio.json");
const AQUARIUM_SAMPLE: &str = include_str!("../samples/aquarium.json");
const GENERIC_SAMPLE: &str = include_str!("../samples/generic.json");

impl Engine {
    /// Posts a sample to `base_url` (the running receiver when `None`). Returns the event id.
    pub async fn send_test_event(
        &self,
        source_id: &str,
        base_url: Option<&str>,
    ) -> Result<i64, ApiError> {
        let source = self.store.source(source_id, self.clock.now_ms()).await?;
        let base = match base_url {
            Some(b) => b.trim_end_matches('/').to_string(),
            None => match self.receiver_addr().await {
                Some(addr) => format!("http://{addr}"),
                None => format!("http://{}", self.saved_listen().await?),
            },
        };
        let secret = self.source_secret(source_id).await?;
        let (body, label) = match source.kind {
            SourceKind::LabelStudio => (LABEL_STUDIO_SAMPLE, "Label Studio"),
            SourceKind::Aquarium => (AQUARIUM_SAMPLE, "Aquarium"),
            SourceKind::Generic => (GENERIC_SAMPLE, "Standard Webhooks"),
        };
        let url = format!("{base}/hooks/{source_id}");
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let mut request = client
            .post(&url)
            .header("content-type", "application/json")
            .header("user-agent", format!("Loopline test event ({label})"));
        request = match source.kind {
            SourceKind::LabelStudio => request.header("x-loopline-token", secret.expose()),
            SourceKind::Aquarium => request.header("x-aquarium-secret", secret.expose()),
            SourceKind::Generic => {
                let mut id = [0u8; 8];
                self.entropy.fill(&mut id);
                let msg_id = format!(
                    "msg_{}",
                    id.iter().map(|b| format!("{b:02x}")).collect::<String>()
                );
                let ts = self.clock.now_ms() / 1000;
                let sig = sign_standard_webhook(
                    &signing_key(secret.expose()),
                    &msg_id,
                    ts,
                    body.as_bytes(),
                );
                request
                    .header("webhook-id", msg_id)
                    .header("webhook-timestamp", ts.to_string())
                    .header("webhook-signature", sig)
            }
        };
        let response = request.body(body).send().await.map_err(|e| {
            ApiError::new(
                ErrorCode::InvalidArgument,
                format!(
                    "Could not reach the receiver at {base} ({}). Is Loopline (the app or `loopline serve`) running?",
                    if e.is_connect() { "connection refused".to_string() } else { e.to_string() }
                ),
            )
        })?;
        let status = response.status();
        let answer: serde_json::Value = response.json().await.unwrap_or_default();
        if !status.is_success() {
            let message = answer["message"].as_str().unwrap_or("no explanation given");
            return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                format!("The receiver refused the test event with HTTP {status}: {message}"),
            ));
        }
        answer["event_id"]
            .as_i64()
            .ok_or_else(|| ApiError::internal("the receiver acknowledged without an event id"))
    }
}
