//! The durable outbox: every outbound side effect as an item with a kind, an idempotency
//! key, attempts, a next attempt, a deadline, a lease and its last error in words. See
//! `migrations/0007_outbox.sql`.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};

use loopline_core::{ApiError, OutboxState};

use crate::errors::db_error;
use crate::Store;

/// Starting a retrain run's pipeline execution; the subject is the run.
pub const RETRAIN_START: &str = "retrain.start";

/// A claimed item, as the worker delivers it.
#[derive(Debug, Clone)]
pub struct OutboxItem {
    pub id: i64,
    pub kind: String,
    pub idempotency_key: String,
    pub subject_id: Option<i64>,
    pub payload_json: String,
    /// Including the attempt just claimed.
    pub attempts: i64,
    pub deadline_at_ms: i64,
    /// The previous claim expired while the item was in flight: the effect may already have
    /// happened, so its handler looks before acting again.
    pub taken_over: bool,
}

/// How a delivery ended, for `settle_outbox`.
#[derive(Debug, Clone, Copy)]
pub enum Settle<'a> {
    Done {
        now_ms: i64,
    },
    /// Worth another try at `next_at_ms`; `error` says why in words.
    RetryAt {
        next_at_ms: i64,
        error: &'a str,
    },
    Failed {
        now_ms: i64,
        error: &'a str,
    },
}

/// What to enqueue.
pub struct NewItem<'a> {
    pub kind: &'a str,
    pub idempotency_key: String,
    pub subject_id: Option<i64>,
    pub payload_json: String,
    pub now_ms: i64,
    pub deadline_at_ms: i64,
}

/// Due: pending and its time has come, or in flight with a lease that expired or whose
/// owner is known to be gone (the `json_each` list of dead owners).
const DUE: &str = "(state = 'pending' AND next_attempt_at_ms <= ?) OR (state = 'in_flight' AND (COALESCE(lease_until_ms, 0) < ? \
                   OR lease_owner IN (SELECT value FROM json_each(?))))";

/// Due items of any kind but the listed ones: `DUE` with numbered parameters.
const DUE_EXCEPT: &str = "SELECT id, kind FROM outbox_items WHERE ((state = 'pending' AND next_attempt_at_ms <= ?1) \
     OR (state = 'in_flight' AND (COALESCE(lease_until_ms, 0) < ?2 OR lease_owner IN (SELECT value FROM json_each(?3))))) \
     AND kind NOT IN (SELECT value FROM json_each(?4)) ORDER BY id LIMIT ?5";

/// An item enqueued again (the same kind and key) is made pending again only when it has
/// not been delivered.
pub(crate) const ENQUEUE_CONFLICT: &str = "ON CONFLICT (kind, idempotency_key) DO UPDATE SET state = 'pending', \
     next_attempt_at_ms = excluded.next_attempt_at_ms, deadline_at_ms = excluded.deadline_at_ms, finished_at_ms = NULL, \
     lease_owner = NULL, lease_until_ms = NULL WHERE outbox_items.state IN ('pending', 'failed')";

/// Enqueues an item, or makes an existing one with the same key due again (a "retry now").
pub(crate) async fn enqueue(
    tx: &mut Transaction<'_, Sqlite>,
    item: &NewItem<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO outbox_items (kind, idempotency_key, subject_id, payload_json, state, next_attempt_at_ms, deadline_at_ms, created_at_ms) \
         VALUES (?, ?, ?, ?, 'pending', ?, ?, ?) {ENQUEUE_CONFLICT}"
    ))
    .bind(item.kind)
    .bind(&item.idempotency_key)
    .bind(item.subject_id)
    .bind(&item.payload_json)
    .bind(item.now_ms)
    .bind(item.deadline_at_ms)
    .bind(item.now_ms)
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

fn item_from_row(r: &SqliteRow) -> OutboxItem {
    OutboxItem {
        id: r.get("id"),
        kind: r.get("kind"),
        idempotency_key: r.get("idempotency_key"),
        subject_id: r.get("subject_id"),
        payload_json: r.get("payload_json"),
        attempts: r.get("attempts"),
        deadline_at_ms: r.get("deadline_at_ms"),
        taken_over: OutboxState::parse(r.get::<&str, _>("state")) == Some(OutboxState::InFlight),
    }
}

impl Store {
    /// Enqueues one item on its own (decisions enqueue inside their own transaction).
    pub async fn enqueue(&self, item: &NewItem<'_>) -> Result<(), ApiError> {
        let map = |e| db_error(e, self.path());
        let mut tx = self.pool().begin().await.map_err(map)?;
        enqueue(&mut tx, item).await.map_err(map)?;
        tx.commit().await.map_err(map)
    }

    /// Items a worker should deliver now: pending ones that are due, and in-flight ones
    /// whose lease expired or whose owner is in `dead_owners` (their process stopped
    /// mid-call).
    pub async fn due_outbox(
        &self,
        now_ms: i64,
        dead_owners: &[String],
    ) -> Result<Vec<i64>, ApiError> {
        sqlx::query_scalar(&format!(
            "SELECT id FROM outbox_items WHERE {DUE} ORDER BY id"
        ))
        .bind(now_ms)
        .bind(now_ms)
        .bind(owners_json(dead_owners))
        .fetch_all(self.pool())
        .await
        .map_err(|e| db_error(e, self.path()))
    }

