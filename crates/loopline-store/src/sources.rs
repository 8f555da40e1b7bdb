use loopline_core::{rfc3339_ms, ApiError, ErrorCode, Source, SourceKind};
use sqlx::Row;

use crate::errors::db_error;
use crate::Store;

/// A source and the digests of the secrets it accepts now: what the receiver caches.
#[derive(Debug, Clone)]
pub struct SourceAuth {
    pub id: String,
    pub kind: SourceKind,
    pub name: String,
    /// (secret row id, SHA-256 digest, expiry in ms; `None` = no expiry)
    pub secrets: Vec<(i64, Vec<u8>, Option<i64>)>,
    /// False only for an Aquarium source added without a secret (not one whose secrets all
    /// expired: it had some, so it stays closed).
    pub secret_required: bool,
}

const SOURCES_REV: &str = "sources.revision";

impl Store {
    pub async fn insert_source(
        &self,
        id: &str,
        kind: SourceKind,
        name: &str,
        digest: Option<&[u8]>,
        now_ms: i64,
    ) -> Result<i64, ApiError> {
        let mut tx = self
            .pool()
            .begin()
            .await
            .map_err(|e| db_error(e, self.path()))?;
        sqlx::query("INSERT INTO sources (id, kind, name, created_at_ms) VALUES (?, ?, ?, ?)")
            .bind(id)
            .bind(kind.as_str())
            .bind(name)
            .bind(now_ms)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, self.path()))?;
        match digest {
            Some(d) => self.add_secret_and_commit(tx, id, d, now_ms).await,
            // An Aquarium source the user chose to accept without a secret (Aquarium sends
            // one only when the organisation set one).
            None => {
                bump_revision(&mut tx, self).await?;
                tx.commit().await.map_err(|e| db_error(e, self.path()))?;
                Ok(0)
            }
        }
    }

    /// Adds a new secret and lets the current ones expire at `old_expires_at_ms`.
    /// Returns the new secret's row id.
    pub async fn rotate_source_secret(
        &self,
        id: &str,
        digest: &[u8],
        now_ms: i64,
        old_expires_at_ms: i64,
    ) -> Result<i64, ApiError> {
        let mut tx = self
            .pool()
            .begin()
            .await
            .map_err(|e| db_error(e, self.path()))?;
        sqlx::query(
            "UPDATE source_secrets SET expires_at_ms = MIN(COALESCE(expires_at_ms, ?1), ?1) WHERE source_id = ?2",
        )
        .bind(old_expires_at_ms)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, self.path()))?;
        // Secrets long past their grace period are of no use to anyone.
        sqlx::query("DELETE FROM source_secrets WHERE source_id = ? AND expires_at_ms IS NOT NULL AND expires_at_ms < ?")
            .bind(id)
            .bind(now_ms)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, self.path()))?;
        self.add_secret_and_commit(tx, id, digest, now_ms).await
    }

    /// Removes a source. Its events stay on the timeline (they are history), marked with
    /// the id of a source that no longer exists.
    pub async fn remove_source(&self, id: &str) -> Result<bool, ApiError> {
        let mut tx = self
            .pool()
            .begin()
            .await
            .map_err(|e| db_error(e, self.path()))?;
        sqlx::query("DELETE FROM source_secrets WHERE source_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, self.path()))?;
        let n = sqlx::query("DELETE FROM sources WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, self.path()))?
            .rows_affected();
        bump_revision(&mut tx, self).await?;
        tx.commit().await.map_err(|e| db_error(e, self.path()))?;
        Ok(n > 0)
    }

    pub async fn list_sources(&self, now_ms: i64) -> Result<Vec<Source>, ApiError> {
        let rows = sqlx::query(
            "SELECT s.id, s.kind, s.name, s.created_at_ms, \
               (SELECT MAX(expires_at_ms) FROM source_secrets x WHERE x.source_id = s.id AND x.expires_at_ms > ?) AS grace, \
               (SELECT COUNT(*) FROM events e WHERE e.source_id = s.id) AS n, \
               (SELECT MAX(received_at_ms) FROM events e WHERE e.source_id = s.id) AS last \
             FROM sources s ORDER BY s.created_at_ms, s.id",
        )
        .bind(now_ms)
        .fetch_all(self.pool())
        .await
        .map_err(|e| db_error(e, self.path()))?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let kind = SourceKind::parse(r.get::<String, _>("kind").as_str())?;
                let id: String = r.get("id");
                Some(Source {
                    hook_path: format!("/hooks/{id}"),
                    header_name: kind.header_name().to_string(),
                    id,
                    kind,
                    name: r.get("name"),
                    created_at: rfc3339_ms(r.get("created_at_ms")),
                    previous_secret_valid_until: r.get::<Option<i64>, _>("grace").map(rfc3339_ms),
                    event_count: r.get("n"),
                    last_event_at: r.get::<Option<i64>, _>("last").map(rfc3339_ms),
                })
            })
            .collect())
    }

    pub async fn source(&self, id: &str, now_ms: i64) -> Result<Source, ApiError> {
        self.list_sources(now_ms)
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::SourceNotFound,
                    format!("No source has the id '{id}'. `loopline source list` shows the ones there are."),
                )
            })
    }

    /// Every source with its live secrets, for the receiver's in-memory table.
    pub async fn source_auth_table(&self, now_ms: i64) -> Result<Vec<SourceAuth>, ApiError> {
        let sources = sqlx::query(
            "SELECT id, kind, name, EXISTS (SELECT 1 FROM source_secrets x WHERE x.source_id = sources.id) AS has_secret FROM sources",
        )
            .fetch_all(self.pool())
            .await
            .map_err(|e| db_error(e, self.path()))?;
        let secrets = sqlx::query(
            "SELECT id, source_id, digest, expires_at_ms FROM source_secrets \
             WHERE expires_at_ms IS NULL OR expires_at_ms > ? ORDER BY id DESC",
        )
        .bind(now_ms)
        .fetch_all(self.pool())
        .await
        .map_err(|e| db_error(e, self.path()))?;
        let mut out: Vec<SourceAuth> = sources
            .into_iter()
            .filter_map(|r| {
                Some(SourceAuth {
                    kind: SourceKind::parse(r.get::<String, _>("kind").as_str())?,
                    id: r.get("id"),
                    name: r.get("name"),
                    secrets: Vec::new(),
                    secret_required: r.get::<bool, _>("has_secret"),
                })
            })
            .collect();
        for s in secrets {
            let source_id: String = s.get("source_id");
            if let Some(src) = out.iter_mut().find(|x| x.id == source_id) {
                src.secrets
                    .push((s.get("id"), s.get("digest"), s.get("expires_at_ms")));
            }
        }
        Ok(out)
    }

    /// Bumped by every change to sources or their secrets, so a running receiver (in this
    /// process or another) knows to reload its table.
    pub async fn sources_revision(&self) -> Result<i64, ApiError> {
        Ok(self
            .setting(SOURCES_REV)
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }
}

impl Store {
    /// The last step of every change to a source's secrets: the new digest, a bumped
    /// revision (so running receivers reload), and the commit. Returns the secret's row id.
    async fn add_secret_and_commit(
        &self,
        mut tx: sqlx::Transaction<'_, sqlx::Sqlite>,
        id: &str,
        digest: &[u8],
        now_ms: i64,
    ) -> Result<i64, ApiError> {
        let secret_id = sqlx::query(
            "INSERT INTO source_secrets (source_id, digest, created_at_ms) VALUES (?, ?, ?)",
        )
        .bind(id)
        .bind(digest)
        .bind(now_ms)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, self.path()))?
        .last_insert_rowid();
        bump_revision(&mut tx, self).await?;
        tx.commit().await.map_err(|e| db_error(e, self.path()))?;
        Ok(secret_id)
    }
}

async fn bump_revision(tx: &mut sqlx::SqliteConnection, store: &Store) -> Result<(), ApiError> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES (?, '1') \
         ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
    )
    .bind(SOURCES_REV)
    .execute(tx)
    .await
    .map(|_| ())
    .map_err(|e| db_error(e, store.path()))
}
