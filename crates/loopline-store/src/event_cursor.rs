//! The cursors the rules and the automations judge events from: a `settings` row holding
//! the id of the last event judged. Shared so both take the write lock and place the cursor
//! the same way.

use sqlx::{Sqlite, Transaction};

/// Places the cursor at the newest event when `table` has no rows yet (the first rule or
/// automation), so history is never judged retroactively. One statement reads "none yet"
/// and moves the cursor, under the write lock it takes.
pub(crate) async fn place_if_first(
    tx: &mut Transaction<'_, Sqlite>,
    key: &str,
    table: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO settings (key, value) VALUES (?, COALESCE((SELECT MAX(id) FROM events), 0)) \
         ON CONFLICT(key) DO UPDATE SET value = excluded.value WHERE NOT EXISTS (SELECT 1 FROM {table})"
    ))
    .bind(key)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Takes the write lock first, so two processes never judge the same events, then reads
/// the cursor; `None` when there is none yet.
pub(crate) async fn lock(
    tx: &mut Transaction<'_, Sqlite>,
    key: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query("UPDATE settings SET value = value WHERE key = ?")
        .bind(key)
        .execute(&mut **tx)
        .await?;
    Ok(
        sqlx::query_scalar::<_, String>("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(&mut **tx)
            .await?
            .and_then(|v| v.parse().ok()),
    )
}
