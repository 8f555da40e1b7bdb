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

    pub async fn delete_setting(&self, key: &str) -> Result<(), ApiError> {
        sqlx::query("DELETE FROM settings WHERE key = ?")
            .bind(key)
            .execute(self.pool())
            .await
            .map(|_| ())
            .map_err(|e| db_error(e, self.path()))
    }
}
