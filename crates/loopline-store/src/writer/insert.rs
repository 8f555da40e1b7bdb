//! One batch, one transaction: ids handed out in order, duplicates decided, rows inserted.

use std::collections::HashMap;

use loopline_core::{ApiError, EventStatus};
use rusqlite::{params, Connection, TransactionBehavior};

use super::recent::{RecentDigests, Seen, RECENT_CAP};
use super::{sqlite_error, Job, Stored, WriterState};

const INSERT: &str = "INSERT INTO events (source_id, received_at_ms, remote_addr, headers_json, body, body_sha256, \
     body_truncated, kind, action, project_id, project_name, summary, status, duplicate_of, replay_of, parsed_json, \
     body_codec, body_len) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)";

/// Inserts the batch and commits. The commit is not yet durable (see `durability`).
pub(crate) fn insert_all(state: &mut WriterState, batch: &[Job]) -> Result<Vec<Stored>, ApiError> {
    let path = state.path.clone();
    let map = |e| sqlite_error(e, &path);
    let conn = state.conn.as_mut().expect("connection present");
    // IMMEDIATE takes the write lock up front; a deferred transaction that reads first
    // could fail to upgrade without waiting when another connection writes meanwhile.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(map)?;
    // AUTOINCREMENT hands out max(seq, max id) + 1, + 2, … while this connection holds the
    // write lock. The next id is remembered between batches and each insert's id is
    // checked against it; if another process inserted meanwhile, the batch rolls back.
    let base = match state.next_id {
        Some(n) => n,
        None => {
            let n = next_id_from_db(&tx).map_err(map)?;
            // Another process on the data directory stored events since our last batch:
            // their bodies count for the duplicate window too, so a sender's retry that
            // reaches the other receiver is still flagged. Read under the write lock, so
            // nothing can be inserted between this read and our inserts.
            if n - 1 > state.accounted_up_to {
                add_digests_after(&tx, state.accounted_up_to, &mut state.recent).map_err(map)?;
            }
            state.accounted_up_to = state.accounted_up_to.max(n - 1);
            n
        }
    };
    let ids: Vec<i64> = (0..batch.len() as i64).map(|k| base + k).collect();

    // Duplicates: an identical body from the same source within the window, stored earlier
    // or earlier in this very batch.
    // Originals of this batch are remembered only once it has committed.
    let mut decided: Vec<(EventStatus, Option<i64>)> = Vec::with_capacity(batch.len());
    let mut fresh: HashMap<(&str, [u8; 32]), Seen> = HashMap::new();
    for (i, job) in batch.iter().enumerate() {
        let ev = &job.event;
        if !(ev.check_duplicate && ev.status == EventStatus::Processed) {
            decided.push((ev.status, None));
            continue;
        }
        let key = (ev.source_id.as_str(), ev.body_sha256);
        let earlier = fresh
            .get(&key)
            .copied()
            .or_else(|| state.recent.get(key.0, &key.1))
            .filter(|seen| ev.received_at_ms - seen.at_ms <= state.window_ms);
        match earlier {
            Some(original) => decided.push((EventStatus::Duplicate, Some(original.id))),
            None => {
                let seen = Seen {
                    id: ids[i],
                    at_ms: ev.received_at_ms,
                };
                fresh.insert(key, seen);
                decided.push((ev.status, None));
            }
        }
    }

    {
        let mut stmt = tx.prepare_cached(INSERT).map_err(map)?;
        for (i, job) in batch.iter().enumerate() {
            let ev = &job.event;
            let (status, dup) = decided[i];
            let id = stmt
                .insert(params![
                    ev.source_id,
                    ev.received_at_ms,
                    ev.remote_addr,
                    ev.headers_json,
                    &ev.body.bytes[..],
                    &ev.body_sha256[..],
                    ev.body_truncated,
                    ev.kind,
                    ev.action,
                    ev.project_id,
                    ev.project_name,
                    ev.summary,
                    status.as_str(),
                    dup,
                    ev.replay_of,
                    ev.parsed_json,
                    ev.body.codec as i64,
                    ev.body.len as i64,
                ])
                .map_err(map)?;
            if id != ids[i] {
                // Never acknowledge ids we are not sure of: roll back (dropping the
                // transaction does) and let the caller try once more with fresh ids.
                return Err(ApiError::internal(
                    "event ids moved under the writer; retrying",
                ));
            }
        }
    }
    tx.commit().map_err(map)?;
    state.next_id = ids.last().map(|l| l + 1);
    if let Some(last) = ids.last() {
        state.accounted_up_to = *last;
    }
    // The batch's originals, in batch order (= id order = arrival order), so the oldest
    // expire first.
    for (i, job) in batch.iter().enumerate() {
        let ev = &job.event;
        if let Some(seen) = fresh.get(&(ev.source_id.as_str(), ev.body_sha256)) {
            if seen.id == ids[i] {
                state.recent.insert(&ev.source_id, ev.body_sha256, *seen);
            }
        }
    }
    if let Some(latest) = batch.iter().map(|j| j.event.received_at_ms).max() {
        state.recent.expire(latest, state.window_ms);
    }
    Ok(ids
        .iter()
        .zip(decided)
        .map(|(id, (status, duplicate_of))| Stored {
            id: *id,
            status,
            duplicate_of,
        })
        .collect())
}

fn next_id_from_db(conn: &Connection) -> Result<i64, rusqlite::Error> {
    let seq: i64 = conn.query_row(
        "SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'events'",
        [],
        |r| r.get(0),
    )?;
    let max_id: i64 =
        conn.query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |r| r.get(0))?;
    Ok(seq.max(max_id) + 1)
}

/// Adds the originals stored after event `after_id` (by another process) to `recent`; the
/// duplicate decision applies the window itself.
fn add_digests_after(
    conn: &Connection,
    after_id: i64,
    recent: &mut RecentDigests,
) -> Result<(), rusqlite::Error> {
    add_digests(conn, after_id, i64::MIN, recent)
}

/// The originals received since `since_ms`, for a writer that starts.
pub(crate) fn recent_digests(
    conn: &Connection,
    since_ms: i64,
) -> Result<RecentDigests, rusqlite::Error> {
    let mut out = RecentDigests::default();
    add_digests(conn, 0, since_ms, &mut out)?;
    Ok(out)
}

/// Adds the originals past event `after_id` received since `since_ms`, at most
/// `RECENT_CAP` of the newest. Ids follow arrival, so the recent events are the last ids:
/// a bounded scan from the end of the table, never a walk of a large store.
fn add_digests(
    conn: &Connection,
    after_id: i64,
    since_ms: i64,
    recent: &mut RecentDigests,
) -> Result<(), rusqlite::Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, source_id, body_sha256, received_at_ms FROM events \
         WHERE id > MAX(?1, (SELECT COALESCE(MAX(id), 0) FROM events) - ?2) \
           AND received_at_ms >= ?3 AND status = 'processed' ORDER BY id",
    )?;
    let rows = stmt.query_map(
        rusqlite::params![after_id, RECENT_CAP as i64, since_ms],
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<Vec<u8>>>(2)?,
                r.get::<_, i64>(3)?,
            ))
        },
    )?;
    for row in rows {
        let (id, source, digest, at_ms) = row?;
        if let Some(d) = digest.and_then(|d| <[u8; 32]>::try_from(d).ok()) {
            recent.insert(&source, d, Seen { id, at_ms });
        }
    }
    Ok(())
}
