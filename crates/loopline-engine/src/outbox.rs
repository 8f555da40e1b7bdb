//! The outbox worker: starts the pipeline executions the rules decided on.
//!
//! A run is claimed before the call, as a lease: `starting`, with this engine's worker id
//! and an expiry that is renewed while the call is in flight. The app and `loopline serve`
//! on one data directory each run a worker; a `starting` run whose lease is still held is
//! another worker's, and only an expired one (its process stopped mid-call) is taken over.
//! A taken-over run is reconciled first: the worker looks for the execution the previous
//! process may already have started (by its display name, derived from the idempotency
//! token) instead of calling blindly; AWS itself also deduplicates on the token. Throttling,
//! 5xx answers and network loss are retried with exponential backoff and jitter until the
//! rule's time limit; anything else fails at once, in words, with "retry now" available.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use loopline_cloud::pipelines::PipelineService;
use loopline_cloud::sagemaker::{display_name_for, CallError, SageMaker};
use loopline_core::{ApiError, PipelineParam};
use loopline_store::{OutboxRun, UNREADABLE_PARAMS};

use crate::Engine;

const BACKOFF_BASE_MS: i64 = 1_000;
const BACKOFF_CAP_MS: i64 = 30_000;
/// How long a claim holds without renewal. Renewed every third of it while the call runs,
/// so only a process that stopped loses it.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// Exponential backoff with jitter: attempt 1 waits about 1 s, then 2, 4, … up to 30 s,
/// each between half and all of that (so many runs retrying together spread out).
pub fn backoff_ms(attempts: i64, jitter: u32) -> i64 {
    let exp = BACKOFF_BASE_MS.saturating_mul(1 << attempts.clamp(1, 16).saturating_sub(1));
    let full = exp.min(BACKOFF_CAP_MS);
    full / 2 + (full / 2) * i64::from(jitter % 1001) / 1000
}

impl Engine {
    fn jitter(&self) -> u32 {
        let mut b = [0u8; 4];
        self.entropy.fill(&mut b);
        u32::from_le_bytes(b)
    }

    /// The pipeline service: the one injected through `EngineOptions`, or SageMaker with
    /// the cached AWS configuration.
    pub(crate) async fn pipelines(&self) -> Result<Arc<dyn PipelineService>, ApiError> {
        if let Some(p) = &self.pipelines {
            return Ok(p.clone());
        }
        Ok(Arc::new(SageMaker::new(self.aws().await?)?))
    }

    /// Starts every run that is due, and takes over `starting` runs whose claim expired.
    /// Returns how many executions were started (or found started).
    pub async fn drain_outbox(&self) -> Result<usize, ApiError> {
        let due = self.store.due_runs(self.clock.now_ms()).await?;
        let mut started = 0;
        for run in due {
            if self.start_run(run.id).await? {
                started += 1;
            }
        }
        Ok(started)
    }

    async fn start_run(&self, id: i64) -> Result<bool, ApiError> {
        let now = self.clock.now_ms();
        let Some(run) = self
            .store
            .claim_run(id, &self.worker_id, now, now + self.lease_ms)
            .await?
        else {
            return Ok(false); // another worker (process) holds it
        };
        // Parameters that cannot be read never start a pipeline with other ones.
        let params: Vec<PipelineParam> = match serde_json::from_str(&run.params_json) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(run = run.id, "run parameters unreadable: {e}");
                self.store
                    .run_start_failed(run.id, UNREADABLE_PARAMS, now)
                    .await?;
                self.runs_changed();
                return Ok(false);
            }
        };
        let pipelines = match self.pipelines().await {
            Ok(p) => p,
            Err(e) => return self.start_failed_or_retry(&run, CallError::from(e)).await,
        };
        let called = self
            .holding_lease(run.id, self.call_start(&run, pipelines.as_ref(), &params))
            .await;
        match called {
            Ok((arn, region, found)) => {
                self.store
                    .run_started(run.id, &arn, &region, self.clock.now_ms())
                    .await?;
                if found {
                    tracing::info!(run = run.id, %arn, "found the execution a previous process started");
                } else {
                    tracing::info!(run = run.id, %arn, "pipeline execution started");
                }
                self.runs_changed();
                Ok(true)
            }
            Err(e) => self.start_failed_or_retry(&run, e).await,
        }
    }

    /// Reconciles a taken-over run, then starts it if it was not started. Returns the
    /// execution's ARN and region, and whether it was found rather than started.
    async fn call_start(
        &self,
        run: &OutboxRun,
        pipelines: &dyn PipelineService,
        params: &[PipelineParam],
    ) -> Result<(String, String, bool), CallError> {
        if run.reconcile {
            let name = display_name_for(&run.client_token);
            let list = pipelines.recent_executions(&run.pipeline).await?;
            if let Some(found) = list
                .iter()
                .find(|e| e.display_name.as_deref() == Some(name.as_str()))
            {
                return Ok((found.arn.clone(), pipelines.region(), true));
            }
        }
        let description = format!("Started by Loopline rule {} (run {})", run.rule_id, run.id);
        let started = pipelines
            .start(&run.pipeline, &run.client_token, params, &description)
            .await?;
        Ok((started.arn, started.region, false))
    }

    /// Runs `call` while renewing the run's lease, so a slow call is never taken over by
    /// another worker.
    async fn holding_lease<T>(&self, run_id: i64, call: impl Future<Output = T>) -> T {
        let every = Duration::from_millis((self.lease_ms / 3).max(1) as u64);
        tokio::pin!(call);
        loop {
            tokio::select! {
                out = &mut call => return out,
                _ = tokio::time::sleep(every) => {
                    let until = self.clock.now_ms() + self.lease_ms;
                    match self.store.renew_run_lease(run_id, &self.worker_id, until).await {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(run = run_id, "the claim on this run was lost while starting it"),
                        Err(e) => tracing::warn!(run = run_id, code = %e.code, "claim not renewed: {}", e.message),
                    }
                }
            }
        }
    }

    async fn start_failed_or_retry(&self, run: &OutboxRun, e: CallError) -> Result<bool, ApiError> {
        let now = self.clock.now_ms();
        let attempts = run.attempts + 1;
        if e.retryable && now < run.deadline_at_ms {
            let wait = backoff_ms(attempts, self.jitter());
            let next = (now + wait).min(run.deadline_at_ms);
            let message = format!(
                "Attempt {attempts} failed: {} Retrying in {:.1} s.",
                e.error.message,
                wait as f64 / 1000.0
            );
            tracing::warn!(run = run.id, code = %e.error.code, "{message}");
            self.store.run_retry_later(run.id, next, &message).await?;
        } else {
            let message = if e.retryable {
                format!(
                    "Gave up after {attempts} attempts over the rule's time limit: {} Use \"retry now\" (`loopline runs retry {}`) when it is fixed.",
                    e.error.message, run.id
                )
            } else {
                format!(
                    "{} Use \"retry now\" (`loopline runs retry {}`) once it is fixed.",
                    e.error.message, run.id
                )
            };
            tracing::error!(run = run.id, code = %e.error.code, "{message}");
            self.store.run_start_failed(run.id, &message, now).await?;
        }
        self.runs_changed();
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        assert!((500..=1000).contains(&backoff_ms(1, 0)));
        assert_eq!(backoff_ms(1, 1000), 1000);
        assert_eq!(backoff_ms(1, 0), 500);
        assert_eq!(backoff_ms(3, 1000), 4000);
        assert_eq!(backoff_ms(20, 1000), 30_000);
        assert!(backoff_ms(20, 0) >= 15_000);
    }
}
