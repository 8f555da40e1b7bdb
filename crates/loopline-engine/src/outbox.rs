//! The outbox worker: delivers every outbound side effect the engine decided on (today a
//! retrain run's pipeline start; Label Studio webhook updates, Aquarium exports and setup
//! steps are next), from one durable queue (`outbox_items`).
//!
//! An item is claimed before the call, as a lease: this engine's worker id and an expiry
//! that is renewed while the call is in flight. The app and `loopline serve` on one data
//! directory each run a worker; an item whose lease is still held is the other one's, and
//! only an expired lease (its process stopped mid-call) is taken over. A taken-over item's
//! handler looks for the effect first: a retrain start looks for the execution the previous
//! process may already have started (by its display name, derived from the idempotency
//! token) instead of calling blindly; AWS itself also deduplicates on the token. Throttling,
//! 5xx answers and network loss are retried with exponential backoff and jitter until the
//! item's deadline; anything else fails at once, in words, with "retry now" available.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use loopline_cloud::pipelines::PipelineService;
use loopline_cloud::sagemaker::{display_name_for, CallError, SageMaker};
use loopline_core::{ApiError, ErrorCode, PipelineParam, RunStatus};
use loopline_store::{
    OutboxItem, OutboxRun, Settle, AQUARIUM_EXPORT, AUTOMATION_DATASET, AUTOMATION_FORWARD,
    AUTOMATION_NOTIFY, RETRAIN_START, UNREADABLE_PARAMS,
};

use crate::delivery_error::DeliveryError;
use crate::Engine;

const BACKOFF_BASE_MS: i64 = 1_000;
/// Items a lane reads at once; it reads the next page when this one is delivered.
const LANE_PAGE: i64 = 64;

