//! Automations: stored, listed, paused, and their deliveries. Judging events against them is
//! `automation_pass.rs`. See `migrations/0011_automations.sql` and `0012_delivery_desktop.sql`.

use loopline_core::{
    rfc3339_ms, ApiError, Automation, AutomationAction, AutomationDelivery, AutomationRequest,
    AutomationTrigger, DeliveryStatus, ErrorCode,
};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use crate::body::decode;
use crate::errors::db_error;
use crate::Store;

pub(crate) const CURSOR: &str = "automations.cursor";

/// POSTing an event to an automation's URL; the subject is the delivery.
pub const AUTOMATION_FORWARD: &str = "automation.forward";
/// A desktop notice and/or a Slack-compatible POST; the subject is the delivery.
pub const AUTOMATION_NOTIFY: &str = "automation.notify";
/// Never queued: start-pipeline automations are rules, and their outbox items are runs
/// (`RETRAIN_START`). Named so a stray one fails in words instead of as another kind.
pub const AUTOMATION_START_PIPELINE: &str = "automation.start_pipeline";
/// Writing a dataset version's manifest; the subject is the delivery.
pub const AUTOMATION_DATASET: &str = "automation.dataset_version";

/// The outbox kind that delivers an action.
pub fn outbox_kind(action: &AutomationAction) -> &'static str {
    match action {
        AutomationAction::Forward { .. } => AUTOMATION_FORWARD,
        AutomationAction::Notify { .. } => AUTOMATION_NOTIFY,
        AutomationAction::DatasetVersion { .. } => AUTOMATION_DATASET,
        AutomationAction::StartPipeline { .. } => AUTOMATION_START_PIPELINE,
    }
}

/// An event the automations have not judged yet, with its body (conditions read parsed
/// fields of it, and a forward sends it).
#[derive(Debug, Clone)]
pub struct AutomationEvent {
    pub id: i64,
    pub source_id: String,
    pub kind: String,
    pub action: Option<String>,
    pub project_id: Option<i64>,
    pub status: String,
    pub parsed_json: Option<String>,
    /// Set on an edited replay: the event it re-sends. Automations skip replays, as rules do.
    pub replay_of: Option<i64>,
    pub body: Vec<u8>,
}

/// One firing to record: the automation, the event, and when the outbox gives up.
pub struct Firing<'a> {
    pub automation: &'a Automation,
    pub event_id: i64,
    pub now_ms: i64,
    pub deadline_at_ms: i64,
}

/// How one delivery attempt ended, for `record_delivery`.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryOutcome<'a> {
    pub status: DeliveryStatus,
    pub http_status: Option<i64>,
    pub response: Option<&'a str>,
    pub error: Option<&'a str>,
    pub now_ms: i64,
}

/// The target's answer is kept for the user to read, not in full.
pub const MAX_RESPONSE_CHARS: usize = 4096;

pub(crate) fn status_str(s: DeliveryStatus) -> &'static str {
    match s {
        DeliveryStatus::Pending => "pending",
        DeliveryStatus::Delivered => "delivered",
        DeliveryStatus::Failed => "failed",
        DeliveryStatus::WouldFire => "would_fire",
    }
}

fn parse_status(s: &str) -> DeliveryStatus {
    match s {
        "delivered" => DeliveryStatus::Delivered,
        "failed" => DeliveryStatus::Failed,
        "would_fire" => DeliveryStatus::WouldFire,
        _ => DeliveryStatus::Pending,
    }
}

fn unreadable(id: &str, what: &str, e: serde_json::Error) -> ApiError {
    ApiError::new(
        ErrorCode::DbCorrupt,
        format!(
            "Automation {id}'s {what} cannot be read ({e}). Remove it (`loopline automation remove {id}`) \
             and add it again."
        ),
    )
}

pub(crate) fn automation_from_row(r: &SqliteRow) -> Result<Automation, ApiError> {
    let id: String = r.get("id");
    let trigger: AutomationTrigger =
        serde_json::from_str(r.get("trigger_json")).map_err(|e| unreadable(&id, "trigger", e))?;
    let action: AutomationAction =
        serde_json::from_str(r.get("action_json")).map_err(|e| unreadable(&id, "action", e))?;
    Ok(Automation {
        name: r.get("name"),
        trigger,
        action,
        dry_run: r.get::<i64, _>("dry_run") != 0,
        paused: r.get::<i64, _>("paused") != 0,
        created_at: rfc3339_ms(r.get("created_at_ms")),
        fired: r.get("fired"),
        count: r.get("last_count"),
        fired_bucket: r.get("fired_bucket"),
        id,
    })
}

fn delivery_from_row(r: &SqliteRow) -> AutomationDelivery {
    AutomationDelivery {
        automation_id: r.get("automation_id"),
        event_id: r.get("event_id"),
        status: parse_status(r.get("status")),
        attempts: r.get("attempts"),
        http_status: r.get("http_status"),
        response: r.get("response"),
        error: r.get("error"),
        decided_at: rfc3339_ms(r.get("decided_at_ms")),
        delivered_at: r.get::<Option<i64>, _>("delivered_at_ms").map(rfc3339_ms),
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!(
            "No automation '{id}'. `loopline automation list` shows the automations there are."
        ),
    )
}