    /// Like `due_outbox`, with each item's kind, so kinds can be delivered independently:
    /// the oldest `limit` due items of kind `only` (any kind when `None`), leaving out the
    /// kinds in `except`. Filtered here rather than by the caller: with a backlog of
    /// thousands, every lane reading every due row was most of the outbox's CPU.
    pub async fn due_outbox_kinds(
        &self,
        now_ms: i64,
        dead_owners: &[String],
        only: Option<&str>,
        except: &[&str],
        limit: i64,
    ) -> Result<Vec<(i64, String)>, ApiError> {
        let query = match only {
            // Both halves through the kind's index (0015): a lane with nothing due reads
            // nothing, however many items the table holds.
            Some(kind) => sqlx::query_as(
                "SELECT id, kind FROM outbox_items INDEXED BY outbox_due_by_kind \
                 WHERE kind = ?1 AND state = 'pending' AND next_attempt_at_ms <= ?2 \
                 UNION ALL \
                 SELECT id, kind FROM outbox_items INDEXED BY outbox_due_by_kind \
                 WHERE kind = ?1 AND state = 'in_flight' AND (COALESCE(lease_until_ms, 0) < ?2 \
                 OR lease_owner IN (SELECT value FROM json_each(?3))) \
                 ORDER BY id LIMIT ?4",
            )
            .bind(kind)
            .bind(now_ms)
            .bind(owners_json(dead_owners))
            .bind(limit),
            None => sqlx::query_as(DUE_EXCEPT)
                .bind(now_ms)
                .bind(now_ms)
                .bind(owners_json(dead_owners))
                .bind(serde_json::to_string(except).unwrap_or_else(|_| "[]".into()))
                .bind(limit),
        };
        query
            .fetch_all(self.pool())
            .await
            .map_err(|e| db_error(e, self.path()))
    }