/// Which outbox items a lane delivers.
#[derive(Clone, Copy)]
pub(crate) enum Lane<'a> {
    /// Those of one kind.
    Only(&'a str),
    /// Every kind but these (the kinds a newer version may have written).
    Others(&'a [&'a str]),
}
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
    /// Tells every outbox lane that something was enqueued (committed first).
    pub(crate) fn wake_outbox(&self) {
        self.outbox_wake.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub(crate) fn jitter(&self) -> u32 {
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

    /// Delivers every item that is due, and takes over in-flight ones whose lease expired.
    /// Returns how many were delivered (for a retrain start: executions started or found).
    /// Each kind is delivered on its own, at the same time as the others (at most one call
    /// per kind at a time): an export to a host that never answers must not hold up the
    /// retrain starts and webhook moves behind it.
    pub async fn drain_outbox(&self) -> Result<usize, ApiError> {
        let now = self.clock.now_ms();
        let dead = self.dead_lease_owners(now).await?;
        let mut kinds: Vec<String> = self
            .store
            .due_outbox_kinds(now, &dead, None, &[], i64::MAX)
            .await?
            .into_iter()
            .map(|(_, kind)| kind)
            .collect();
        kinds.sort();
        kinds.dedup();
        let delivered = futures_util::future::join_all(
            kinds
                .iter()
                .map(|kind| self.drain_outbox_lane(Lane::Only(kind))),
        )
        .await;
        delivered
            .into_iter()
            .try_fold(0, |sum, lane| Ok(sum + lane?))
    }

    /// Delivers the due items of one lane, oldest first, one at a time, a page at a time
    /// until none is left.
    pub(crate) async fn drain_outbox_lane(&self, lane: Lane<'_>) -> Result<usize, ApiError> {
        let (only, except) = match lane {
            Lane::Only(kind) => (Some(kind), &[][..]),
            Lane::Others(taken) => (None, taken),
        };
        let mut delivered = 0;
        loop {
            let now = self.clock.now_ms();
            let dead = self.dead_lease_owners(now).await?;
            let page = self
                .store
                .due_outbox_kinds(now, &dead, only, except, LANE_PAGE)
                .await?;
            let full = page.len() as i64 == LANE_PAGE;
            for (id, _) in page {
                if self.deliver(id, &dead).await? {
                    delivered += 1;
                }
            }
            if !full {
                return Ok(delivered);
            }
        }
    }

    /// Delivers one export now if it is due (the CLI's `aquarium export`, which does not
    /// wait for a background worker). `false`: another process holds it, or it is not due.
    pub async fn deliver_export_now(&self, export_id: i64) -> Result<bool, ApiError> {
        let Some(item) = self
            .store
            .outbox_item_for(AQUARIUM_EXPORT, export_id)
            .await?
        else {
            return Ok(false);
        };
        let dead = self.dead_lease_owners(self.clock.now_ms()).await?;
        self.deliver(item, &dead).await
    }

    /// Owners of unexpired leases whose process is gone: a lease names its process (the
    /// worker id starts with its pid, and the app and `serve` share one machine's data
    /// directory), so a restart after a kill takes the work over at once instead of waiting
    /// for the lease to run out.
    async fn dead_lease_owners(&self, now: i64) -> Result<Vec<String>, ApiError> {
        Ok(self
            .store
            .lease_owners(now)
            .await?
            .into_iter()
            .filter(|owner| *owner != self.worker_id && crate::worker_id::owner_is_gone(owner))
            .collect())
    }

    async fn deliver(&self, id: i64, dead: &[String]) -> Result<bool, ApiError> {
        let now = self.clock.now_ms();
        let Some(item) = self
            .store
            .claim_outbox(id, &self.worker_id, now, now + self.lease_ms, dead)
            .await?
        else {
            return Ok(false); // another worker (process) holds it
        };
        let Ok(outcome) = self.holding_lease(item.id, self.perform(&item)).await else {
            // Another worker took the item over (this one's lease ran out, as after a sleep):
            // the call was cancelled, and the new owner settles it.
            tracing::warn!(item = item.id, kind = %item.kind, "the claim on this outbox item was lost; its call was cancelled and the other worker delivers it");
            return Ok(false);
        };
        let now = self.clock.now_ms();
        let run = (item.kind == RETRAIN_START)
            .then_some(item.subject_id)
            .flatten();
        match outcome {
            Ok(()) => {
                let settled = self
                    .store
                    .settle_outbox(
                        item.id,
                        &self.worker_id,
                        &Settle::Done { now_ms: now },
                        None,
                    )
                    .await?;
                Ok(settled)
            }
            Err(e) if e.retryable && now < item.deadline_at_ms => {
                let wait = backoff_ms(item.attempts, self.jitter());
                let next = (now + wait).min(item.deadline_at_ms);
                let message = format!(
                    "Attempt {} failed: {} Retrying in {:.1} s.",
                    item.attempts,
                    e.error.message,
                    wait as f64 / 1000.0
                );
                tracing::warn!(item = item.id, kind = %item.kind, code = %e.error.code, "{message}");
                let how = Settle::RetryAt {
                    next_at_ms: next,
                    error: &message,
                };
                if self
                    .store
                    .settle_outbox(item.id, &self.worker_id, &how, run)
                    .await?
                {
                    self.settled(&item, Settled::RetryAt(&message)).await?;
                }
                Ok(false)
            }
            Err(e) => {
                let fix = match item.kind.as_str() {
                    RETRAIN_START => item.subject_id.map(|run| {
                        format!(
                            " Use \"retry now\" (`loopline runs retry {run}`) once it is fixed."
                        )
                    }),
                    AQUARIUM_EXPORT => Some(
                        " Use retry on the issue page (or export again) once it is fixed.".into(),
                    ),
                    _ => None,
                }
                .unwrap_or_default();
                let message = if e.retryable {
                    format!(
                        "Gave up after {} attempts over the rule's time limit: {}{fix}",
                        item.attempts, e.error.message
                    )
                } else {
                    format!("{}{fix}", e.error.message)
                };
                tracing::error!(item = item.id, kind = %item.kind, code = %e.error.code, "{message}");
                let how = Settle::Failed {
                    now_ms: now,
                    error: &message,
                };
                if self
                    .store
                    .settle_outbox(item.id, &self.worker_id, &how, run)
                    .await?
                {
                    self.settled(&item, Settled::Failed(&message)).await?;
                }
                Ok(false)
            }
        }
    }

    /// Does what the item says, by kind.
    async fn perform(&self, item: &OutboxItem) -> Result<(), DeliveryError> {
        match (item.kind.as_str(), item.subject_id) {
            (RETRAIN_START, Some(run)) => self.start_run(run, item).await,
            (crate::tunnel::LS_HOOK_URL, _) => Ok(self.perform_hook_move(item).await?),
            (AQUARIUM_EXPORT, _) => Ok(self.perform_export(item).await?),
            (AUTOMATION_FORWARD | AUTOMATION_NOTIFY | AUTOMATION_DATASET, _) => {
                self.perform_automation(item).await
            }
            (kind, _) => Err(DeliveryError {
                error: ApiError::internal(format!(
                    "This outbox item's kind '{kind}' is not known to this version of Loopline."
                )),
                retryable: false,
            }),
        }
    }

    /// Records, on the item's subject, that a delivery will be retried or has failed.
    async fn settled(&self, item: &OutboxItem, how: Settled<'_>) -> Result<(), ApiError> {
        if let (crate::tunnel::LS_HOOK_URL, Settled::Failed(message)) = (item.kind.as_str(), &how) {
            self.hook_move_failed(item, message).await?;
        }
        if item.kind == AQUARIUM_EXPORT {
            match how {
                Settled::RetryAt(message) => self.export_retrying(item, message).await?,
                Settled::Failed(message) => self.export_gave_up(item, message).await?,
            }
        }
        if let (
            AUTOMATION_FORWARD | AUTOMATION_NOTIFY | AUTOMATION_DATASET,
            Settled::Failed(message),
            Some(d),
        ) = (item.kind.as_str(), &how, item.subject_id)
        {
            self.store.delivery_gave_up(d, message).await?;
        }
        // A retrain start's run state was written with the outbox's, in one transaction.
        if item.kind == RETRAIN_START {
            self.runs_changed();
        }
        Ok(())
    }

    /// A retrain start: shown as `starting`, reconciled first when taken over, then
    /// started unless it already was.
    async fn start_run(&self, id: i64, item: &OutboxItem) -> Result<(), DeliveryError> {
        let run = self.store.run_for_start(id).await?;
        if run.status != RunStatus::Pending && run.status != RunStatus::Starting {
            return Ok(()); // already started (or removed from the queue's view): nothing to do
        }
        self.store.run_starting(id, item.attempts).await?;
        self.runs_changed();
        // Its dataset version first: the parameters it starts with include the manifest.
        let run = self.run_with_dataset(run).await?;
        // Parameters that cannot be read never start a pipeline with other ones.
        let params: Vec<PipelineParam> = serde_json::from_str(&run.params_json).map_err(|e| {
            tracing::error!(run = run.id, "run parameters unreadable: {e}");
            DeliveryError::from(ApiError::new(ErrorCode::InvalidArgument, UNREADABLE_PARAMS))
        })?;
        let pipelines = self.pipelines().await?;
        let (arn, region, found) = self
            .call_start(&run, item.taken_over, pipelines.as_ref(), &params)
            .await?;
        self.store
            .run_started(run.id, &arn, &region, self.clock.now_ms())
            .await?;
        if found {
            tracing::info!(run = run.id, %arn, "found the execution a previous process started");
        } else {
            tracing::info!(run = run.id, %arn, "pipeline execution started");
        }
        self.runs_changed();
        Ok(())
    }

    /// Reconciles a taken-over run, then starts it if it was not started. Returns the
    /// execution's ARN and region, and whether it was found rather than started.
    async fn call_start(
        &self,
        run: &OutboxRun,
        taken_over: bool,
        pipelines: &dyn PipelineService,
        params: &[PipelineParam],
    ) -> Result<(String, String, bool), CallError> {
        if taken_over {
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

    /// Runs `call` while renewing the item's lease, so a slow call is never taken over by
    /// another worker. When a renewal finds the item is no longer ours (its lease ran out,
    /// as when the laptop slept: the wall clock moved on while this timer stood still, and
    /// the other process took the item over), the call is dropped, which cancels it, and
    /// `Err(LeaseLost)` says so.
    async fn holding_lease<T>(
        &self,
        item_id: i64,
        call: impl Future<Output = T>,
    ) -> Result<T, LeaseLost> {
        let every = Duration::from_millis((self.lease_ms / 3).max(1) as u64);
        tokio::pin!(call);
        loop {
            tokio::select! {
                out = &mut call => return Ok(out),
                _ = tokio::time::sleep(every) => {
                    let until = self.clock.now_ms() + self.lease_ms;
                    match self.store.renew_outbox_lease(item_id, &self.worker_id, until).await {
                        Ok(true) => {}
                        Ok(false) => return Err(LeaseLost),
                        // Not proof that it is lost (the database was busy): keep going; the
                        // fenced settle refuses if it was.
                        Err(e) => tracing::warn!(item = item_id, code = %e.code, "claim not renewed: {}", e.message),
                    }
                }
            }
        }
    }
}

/// The item's lease is another worker's now.
struct LeaseLost;

enum Settled<'a> {
    RetryAt(&'a str),
    Failed(&'a str),
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