/// Cuts a response to what is worth keeping, on a character boundary.
fn capped(text: &str) -> String {
    match text.char_indices().nth(MAX_RESPONSE_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

impl Store {
    /// Stores a checked request as automation `id`, an "every N" one with its counter where
    /// the project is now (`start`: the count and the multiple it has reached). The first
    /// automation places the cursor at the newest event, so history is never judged
    /// retroactively (as `insert_rule`).
    pub async fn insert_automation(
        &self,
        id: &str,
        request: &AutomationRequest,
        start: Option<(i64, i64)>,
        now_ms: i64,
    ) -> Result<Automation, ApiError> {
        let map = |e| db_error(e, self.path());
        let mut tx = self.pool().begin().await.map_err(map)?;
        crate::event_cursor::place_if_first(&mut tx, CURSOR, "automations")
            .await
            .map_err(map)?;
        let json = |v: serde_json::Result<String>| {
            v.map_err(|e| {
                ApiError::new(
                    ErrorCode::Internal,
                    format!("cannot store the automation: {e}"),
                )
            })
        };
        sqlx::query(
            "INSERT INTO automations (id, name, source_id, trigger_json, action_json, dry_run, created_at_ms, last_count, fired_bucket) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(request.name.trim())
        .bind(&request.trigger.source_id)
        .bind(json(serde_json::to_string(&request.trigger))?)
        .bind(json(serde_json::to_string(&request.action))?)
        .bind(request.dry_run as i64)
        .bind(now_ms)
        .bind(start.map(|(count, _)| count))
        .bind(start.map(|(_, bucket)| bucket).unwrap_or(0))
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        tx.commit().await.map_err(map)?;
        self.automation(id).await
    }

    pub async fn automation(&self, id: &str) -> Result<Automation, ApiError> {
        let row = sqlx::query("SELECT * FROM automations WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| db_error(e, self.path()))?
            .ok_or_else(|| not_found(id))?;
        automation_from_row(&row)
    }

    /// Every automation, oldest first. One that cannot be read is an error naming it.
    pub async fn list_automations(&self) -> Result<Vec<Automation>, ApiError> {
        sqlx::query("SELECT * FROM automations ORDER BY created_at_ms, id")
            .fetch_all(self.pool())
            .await
            .map_err(|e| db_error(e, self.path()))?
            .iter()
            .map(automation_from_row)
            .collect()
    }

    /// Removes the automation. Its deliveries stay as history; the ones not yet delivered
    /// are settled as failed with a reason, and so are their outbox items, so nothing is
    /// delivered for an automation that is gone. One in flight ends as its worker decides.
    pub async fn delete_automation(&self, id: &str, now_ms: i64) -> Result<bool, ApiError> {
        let map = |e| db_error(e, self.path());
        let mut tx = self.pool().begin().await.map_err(map)?;
        let n = sqlx::query("DELETE FROM automations WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map)?
            .rows_affected();
        let why = "The automation was removed before this was delivered.";
        sqlx::query(
            "UPDATE outbox_items SET state = 'failed', last_error = ?, finished_at_ms = ?, lease_owner = NULL, lease_until_ms = NULL \
             WHERE kind IN (?, ?) AND state IN ('pending', 'failed') AND subject_id IN \
             (SELECT id FROM automation_deliveries WHERE automation_id = ?)",
        )
        .bind(why)
        .bind(now_ms)
        .bind(AUTOMATION_FORWARD)
        .bind(AUTOMATION_NOTIFY)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        sqlx::query(
            "UPDATE automation_deliveries SET status = 'failed', error = ? \
             WHERE automation_id = ? AND status = 'pending' AND id NOT IN \
             (SELECT subject_id FROM outbox_items WHERE kind IN (?, ?) AND state = 'in_flight')",
        )
        .bind(why)
        .bind(id)
        .bind(AUTOMATION_FORWARD)
        .bind(AUTOMATION_NOTIFY)
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        tx.commit().await.map_err(map)?;
        Ok(n > 0)
    }

    /// Pauses or resumes. A paused automation judges nothing: the events that arrive while
    /// it is paused never fire it, also not when it resumes.
    pub async fn set_automation_paused(
        &self,
        id: &str,
        paused: bool,
    ) -> Result<Automation, ApiError> {
        let n = sqlx::query("UPDATE automations SET paused = ? WHERE id = ?")
            .bind(paused as i64)
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(|e| db_error(e, self.path()))?
            .rows_affected();
        if n == 0 {
            return Err(not_found(id));
        }
        self.automation(id).await
    }

    /// The automation's deliveries, newest first.
    pub async fn automation_deliveries(
        &self,
        id: &str,
        limit: i64,
    ) -> Result<Vec<AutomationDelivery>, ApiError> {
        Ok(sqlx::query(
            "SELECT * FROM automation_deliveries WHERE automation_id = ? ORDER BY id DESC LIMIT ?",
        )
        .bind(id)
        .bind(limit)
        .fetch_all(self.pool())
        .await
        .map_err(|e| db_error(e, self.path()))?
        .iter()
        .map(delivery_from_row)
        .collect())
    }

    /// Every delivery made for one event (the event's detail shows what the targets said).
    pub async fn event_deliveries(
        &self,
        event_id: i64,
    ) -> Result<Vec<AutomationDelivery>, ApiError> {
        Ok(
            sqlx::query("SELECT * FROM automation_deliveries WHERE event_id = ? ORDER BY id")
                .bind(event_id)
                .fetch_all(self.pool())
                .await
                .map_err(|e| db_error(e, self.path()))?
                .iter()
                .map(delivery_from_row)
                .collect(),
        )
    }

    /// A delivery by id, with its automation's id (the outbox item's subject).
    pub async fn delivery(&self, delivery_id: i64) -> Result<Option<AutomationDelivery>, ApiError> {
        Ok(
            sqlx::query("SELECT * FROM automation_deliveries WHERE id = ?")
                .bind(delivery_id)
                .fetch_optional(self.pool())
                .await
                .map_err(|e| db_error(e, self.path()))?
                .as_ref()
                .map(delivery_from_row),
        )
    }

    /// Records one attempt's outcome: the attempt counted, the target's status and (capped)
    /// answer kept, and the time it was delivered.
    pub async fn record_delivery(
        &self,
        delivery_id: i64,
        outcome: &DeliveryOutcome<'_>,
    ) -> Result<(), ApiError> {
        sqlx::query(
            "UPDATE automation_deliveries SET status = ?, attempts = attempts + 1, http_status = ?, response = ?, error = ?, \
             delivered_at_ms = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at_ms END WHERE id = ?",
        )
        .bind(status_str(outcome.status))
        .bind(outcome.http_status)
        .bind(outcome.response.map(capped))
        .bind(outcome.error)
        .bind(status_str(outcome.status))
        .bind(outcome.now_ms)
        .bind(delivery_id)
        .execute(self.pool())
        .await
        .map_err(|e| db_error(e, self.path()))?;
        Ok(())
    }

    /// Takes the right to show a notify delivery's desktop notice. `true` once per delivery,
    /// ever: the one worker that sets it shows the notice, and no retry or take-over does
    /// again. (A crash right after it is set loses that notice rather than doubling it.)
    pub async fn claim_desktop_notice(
        &self,
        delivery_id: i64,
        now_ms: i64,
    ) -> Result<bool, ApiError> {
        sqlx::query(
            "UPDATE automation_deliveries SET desktop_at_ms = ? WHERE id = ? AND desktop_at_ms IS NULL",
        )
        .bind(now_ms)
        .bind(delivery_id)
        .execute(self.pool())
        .await
        .map(|r| r.rows_affected() == 1)
        .map_err(|e| db_error(e, self.path()))
    }

    /// The outbox gave up on a delivery: it is failed, with the reason in words; what the
    /// target last answered stays.
    pub async fn delivery_gave_up(&self, delivery_id: i64, error: &str) -> Result<(), ApiError> {
        sqlx::query("UPDATE automation_deliveries SET status = 'failed', error = ? WHERE id = ? AND status = 'pending'")
            .bind(error)
            .bind(delivery_id)
            .execute(self.pool())
            .await
            .map_err(|e| db_error(e, self.path()))?;
        Ok(())
    }

    /// Whether any automation exists (the evaluator does nothing otherwise).
    pub async fn has_automations(&self) -> Result<bool, ApiError> {
        sqlx::query_scalar::<_, i64>("SELECT EXISTS (SELECT 1 FROM automations)")
            .fetch_one(self.pool())
            .await
            .map(|n| n != 0)
            .map_err(|e| db_error(e, self.path()))
    }
}

/// The columns `automation_event_from_row` reads.
pub(crate) const AUTOMATION_EVENT_COLUMNS: &str =
    "id, source_id, kind, action, project_id, status, parsed_json, replay_of, body, body_codec, body_len";

pub(crate) fn automation_event_from_row(r: &SqliteRow) -> AutomationEvent {
    let id: i64 = r.get("id");
    // A body that cannot be read back is judged on what the row says; its conditions on
    // the payload do not hold, and the pass goes on.
    let body =
        decode(id, r.get("body_codec"), r.get("body"), r.get("body_len")).unwrap_or_default();
    AutomationEvent {
        id,
        source_id: r.get("source_id"),
        kind: r.get("kind"),
        action: r.get("action"),
        project_id: r.get("project_id"),
        status: r.get("status"),
        parsed_json: r.get("parsed_json"),
        replay_of: r.get("replay_of"),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_answer_is_cut_on_a_character() {
        let long = "é".repeat(MAX_RESPONSE_CHARS + 10);
        let c = capped(&long);
        assert_eq!(c.chars().count(), MAX_RESPONSE_CHARS + 1);
        assert!(c.ends_with('…'));
        assert_eq!(capped("ok"), "ok");
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            DeliveryStatus::Pending,
            DeliveryStatus::Delivered,
            DeliveryStatus::Failed,
            DeliveryStatus::WouldFire,
        ] {
            assert_eq!(parse_status(status_str(s)), s);
        }
    }
}
