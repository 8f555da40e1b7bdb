//! Watching started executions: DescribePipelineExecution with backoff (every 2 s at first,
//! stretching to a minute for long trainings), and the steps where the endpoint offers
//! ListPipelineExecutionSteps. When a run ends, the rule's held follow-up becomes due.

use loopline_core::ApiError;

use crate::Engine;

const STEPS_UNAVAILABLE: &str = "Steps are not available from this endpoint (ListPipelineExecutionSteps is not implemented there); the run's status is still followed.";

/// Milliseconds until the next poll after `polls` polls: 2, 2, 4, 4, 8, … s, up to a minute.
pub fn poll_interval_ms(polls: i64) -> i64 {
    let step = (polls / 2).clamp(0, 5);
    (2_000i64 << step).min(60_000)
}

impl Engine {
    /// Polls every execution that is due. Returns how many ended.
    pub async fn poll_runs(&self) -> Result<usize, ApiError> {
        let due = self.store.watched_runs(self.clock.now_ms()).await?;
        if due.is_empty() {
            return Ok(0);
        }
        let sagemaker = self.pipelines().await?;
        let mut ended = 0;
        for run in due {
            let now = self.clock.now_ms();
            let next = now + poll_interval_ms(run.polls);
            let state = match sagemaker.describe(&run.execution_arn).await {
                Ok(s) => s,
                Err(e) => {
                    // Keep the last known status; try again later.
                    tracing::warn!(run = run.id, code = %e.error.code, "run not polled: {}", e.error.message);
                    self.store
                        .run_polled_failed(run.id, next, &e.error.message)
                        .await?;
                    continue;
                }
            };
            let (steps, note) = if run.steps_note.as_deref() == Some(STEPS_UNAVAILABLE) {
                (None, Some(STEPS_UNAVAILABLE))
            } else {
                match sagemaker.steps(&run.execution_arn).await {
                    Ok(Some(steps)) => (Some(steps), None),
                    Ok(None) => (None, Some(STEPS_UNAVAILABLE)),
                    Err(_) => (None, None),
                }
            };
            // The RegisterModel step names the version it created: tie it to the run.
            if let Some(arn) = steps
                .iter()
                .flatten()
                .find_map(|s| s.model_package_arn.clone())
            {
                self.store.set_run_model_package(run.id, &arn).await?;
            }
            let is_end = !state.status.is_active();
            self.store
                .run_polled(
                    run.id,
                    state.status,
                    state.failure_reason.as_deref(),
                    steps.as_deref(),
                    note,
                    next,
                    now,
                )
                .await?;
            if is_end {
                ended += 1;
                tracing::info!(run = run.id, status = state.status.as_str(), "run ended");
                self.wake_outbox();
            }
            self.runs_changed();
        }
        Ok(ended)
    }
}

#[cfg(test)]
mod tests {
    use super::poll_interval_ms;

    #[test]
    fn polling_backs_off_to_a_minute() {
        assert_eq!(poll_interval_ms(0), 2_000);
        assert_eq!(poll_interval_ms(1), 2_000);
        assert_eq!(poll_interval_ms(2), 4_000);
        assert_eq!(poll_interval_ms(8), 32_000);
        assert_eq!(poll_interval_ms(100), 60_000);
    }
}
