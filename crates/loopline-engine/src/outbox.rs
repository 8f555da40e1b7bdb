//! The outbox worker: starts the pipeline executions the rules decided on. A run is marked
//! `starting` before the call, so after a crash the worker first looks for the execution it
//! may already have started (by its display name, derived from the idempotency token)
//! instead of calling blindly; AWS itself also deduplicates on the token. Throttling,
//! 5xx answers and network loss are retried with exponential backoff and jitter until the
//! rule's time limit; anything else fails at once, in words, with "retry now" available.

use loopline_cloud::sagemaker::{display_name_for, CallError, SageMaker};
use loopline_core::{ApiError, PipelineParam, RunStatus};
use loopline_store::OutboxRun;

use crate::Engine;

const BACKOFF_BASE_MS: i64 = 1_000;
const BACKOFF_CAP_MS: i64 = 30_000;

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

    /// Starts every run that is due. `after_restart` also takes runs left `starting` by a
    /// process that stopped mid-call, and reconciles them first.
    pub async fn drain_outbox(&self, after_restart: bool) -> Result<usize, ApiError> {
        let due = self
            .store
            .due_runs(self.clock.now_ms(), after_restart)
            .await?;
        let mut started = 0;
        for run in due {
            if self.start_run(run).await? {
                started += 1;
            }
        }
        Ok(started)
    }

    async fn start_run(&self, run: OutboxRun) -> Result<bool, ApiError> {
        let now = self.clock.now_ms();
        let reconcile = run.status == RunStatus::Starting;
        if !reconcile && !self.store.claim_run(run.id, now).await? {
            return Ok(false); // another worker (process) took it
        }
        let aws = match self.aws().await {
            Ok(a) => a,
            Err(e) => return self.start_failed_or_retry(&run, CallError::from(e)).await,
        };
        let sagemaker = SageMaker::new(&aws)?;
        if reconcile {
            // The previous process may have started it before it could record so.
            match sagemaker.recent_executions(&run.pipeline).await {
                Ok(list) => {
                    let name = display_name_for(&run.client_token);
                    if let Some(found) = list
                        .iter()
                        .find(|e| e.display_name.as_deref() == Some(name.as_str()))
                    {
                        self.store
                            .run_started(run.id, &found.arn, aws.region(), now)
                            .await?;
                        tracing::info!(run = run.id, arn = %found.arn, "found the execution a previous process started");
                        self.runs_changed();
                        return Ok(true);
                    }
                }
                Err(e) => return self.start_failed_or_retry(&run, e).await,
            }
        }
        let params: Vec<PipelineParam> = serde_json::from_str(&run.params_json).unwrap_or_default();
        let description = format!("Started by Loopline rule {} (run {})", run.rule_id, run.id);
        let requested_at = std::time::Instant::now();
        match sagemaker
            .start(&run.pipeline, &run.client_token, &params, &description)
            .await
        {
            Ok(arn) => {
                self.store
                    .run_started(run.id, &arn, aws.region(), self.clock.now_ms())
                    .await?;
                tracing::info!(
                    run = run.id,
                    %arn,
                    call_ms = requested_at.elapsed().as_millis() as u64,
                    "pipeline execution started"
                );
                self.runs_changed();
                Ok(true)
            }
            Err(e) => self.start_failed_or_retry(&run, e).await,
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
