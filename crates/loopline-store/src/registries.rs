//! Lists kept one row per entry (`migrations/0009_registries.sql`): the Label Studio
//! webhooks Loopline registered, the names of stored secrets, the allowed image hosts. Each
//! change is a single statement, so two writers never lose each other's updates.

use loopline_core::ApiError;
use sqlx::Row;

use crate::errors::db_error;
use crate::Store;

/// A webhook Loopline registered in Label Studio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookRow {
    pub source_id: String,
    pub project_id: i64,
    pub webhook_id: i64,
    pub url: String,
}

impl Store {
    pub async fn registered_hooks(&self) -> Result<Vec<HookRow>, ApiError> {
        Ok(sqlx::query(
            "SELECT source_id, project_id, webhook_id, url FROM label_studio_hooks ORDER BY source_id, project_id",
        )
        .fetch_all(self.pool())
        .await
        .map_err(|e| db_error(e, self.path()))?
        .iter()
        .map(|r| HookRow {
            source_id: r.get("source_id"),
            project_id: r.get("project_id"),
            webhook_id: r.get("webhook_id"),
            url: r.get("url"),
        })
        .collect())
    }

    /// Remembers a webhook, replacing the one for the same source and project.
    pub async fn remember_hook(&self, hook: &HookRow) -> Result<(), ApiError> {
        sqlx::query(
            "INSERT INTO label_studio_hooks (source_id, project_id, webhook_id, url) VALUES (?, ?, ?, ?) \
             ON CONFLICT (source_id, project_id) DO UPDATE SET webhook_id = excluded.webhook_id, url = excluded.url",
        )
        .bind(&hook.source_id)
        .bind(hook.project_id)
        .bind(hook.webhook_id)
        .bind(&hook.url)
        .execute(self.pool())
        .await
        .map(|_| ())
        .map_err(|e| db_error(e, self.path()))
    }

    pub async fn forget_hook(&self, source_id: &str, project_id: i64) -> Result<(), ApiError> {
        sqlx::query("DELETE FROM label_studio_hooks WHERE source_id = ? AND project_id = ?")
            .bind(source_id)
            .bind(project_id)
            .execute(self.pool())
            .await
            .map(|_| ())
            .map_err(|e| db_error(e, self.path()))
    }

    /// The names of the secrets Loopline stored, sorted.
    pub async fn secret_names(&self) -> Result<Vec<String>, ApiError> {
        self.names("SELECT name FROM secret_names ORDER BY name")
            .await
    }

    /// Adds (`true`) or removes a secret's name.
    pub async fn keep_secret_name(&self, name: &str, keep: bool) -> Result<(), ApiError> {
        let sql = if keep {
            "INSERT OR IGNORE INTO secret_names (name) VALUES (?)"
        } else {
            "DELETE FROM secret_names WHERE name = ?"
        };
        self.one_row(sql, name).await
    }

    /// The image hosts the user allowed, sorted.
    pub async fn image_hosts(&self) -> Result<Vec<String>, ApiError> {
        self.names("SELECT host FROM image_hosts ORDER BY host")
            .await
    }

    /// Allows (`true`) or forbids a host's images.
    pub async fn allow_image_host(&self, host: &str, allow: bool) -> Result<(), ApiError> {
        let sql = if allow {
            "INSERT OR IGNORE INTO image_hosts (host) VALUES (?)"
        } else {
            "DELETE FROM image_hosts WHERE host = ?"
        };
        self.one_row(sql, host).await
    }

    async fn names(&self, sql: &str) -> Result<Vec<String>, ApiError> {
        sqlx::query_scalar(sql)
            .fetch_all(self.pool())
            .await
            .map_err(|e| db_error(e, self.path()))
    }

    async fn one_row(&self, sql: &str, value: &str) -> Result<(), ApiError> {
        sqlx::query(sql)
            .bind(value)
            .execute(self.pool())
            .await
            .map(|_| ())
            .map_err(|e| db_error(e, self.path()))
    }
}

#[cfg(test)]
mod tests {
    use super::HookRow;
    use crate::{Store, StoreOptions};

    /// Two processes registering webhooks at once: every one is remembered. (As one JSON
    /// list read, changed and written back, each write dropped what the other had added.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_writers_at_once_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let app = Store::open(&path, &StoreOptions::default()).await.unwrap();
        let serve = Store::open(&path, &StoreOptions::default()).await.unwrap();
        let writer = |store: Store, source: &'static str| {
            tokio::spawn(async move {
                for p in 0..40 {
                    store
                        .remember_hook(&HookRow {
                            source_id: source.into(),
                            project_id: p,
                            webhook_id: p,
                            url: format!("https://hooks.example.org/{source}"),
                        })
                        .await
                        .unwrap();
                    store
                        .keep_secret_name(&format!("{source}-{p}"), true)
                        .await
                        .unwrap();
                }
            })
        };
        let (a, b) = (writer(app.clone(), "app"), writer(serve.clone(), "serve"));
        a.await.unwrap();
        b.await.unwrap();
        assert_eq!(app.registered_hooks().await.unwrap().len(), 80);
        assert_eq!(serve.secret_names().await.unwrap().len(), 80);
        app.forget_hook("app", 3).await.unwrap();
        assert_eq!(serve.registered_hooks().await.unwrap().len(), 79);
    }
}
