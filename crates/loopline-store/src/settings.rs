use loopline_core::ApiError;

use crate::errors::db_error;
use crate::Store;

impl Store {
    /// A user setting, or `None` when it was never set.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, ApiError> {
        sqlx::query_scalar::<_, String>("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| db_error(e, self.path()))
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), ApiError> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES (?, ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(self.pool())
        .await
        .map(|_| ())
        .map_err(|e| db_error(e, self.path()))
    }

    /// The setting, written first with `value` when it was never set. Two processes asking
    /// at once both get the one value that was stored first.
    pub async fn setting_or_insert(&self, key: &str, value: &str) -> Result<String, ApiError> {
        sqlx::query("INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)")
            .bind(key)
            .bind(value)
            .execute(self.pool())
            .await
            .map_err(|e| db_error(e, self.path()))?;
        Ok(self
            .setting(key)
            .await?
            .unwrap_or_else(|| value.to_string()))
    }

    /// Sets `key` to `new` only if it still holds `expected` (`None`: absent). Returns
    /// whether it did: a compare-and-swap between processes sharing the data directory.
    pub async fn swap_setting(
        &self,
        key: &str,
        expected: Option<&str>,
        new: &str,
    ) -> Result<bool, ApiError> {
        let done = match expected {
            None => sqlx::query("INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)")
                .bind(key)
                .bind(new),
            Some(old) => sqlx::query("UPDATE settings SET value = ? WHERE key = ? AND value = ?")
                .bind(new)
                .bind(key)
                .bind(old),
        }
        .execute(self.pool())
        .await
        .map_err(|e| db_error(e, self.path()))?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn delete_setting(&self, key: &str) -> Result<(), ApiError> {
        sqlx::query("DELETE FROM settings WHERE key = ?")
            .bind(key)
            .execute(self.pool())
            .await
            .map(|_| ())
            .map_err(|e| db_error(e, self.path()))
    }

    /// Deletes `key` only if it still holds `value`; returns whether it did. A claim's
    /// owner releases it this way, never a claim another process has since taken over.
    pub async fn delete_setting_if(&self, key: &str, value: &str) -> Result<bool, ApiError> {
        sqlx::query("DELETE FROM settings WHERE key = ? AND value = ?")
            .bind(key)
            .bind(value)
            .execute(self.pool())
            .await
            .map(|done| done.rows_affected() == 1)
            .map_err(|e| db_error(e, self.path()))
    }

    /// Every setting whose key starts with `prefix`, as (key, value).
    pub async fn settings_with_prefix(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, String)>, ApiError> {
        sqlx::query_as::<_, (String, String)>(
            "SELECT key, value FROM settings WHERE substr(key, 1, length(?)) = ? ORDER BY key",
        )
        .bind(prefix)
        .bind(prefix)
        .fetch_all(self.pool())
        .await
        .map_err(|e| db_error(e, self.path()))
    }

    /// Whether the background work has caught up (see `loopline_core::Quiescence`).
    pub async fn quiescence(&self, now_ms: i64) -> Result<loopline_core::Quiescence, ApiError> {
        let map = |e| db_error(e, self.path());
        let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM events")
            .fetch_one(self.pool())
            .await
            .map_err(map)?;
        let has_rules: bool = sqlx::query_scalar::<_, i64>("SELECT EXISTS (SELECT 1 FROM rules)")
            .fetch_one(self.pool())
            .await
            .map_err(map)?
            != 0;
        let cursor: Option<i64> = self
            .setting("rules.cursor")
            .await?
            .and_then(|c| c.parse().ok());
        let outbox_due = self.outbox_busy(now_ms).await?;
        let rules_caught_up = !has_rules || cursor.unwrap_or(0) >= newest.unwrap_or(0);
        let outbox_idle = outbox_due == 0;
        Ok(loopline_core::Quiescence {
            rules_caught_up,
            outbox_idle,
            quiescent: rules_caught_up && outbox_idle,
            newest_event_id: newest,
            rules_cursor: cursor,
            outbox_due,
        })
    }
}
