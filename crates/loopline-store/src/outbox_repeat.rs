//! Outbox items whose effect may be wanted again after it was done: a Label Studio webhook
//! moved back to a URL it held before (A → B → A with a stable URL). The plain `enqueue`
//! treats a done item as "already happened", which is right for a retrain start and wrong
//! here: the second move to A is a new effect, and skipping it leaves Label Studio posting
//! to a closed URL with every annotation lost.

use loopline_core::ApiError;

use crate::errors::db_error;
use crate::outbox::NewItem;
use crate::Store;

impl Store {
    /// Enqueues `item`, reopening a done or failed one with the same key, with the new
    /// payload. One in flight is left alone: it is delivering to the same target now.
    pub async fn enqueue_repeatable(&self, item: &NewItem<'_>) -> Result<(), ApiError> {
        sqlx::query(
            "INSERT INTO outbox_items (kind, idempotency_key, subject_id, payload_json, state, next_attempt_at_ms, deadline_at_ms, created_at_ms) \
             VALUES (?, ?, ?, ?, 'pending', ?, ?, ?) \
             ON CONFLICT (kind, idempotency_key) DO UPDATE SET state = 'pending', payload_json = excluded.payload_json, \
             subject_id = excluded.subject_id, attempts = 0, last_error = NULL, \
             next_attempt_at_ms = excluded.next_attempt_at_ms, deadline_at_ms = excluded.deadline_at_ms, \
             finished_at_ms = NULL, lease_owner = NULL, lease_until_ms = NULL \
             WHERE outbox_items.state IN ('pending', 'failed', 'done')",
        )
        .bind(item.kind)
        .bind(&item.idempotency_key)
        .bind(item.subject_id)
        .bind(&item.payload_json)
        .bind(item.now_ms)
        .bind(item.deadline_at_ms)
        .bind(item.now_ms)
        .execute(self.pool())
        .await
        .map(|_| ())
        .map_err(|e| db_error(e, self.path()))
    }
}

#[cfg(test)]
mod tests {
    use crate::{NewItem, Store, StoreOptions};

    fn item(payload: &str, now_ms: i64) -> NewItem<'static> {
        NewItem {
            kind: "label_studio.hook_url",
            idempotency_key: "src:1:https://a.example".into(),
            subject_id: Some(7),
            payload_json: payload.into(),
            now_ms,
            deadline_at_ms: now_ms + 1_000_000,
        }
    }

    #[tokio::test]
    async fn a_done_move_is_made_due_again_with_its_new_payload() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db"), &StoreOptions::default())
            .await
            .unwrap();
        store
            .enqueue_repeatable(&item("{\"from\":\"x\"}", 10))
            .await
            .unwrap();
        let id = store.due_outbox(10, &[]).await.unwrap()[0];
        let claimed = store
            .claim_outbox(id, "w", 10, 1000, &[])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claimed.payload_json, "{\"from\":\"x\"}");
        assert!(store
            .settle_outbox(id, "w", &crate::Settle::Done { now_ms: 11 }, None)
            .await
            .unwrap());
        assert!(store.due_outbox(12, &[]).await.unwrap().is_empty());

        // The plain enqueue keeps a done effect done; a move back must happen again.
        store.enqueue(&item("{\"from\":\"b\"}", 20)).await.unwrap();
        assert!(store.due_outbox(20, &[]).await.unwrap().is_empty());
        store
            .enqueue_repeatable(&item("{\"from\":\"b\"}", 20))
            .await
            .unwrap();
        assert_eq!(store.due_outbox(20, &[]).await.unwrap(), vec![id]);
        let again = store
            .claim_outbox(id, "w", 20, 1000, &[])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            again.payload_json, "{\"from\":\"b\"}",
            "the new move's payload"
        );
        assert_eq!(again.attempts, 1, "a new move starts its attempts afresh");

        // In flight: left alone (it is delivering to this very target).
        store
            .enqueue_repeatable(&item("{\"from\":\"c\"}", 30))
            .await
            .unwrap();
        assert!(store.due_outbox(30, &[]).await.unwrap().is_empty());
    }
}
