//! The self-test: POST a fresh nonce to `{public}/hooks/_loopline/selftest` and check the
//! answer's proof, which only this data directory's receiver can compute. A tunnel that
//! points elsewhere, a proxy error page or a stale URL all fail it.

use std::time::{Duration, Instant};

use loopline_core::{ApiError, ErrorCode, TunnelTest};
use loopline_hooks::selftest::{proof, SELFTEST_PATH};

use crate::Engine;

/// Waits between tries: a quick tunnel can take some seconds to become reachable, so the
/// keeper's full schedule spans about 30 s.
const WAITS_MS: [u64; 5] = [1_000, 2_000, 4_000, 8_000, 15_000];
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

impl Engine {
    /// Up to `attempts` tries; the first that proves the receiver wins.
    pub(crate) async fn self_test(&self, public_url: &str, attempts: u32) -> TunnelTest {
        let mut last = None;
        let attempts = attempts.max(1);
        for attempt in 1..=attempts {
            match self.probe(public_url).await {
                Ok(rtt) => {
                    return TunnelTest {
                        public_url: public_url.to_string(),
                        reachable: true,
                        rtt_ms: Some(rtt),
                        attempts: attempt,
                        error: None,
                    }
                }
                Err(e) => last = Some(e),
            }
            if attempt < attempts {
                let wait = WAITS_MS[((attempt - 1) as usize).min(WAITS_MS.len() - 1)];
                tokio::time::sleep(Duration::from_millis(wait)).await;
            }
        }
        TunnelTest {
            public_url: public_url.to_string(),
            reachable: false,
            rtt_ms: None,
            attempts,
            error: last,
        }
    }

    async fn probe(&self, public_url: &str) -> Result<u64, ApiError> {
        let key = self.selftest_key().await?;
        let mut raw = [0u8; 16];
        self.entropy.fill(&mut raw);
        let nonce: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        let url = format!("{}{SELFTEST_PATH}", public_url.trim_end_matches('/'));
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let started = Instant::now();
        let answer = client
            .post(&url)
            .json(&serde_json::json!({ "nonce": nonce }))
            .send()
            .await
            .map_err(|e| unreachable(public_url, &format!("no answer ({})", root_cause(&e))))?;
        let rtt = started.elapsed().as_millis() as u64;
        let status = answer.status();
        if !status.is_success() {
            return Err(unreachable(
                public_url,
                &format!("it answered HTTP {status}, so it does not lead to this receiver"),
            ));
        }
        let body: serde_json::Value = answer
            .json()
            .await
            .map_err(|_| unreachable(public_url, "its answer is not this receiver's (not JSON)"))?;
        if body["proof"].as_str() != Some(proof(&key, &nonce).as_str()) {
            return Err(unreachable(
                public_url,
                "another Loopline (or something else) answered, not this one",
            ));
        }
        Ok(rtt)
    }
}

fn unreachable(url: &str, why: &str) -> ApiError {
    ApiError::new(
        ErrorCode::TunnelUnreachable,
        format!("{url} does not reach this receiver: {why}."),
    )
}

fn root_cause(e: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = e;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}
