//! One loop check at a time per data directory. The app, `loopline serve` and the CLI share
//! the database, and a check's marker is what keeps its test annotation from starting a
//! run: two checks at once would overwrite each other's marker, and the first to end would
//! delete it while the second's annotation was still on its way. So a check claims the
//! marker with a compare-and-swap in the settings, owner and expiry included; a second
//! check is refused while the claim holds, and a claim whose process is gone, or that
//! expired, is taken over.

use loopline_core::{ApiError, ErrorCode};
use serde::{Deserialize, Serialize};

use crate::worker_id::owner_is_gone;
use crate::Engine;

const CHECK_SETTING: &str = "setup.loop_check";
/// Longer than the check's own waits (three stages of at most a minute, plus requests), so a
/// live check never loses its claim; short enough that a hung one frees the data directory.
pub(crate) const CLAIM_MS: i64 = 5 * 60_000;

/// The check under way: its task's annotations count but fire no run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PendingCheck {
    /// `<pid>-<worker>-<check>`: the pid tells another process when the owner is gone.
    #[serde(default)]
    pub owner: String,
    pub project: i64,
    /// The test annotation's task, once it is chosen.
    #[serde(default)]
    pub task: Option<i64>,
    pub until_ms: i64,
}

/// A claim this process holds, with the exact value it wrote (what the swaps compare).
pub(crate) struct CheckClaim {
    json: String,
    check: PendingCheck,
}

fn to_json(check: &PendingCheck) -> Result<String, ApiError> {
    serde_json::to_string(check).map_err(|e| ApiError::internal(e.to_string()))
}

impl Engine {
    pub(crate) async fn pending_loop_check(&self) -> Result<Option<PendingCheck>, ApiError> {
        let now = self.clock.now_ms();
        Ok(self
            .store
            .setting(CHECK_SETTING)
            .await?
            .and_then(|j| serde_json::from_str::<PendingCheck>(&j).ok())
            .filter(|c| c.until_ms > now))
    }

    /// Takes the data directory's one loop check, or says who holds it (`already_running`).
    pub(crate) async fn claim_loop_check(&self, project: i64) -> Result<CheckClaim, ApiError> {
        let now = self.clock.now_ms();
        let current = self.store.setting(CHECK_SETTING).await?;
        if let Some(held) = current
            .as_deref()
            .and_then(|j| serde_json::from_str::<PendingCheck>(j).ok())
        {
            if held.until_ms > now && !owner_is_gone(&held.owner) {
                return Err(self.busy(&held, now));
            }
        }
        let mut tag = [0u8; 4];
        self.entropy.fill(&mut tag);
        let tag: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        let check = PendingCheck {
            owner: format!("{}-{tag}", self.worker_id),
            project,
            task: None,
            until_ms: now + CLAIM_MS,
        };
        let json = to_json(&check)?;
        if self
            .store
            .swap_setting(CHECK_SETTING, current.as_deref(), &json)
            .await?
        {
            return Ok(CheckClaim { json, check });
        }
        // Another check claimed it between the read and the write.
        let held = self.pending_loop_check().await?;
        Err(match held {
            Some(h) => self.busy(&h, now),
            None => ApiError::new(
                ErrorCode::AlreadyRunning,
                "Another loop check started at the same moment. Wait for it to finish, then check again.",
            ),
        })
    }

    /// Records the test annotation's task in the claim (and renews it), before the
    /// annotation is made: an annotation is never made unless the marker that keeps it from
    /// starting a run is this check's.
    pub(crate) async fn claim_check_task(
        &self,
        claim: &mut CheckClaim,
        task: i64,
    ) -> Result<(), ApiError> {
        let next = PendingCheck {
            task: Some(task),
            until_ms: self.clock.now_ms() + CLAIM_MS,
            ..claim.check.clone()
        };
        let json = to_json(&next)?;
        if !self
            .store
            .swap_setting(CHECK_SETTING, Some(&claim.json), &json)
            .await?
        {
            return Err(ApiError::new(
                ErrorCode::AlreadyRunning,
                "This loop check took so long that another one took its place; no test annotation was made. Check again once that one has finished.",
            ));
        }
        claim.json = json;
        claim.check = next;
        Ok(())
    }

    /// Ends the claim; a claim another check has since taken over is left to it.
    pub(crate) async fn release_loop_check(&self, claim: &CheckClaim) -> Result<(), ApiError> {
        self.store
            .delete_setting_if(CHECK_SETTING, &claim.json)
            .await
            .map(|_| ())
    }

    fn busy(&self, held: &PendingCheck, now: i64) -> ApiError {
        let pid = held.owner.split('-').next().unwrap_or_default();
        let by = if held.owner.starts_with(&self.worker_id) {
            "in this Loopline process".to_string()
        } else if pid.is_empty() {
            "in another Loopline process".to_string()
        } else {
            format!("in another Loopline process (pid {pid})")
        };
        let secs = ((held.until_ms - now).max(0) + 999) / 1000;
        ApiError::new(
            ErrorCode::AlreadyRunning,
            format!(
                "A loop check of Label Studio project {} is already running {by}. Wait for it to finish (at most {secs} s more), then check again.",
                held.project
            ),
        )
    }
}
