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

/// Writes each rule's or automation's counter and the multiple it last fired for, all in one
/// statement: `table` is `rules` or `automations`, `progress` maps an id to (count, bucket).
pub(crate) async fn write_progress(
    conn: &mut sqlx::SqliteConnection,
    table: &'static str,
    progress: &std::collections::BTreeMap<String, (i64, i64)>,
) -> Result<(), sqlx::Error> {
    if progress.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = progress
        .iter()
        .map(|(id, (count, bucket))| serde_json::json!({"id": id, "c": count, "b": bucket}))
        .collect();
    sqlx::query(&format!(
        "UPDATE {table} SET last_count = j.value ->> '$.c', fired_bucket = j.value ->> '$.b' \
         FROM json_each(?) AS j WHERE {table}.id = j.value ->> '$.id'"
    ))
    .bind(serde_json::Value::from(rows).to_string())
    .execute(conn)
    .await?;
    Ok(())
}