    /// Claims an item as a lease held by `owner` until `lease_until_ms`. `None`: it is not
    /// due, or another worker holds it.
    pub async fn claim_outbox(
        &self,
        id: i64,
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
        dead_owners: &[String],
    ) -> Result<Option<OutboxItem>, ApiError> {
        let dead = owners_json(dead_owners);
        let map = |e| db_error(e, self.path());
        // IMMEDIATE: the write lock is taken before the read, so another process's commit
        // between the read and the update waits on the busy timeout instead of failing this
        // deferred transaction's upgrade at once (SQLITE_BUSY, "database is locked").
        let mut tx = self
            .pool()
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map)?;
        let row = sqlx::query(&format!(
            "SELECT * FROM outbox_items WHERE id = ? AND ({DUE})"
        ))
        .bind(id)
        .bind(now_ms)
        .bind(now_ms)
        .bind(&dead)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map)?;
        let Some(row) = row else { return Ok(None) };
        let mut item = item_from_row(&row);
        // The same condition again: two processes' transactions may both have read the row,
        // and only one of them changes it.
        let n = sqlx::query(&format!(
            "UPDATE outbox_items SET state = 'in_flight', attempts = attempts + 1, lease_owner = ?, lease_until_ms = ? \
             WHERE id = ? AND ({DUE})"
        ))
        .bind(owner)
        .bind(lease_until_ms)
        .bind(id)
        .bind(now_ms)
        .bind(now_ms)
        .bind(&dead)
        .execute(&mut *tx)
        .await
        .map_err(map)?
        .rows_affected();
        tx.commit().await.map_err(map)?;
        if n != 1 {
            return Ok(None);
        }
        item.attempts += 1;
        Ok(Some(item))
    }

    /// The owners of leases still running at `now_ms` (the engine checks which are gone).
    pub async fn lease_owners(&self, now_ms: i64) -> Result<Vec<String>, ApiError> {
        sqlx::query_scalar(
            "SELECT DISTINCT lease_owner FROM outbox_items WHERE state = 'in_flight' AND lease_until_ms >= ? AND lease_owner IS NOT NULL",
        )
        .bind(now_ms)
        .fetch_all(self.pool())
        .await
        .map_err(|e| db_error(e, self.path()))
    }

    /// Extends a lease while its call is in flight. `false`: it is no longer ours.
    pub async fn renew_outbox_lease(
        &self,
        id: i64,
        owner: &str,
        lease_until_ms: i64,
    ) -> Result<bool, ApiError> {
        let n = sqlx::query(
            "UPDATE outbox_items SET lease_until_ms = ? WHERE id = ? AND state = 'in_flight' AND lease_owner = ?",
        )
        .bind(lease_until_ms)
        .bind(id)
        .bind(owner)
        .execute(self.pool())
        .await
        .map_err(|e| db_error(e, self.path()))?
        .rows_affected();
        Ok(n == 1)
    }

    /// Settles a delivery, fenced by the lease: only while `owner` still holds the item. A
    /// worker whose lease was taken over (after a laptop sleep the wall clock has run past
    /// every lease while the timers that renew them stood still) must not overwrite what the
    /// new owner does. For a retrain start, the run's state is written in the same
    /// transaction, so the two never disagree after a crash. `false`: the item is no longer
    /// this owner's, and nothing was written.
    pub async fn settle_outbox(
        &self,
        id: i64,
        owner: &str,
        outcome: &Settle<'_>,
        run: Option<i64>,
    ) -> Result<bool, ApiError> {
        let map = |e| db_error(e, self.path());
        let mut tx = self
            .pool()
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map)?;
        let (state, error, next_at, finished_at) = match *outcome {
            Settle::Done { now_ms } => (OutboxState::Done, None, None, Some(now_ms)),
            Settle::RetryAt { next_at_ms, error } => {
                (OutboxState::Pending, Some(error), Some(next_at_ms), None)
            }
            Settle::Failed { now_ms, error } => {
                (OutboxState::Failed, Some(error), None, Some(now_ms))
            }
        };
        let n = sqlx::query(
            "UPDATE outbox_items SET state = ?, last_error = COALESCE(?, last_error), \
             next_attempt_at_ms = COALESCE(?, next_attempt_at_ms), finished_at_ms = ?, lease_owner = NULL, lease_until_ms = NULL \
             WHERE id = ? AND state = 'in_flight' AND lease_owner = ?",
        )
        .bind(state.as_str())
        .bind(error)
        .bind(next_at)
        .bind(finished_at)
        .bind(id)
        .bind(owner)
        .execute(&mut *tx)
        .await
        .map_err(map)?
        .rows_affected();
        if n != 1 {
            return Ok(false);
        }
        if let Some(run) = run {
            crate::runs::settle_start(&mut tx, run, outcome)
                .await
                .map_err(map)?;
        }
        tx.commit().await.map_err(map)?;
        Ok(true)
    }

    /// The item of a kind about a subject (an export's delivery), if there is one.
    pub async fn outbox_item_for(
        &self,
        kind: &str,
        subject_id: i64,
    ) -> Result<Option<i64>, ApiError> {
        sqlx::query_scalar("SELECT id FROM outbox_items WHERE kind = ? AND subject_id = ? ORDER BY id DESC LIMIT 1")
            .bind(kind)
            .bind(subject_id)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| db_error(e, self.path()))
    }

    /// Items due now or in flight: the outbox is idle when this is 0.
    /// Items not yet settled (pending, waiting to retry, or in flight), per kind: what a
    /// quit leaves for the next start.
    pub async fn outbox_unfinished_by_kind(&self) -> Result<Vec<(String, i64)>, ApiError> {
        sqlx::query_as(
            "SELECT kind, COUNT(*) FROM outbox_items WHERE state IN ('pending', 'in_flight') GROUP BY kind ORDER BY kind",
        )
        .fetch_all(self.pool())
        .await
        .map_err(|e| db_error(e, self.path()))
    }

    pub async fn outbox_busy(&self, now_ms: i64) -> Result<i64, ApiError> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox_items WHERE (state = 'pending' AND next_attempt_at_ms <= ?) OR state = 'in_flight'",
        )
        .bind(now_ms)
        .fetch_one(self.pool())
        .await
        .map_err(|e| db_error(e, self.path()))
    }
}

fn owners_json(owners: &[String]) -> String {
    serde_json::to_string(owners).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
mod tests {
    use crate::{NewItem, Store, StoreOptions};

    fn item(kind: &'static str, n: i64) -> NewItem<'static> {
        NewItem {
            kind,
            idempotency_key: format!("k{n}"),
            subject_id: Some(n),
            payload_json: "{}".into(),
            now_ms: 10,
            deadline_at_ms: 1_000_000,
        }
    }

    #[tokio::test]
    async fn a_lane_reads_only_its_kinds_oldest_first_a_page_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db"), &StoreOptions::default())
            .await
            .unwrap();
        for n in 0..5 {
            store.enqueue(&item("a", n)).await.unwrap();
            store.enqueue(&item("b", n)).await.unwrap();
        }
        store.enqueue(&item("future.kind", 9)).await.unwrap();
        let kinds = |rows: Vec<(i64, String)>| rows.into_iter().map(|(_, k)| k).collect::<Vec<_>>();

        let a = store
            .due_outbox_kinds(10, &[], Some("a"), &[], 3)
            .await
            .unwrap();
        assert_eq!(kinds(a.clone()), vec!["a"; 3]);
        assert!(a.windows(2).all(|w| w[0].0 < w[1].0), "oldest first");
        let others = store
            .due_outbox_kinds(10, &[], None, &["a", "b"], 64)
            .await
            .unwrap();
        assert_eq!(kinds(others), vec!["future.kind"]);
        let all = store
            .due_outbox_kinds(10, &[], None, &[], i64::MAX)
            .await
            .unwrap();
        assert_eq!(all.len(), 11);
        assert!(
            store
                .due_outbox_kinds(9, &[], Some("a"), &[], 64)
                .await
                .unwrap()
                .is_empty(),
            "not due yet"
        );
    }
}
