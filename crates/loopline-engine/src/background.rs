//! Work that runs beside the receiver: keeping the source table current (also when the CLI
//! changes sources from another process), full-text indexing after acknowledgement,
//! retention, the change feed the timeline listens to, and the daily backup.

use std::sync::Arc;
use std::time::Duration;

use loopline_core::{ErrorCode, Sensitive, SourceKind};
use loopline_hooks::{auth::signing_key, SourceEntry};
use loopline_payloads::parse::search_text;

use crate::change_watch::{marks_moved, IDLE_RECHECK};
use crate::engine::WeakEngine;
use crate::Engine;

const FEED_COALESCE: Duration = Duration::from_millis(100);
const RETENTION_EVERY: Duration = Duration::from_secs(60);
const NO_RULES_RECHECK: Duration = Duration::from_millis(500);
/// How soon an outbox lane looks again while items are unsettled (as before the marks).
const OUTBOX_BUSY_LOOK: Duration = Duration::from_millis(250);
/// How often the lane for kinds this version does not know looks for them.
const OTHER_KINDS_LOOK: Duration = Duration::from_secs(30);
/// Busy-lock failures of the search indexer retried without a warning, a second apart.
const LOCKED_QUIETLY: u32 = 3;

pub use loopline_core::secret_names::{
    source_signing_key as signing_key_secret_name, source_token as token_secret_name,
};

impl Engine {
    /// Rebuilds the receiver's source table from the store (digests) and the secret store
    /// (signing keys of Standard Webhooks sources). A failure keeps the previous table, so
    /// a keychain that does not answer for a moment never turns every webhook into a 404;
    /// the next check tries again.
    pub async fn reload_sources(&self) {
        if let Err(e) = self.try_reload_sources().await {
            tracing::warn!(code = %e.code, "source table not reloaded, the previous one stays: {}", e.message);
            if let Ok(mut last) = self.sources_error.lock() {
                *last = Some(e);
            }
        } else if let Ok(mut last) = self.sources_error.lock() {
            *last = None;
        }
    }

    /// Why the last reload of the source table failed, while it stays failed.
    pub fn sources_reload_error(&self) -> Option<loopline_core::ApiError> {
        self.sources_error.lock().ok().and_then(|e| e.clone())
    }

    async fn try_reload_sources(&self) -> Result<(), loopline_core::ApiError> {
        let now = self.clock.now_ms();
        // Read before the table: a change that lands in between is seen by the next check.
        let revision = self.store.sources_revision().await?;
        let table = self.store.source_auth_table(now).await?;
        let secrets = self.secrets.clone();
        let entries = tokio::task::spawn_blocking(move || {
            let mut entries = Vec::with_capacity(table.len());
            for s in table {
                let mut signing_keys = Vec::new();
                let mut digests = Vec::new();
                for (_row, digest, expires) in s.secrets {
                    if s.kind == SourceKind::Generic {
                        match secrets.get(&signing_key_secret_name(&s.id, &digest)) {
                            Ok(Some(secret)) => {
                                signing_keys.push((Sensitive::new(signing_key(secret.expose())), expires))
                            }
                            // Gone for good (deleted by hand): that key can no longer sign.
                            Ok(None) => tracing::warn!(source = %s.id, "signing key missing from the {}", secrets.describe()),
                            // Not answering: a table without this key would refuse every
                            // delivery of the source, so the previous table stays.
                            Err(e) => return Err(e),
                        }
                    }
                    if let Ok(d) = <[u8; 32]>::try_from(digest.as_slice()) {
                        digests.push((d, expires));
                    }
                }
                entries.push(SourceEntry {
                    id: s.id,
                    kind: s.kind,
                    name: s.name,
                                        digests,
                    signing_keys,
                    secret_required: s.secret_required,
                });
            }
            Ok(entries)
        })
        .await
        .map_err(|e| {
            loopline_core::ApiError::internal(format!("reading the source table's keys failed: {e}"))
        })??;
        self.sources.replace(entries);
        self.sources_loaded
            .store(revision, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    /// Rebuilds the table only when another process (or this one) changed the sources
    /// since it was built: one small query otherwise.
    pub(crate) async fn reload_sources_if_changed(&self) {
        let loaded = self
            .sources_loaded
            .load(std::sync::atomic::Ordering::SeqCst);
        match self.store.sources_revision().await {
            Ok(rev) if rev == loaded => {}
            _ => self.reload_sources().await,
        }
    }

    /// Starts the background work once (later calls do nothing): with the engine, not
    /// with the receiver, so rules, runs and the monitor keep going when the receiver's
    /// address cannot be parsed or bound. Each task is supervised by name.
    pub fn start_background(self: &Arc<Self>, kind: &'static str) {
        if self.supervisor.started() {
            return;
        }
        let tasks: [(&'static str, StartTask); 15] = [
            ("changes", |e| {
                Box::pin(crate::change_watch::watch_changes(e))
            }),
            ("sources", |e| Box::pin(refresh_sources(e))),
            ("search_index", |e| Box::pin(index_events(e))),
            ("retention", |e| Box::pin(apply_retention(e))),
            ("change_feed", |e| Box::pin(feed_changes(e))),
            ("rules", |e| Box::pin(evaluate_rules(e))),
            ("outbox", |e| Box::pin(start_runs(e))),
            ("run_monitor", |e| Box::pin(watch_runs(e))),
            ("run_endings", |e| Box::pin(announce_run_endings(e))),
            ("label_studio_hooks", |e| Box::pin(watch_hooks(e))),
            ("heartbeat", |e| Box::pin(crate::heartbeat::beat(e))),
            ("tunnel", |e| Box::pin(crate::tunnel::keep_tunnel(e))),
            ("backups", |e| Box::pin(crate::database::keep_backups(e))),
            ("notices", |e| Box::pin(crate::companion::watch_notices(e))),
            ("catch_up", |e| Box::pin(crate::wake_watch::watch_wakes(e))),
        ];
        if let Ok(mut k) = self.process_kind.lock() {
            *k = kind;
        }
        for (name, task) in tasks {
            let weak = Arc::downgrade(self);
            self.supervisor.spawn(name, move || task(weak.clone()));
        }
    }

    /// Deletes what the retention policy no longer keeps. Returns how many events went.
    pub async fn prune(&self) -> Result<u64, loopline_core::ApiError> {
        let mut total = 0;
        loop {
            let n = self.store.prune_chunk(self.clock.now_ms()).await?;
            total += n;
            if n == 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
        if total > 0 {
            self.bump_revision();
        }
        Ok(total)
    }

    /// Indexes everything not yet searchable. Returns how many events were indexed.
    pub async fn index_all(&self) -> Result<usize, loopline_core::ApiError> {
        let mut total = 0;
        loop {
            let n = self
                .store
                .index_pending(|e| search_text(e.action, e.summary, e.body))
                .await?;
            total += n;
            if n == 0 {
                return Ok(total);
            }
        }
    }
}

type TaskFuture = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;
/// How a supervised task is (re)started from the engine it works for.
type StartTask = fn(WeakEngine) -> TaskFuture;

/// This process reloads its own source changes at once; another process's show up in the
/// change marks.
async fn refresh_sources(engine: WeakEngine) {
    let mut marks = match engine.upgrade() {
        Some(e) => e.marks.subscribe(),
        None => return,
    };
    loop {
        let Some(e) = engine.upgrade() else { return };
        e.reload_sources_if_changed().await;
        drop(e);
        marks_moved(&mut marks, IDLE_RECHECK).await;
    }
}

async fn index_events(engine: WeakEngine) {
    let (mut newest, mut marks) = match engine.upgrade() {
        Some(e) => (e.writer.subscribe_newest(), e.marks.subscribe()),
        None => return,
    };
    let mut last_newest = *newest.borrow();
    let mut locked_in_a_row = 0u32;
    loop {
        let Some(e) = engine.upgrade() else { return };
        let indexed = e
            .store
            .index_pending(|ev| search_text(ev.action, ev.summary, ev.body))
            .await;
        drop(e);
        if !matches!(&indexed, Err(err) if err.code == ErrorCode::DbLocked) {
            locked_in_a_row = 0;
        }
        match indexed {
            Ok(n) if n > 0 => {
                // Ingest comes first: while events are arriving, index in small steps with
                // pauses, so acknowledgements never queue behind the indexer's transaction.
                let current = *newest.borrow();
                let busy = current != last_newest;
                last_newest = current;
                tokio::time::sleep(Duration::from_millis(if busy { 250 } else { 5 })).await;
            }
            Ok(_) => {
                // Idle until an event is stored, here or by another process.
                let writer_gone = tokio::select! {
                    r = newest.changed() => r.is_err(),
                    _ = marks_moved(&mut marks, IDLE_RECHECK) => false,
                };
                if writer_gone {
                    marks_moved(&mut marks, IDLE_RECHECK).await;
                }
            }
            // Under full ingest load a read or write of the indexer now and then finds the
            // lock busy for a moment (seen about once a minute in `scripts/bench b1`); the
            // generic message would blame another program. Nothing is lost (the index
            // catches up from where it stopped), so only a lock that persists is reported.
            Err(err) if err.code == ErrorCode::DbLocked && locked_in_a_row < LOCKED_QUIETLY => {
                locked_in_a_row += 1;
                tracing::debug!("search indexing waits for the database lock; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(err) => {
                tracing::warn!(code = %err.code, "search indexing paused, retrying in 5 s: {}", err.message);
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    }
}

async fn apply_retention(engine: WeakEngine) {
    loop {
        {
            let Some(e) = engine.upgrade() else { return };
            if let Err(err) = e.prune().await {
                tracing::warn!(code = %err.code, "retention not applied: {}", err.message);
            }
        }
        tokio::time::sleep(RETENTION_EVERY).await;
    }
}

/// Publishes the newest event id: from this process's writer at once, and from the change
/// marks (a second at most) for events written by another process.
async fn feed_changes(engine: WeakEngine) {
    let (mut newest, mut marks) = match engine.upgrade() {
        Some(e) => (e.writer.subscribe_newest(), e.marks.subscribe()),
        None => return,
    };
    loop {
        let own = tokio::select! {
            r = newest.changed() => match r {
                Ok(()) => Ok(*newest.borrow_and_update()),
                Err(_) => Err(()),
            },
            _ = marks_moved(&mut marks, IDLE_RECHECK) => Ok(None),
        };
        let id = match own {
            Ok(id) => id,
            Err(()) => {
                // The writer is gone (shutting down): only the marks are left to follow.
                marks_moved(&mut marks, IDLE_RECHECK).await;
                None
            }
        };
        let Some(e) = engine.upgrade() else { return };
        let id = id.or_else(|| Some(marks.borrow().newest_event).filter(|&n| n > 0));
        e.changes.send_if_modified(|c| {
            if id.is_some() && c.newest_id != id {
                c.newest_id = id;
                true
            } else {
                false
            }
        });
        drop(e);
        // Coalesce: a busy receiver commits hundreds of batches a second; watchers need a
        // few updates a second at most.
        tokio::time::sleep(FEED_COALESCE).await;
    }
}

/// Rules see each event right after it is stored here, and within a second (the change
/// marks) when it was stored by another process (or before a restart).
///
/// With no rules at all, asking the database again for every batch of events was a
/// measurable share of ingest; so "no rules" is believed for half a second, or until a rule
/// changes in this process. Nothing is missed meanwhile: the next evaluation starts at the
/// rules cursor, which only a pass moves.
async fn evaluate_rules(engine: WeakEngine) {
    let (mut newest, mut rules_rev, mut marks) = match engine.upgrade() {
        Some(e) => (
            e.writer.subscribe_newest(),
            e.runs_rev.subscribe(),
            e.marks.subscribe(),
        ),
        None => return,
    };
    let mut no_rules_at: Option<std::time::Instant> = None;
    loop {
        let Some(e) = engine.upgrade() else { return };
        let believe_none = no_rules_at.is_some_and(|t| t.elapsed() < NO_RULES_RECHECK)
            && !rules_rev.has_changed().unwrap_or(true);
        if !believe_none {
            rules_rev.borrow_and_update();
            match e.evaluate_rules_if_any().await {
                Ok(None) => no_rules_at = Some(std::time::Instant::now()),
                Ok(Some(_)) => no_rules_at = None,
                Err(err) => {
                    tracing::warn!(code = %err.code, "rules not evaluated: {}", err.message)
                }
            }
        }
        // Automations judge the same events from a cursor of their own.
        if let Err(err) = e.evaluate_automations().await {
            tracing::warn!(code = %err.code, "automations not evaluated: {}", err.message)
        }
        drop(e);
        let before = *marks.borrow();
        let (writer_gone, rules_here) = tokio::select! {
            r = newest.changed() => (r.is_err(), false),
            _ = rules_rev.changed() => (false, true),
            _ = marks_moved(&mut marks, IDLE_RECHECK) => (false, false),
        };
        if writer_gone {
            marks_moved(&mut marks, IDLE_RECHECK).await;
        }
        let now = *marks.borrow();
        if rules_here || now.rules != before.rules || now.rules_every != before.rules_every {
            // A rule was added or changed, here or in another process: do not go on
            // believing there are none.
            no_rules_at = None;
        }
    }
}

/// The outbox worker: one lane per kind of effect, each delivering its items one at a time,
/// all lanes at once. A slow kind (an export to a host that never answers) then delays only
/// its own lane, never the retrain starts or the webhook moves.
async fn start_runs(engine: WeakEngine) {
    use crate::tunnel::LS_HOOK_URL;
    use loopline_store::{
        AQUARIUM_EXPORT, AUTOMATION_DATASET, AUTOMATION_FORWARD, AUTOMATION_NOTIFY, RETRAIN_START,
    };
    // A lane per kind, each on its own: a dataset version listing a large bucket must not
    // hold up the forwards and notifications of the next event (they once shared one pass,
    // which waited for its slowest kind before looking again).
    const OWN_LANES: [&str; 6] = [
        RETRAIN_START,
        LS_HOOK_URL,
        AQUARIUM_EXPORT,
        AUTOMATION_FORWARD,
        AUTOMATION_NOTIFY,
        AUTOMATION_DATASET,
    ];
    let lane = |engine: WeakEngine, takes: crate::outbox::Lane<'static>| async move {
        let (mut marks, mut wake) = match engine.upgrade() {
            Some(e) => (e.marks.subscribe(), e.outbox_wake.subscribe()),
            None => return,
        };
        loop {
            let Some(e) = engine.upgrade() else { return };
            // Marked seen before the pass: an enqueue during it wakes the next wait at once.
            wake.borrow_and_update();
            if let Err(err) = e.drain_outbox_lane(takes).await {
                tracing::warn!(code = %err.code, "outbox not drained: {}", err.message);
            }
            // While anything is unsettled (a retry waiting out its backoff, a lease held by
            // a process that may have died), look again soon; with nothing to do, sleep
            // until this process enqueues something or the marks show another one did.
            let busy = marks.borrow().unsettled_outbox > 0;
            drop(e);
            if let crate::outbox::Lane::Others(_) = takes {
                // Kinds only a newer version writes: looked at now and then, never at each
                // enqueue (that read cannot use the kind's index).
                tokio::time::sleep(OTHER_KINDS_LOOK).await;
                continue;
            }
            if busy {
                let _ = tokio::time::timeout(OUTBOX_BUSY_LOOK, wake.changed()).await;
            } else {
                tokio::select! {
                    _ = wake.changed() => {}
                    _ = marks_moved(&mut marks, IDLE_RECHECK) => {}
                }
            }
        }
    };
    let mut lanes: Vec<_> = OWN_LANES
        .iter()
        .map(|&kind| lane(engine.clone(), crate::outbox::Lane::Only(kind)))
        .collect();
    // Kinds a newer version may have written: delivered (or failed in words) too.
    lanes.push(lane(engine, crate::outbox::Lane::Others(&OWN_LANES)));
    futures_util::future::join_all(lanes).await;
}

/// Looks at the active runs every second while there are any; with none, sleeps until a
/// run starts (here or in another process).
async fn watch_runs(engine: WeakEngine) {
    let (mut runs, mut marks) = match engine.upgrade() {
        Some(e) => (e.runs_rev.subscribe(), e.marks.subscribe()),
        None => return,
    };
    loop {
        if marks.borrow().active_runs > 0 {
            tokio::time::sleep(Duration::from_secs(1)).await;
        } else {
            tokio::select! {
                _ = runs.changed() => {}
                _ = marks_moved(&mut marks, IDLE_RECHECK) => {}
            }
        }
        let Some(e) = engine.upgrade() else { return };
        if let Err(err) = e.poll_runs().await {
            tracing::debug!(code = %err.code, "runs not polled: {}", err.message);
        }
    }
}

async fn watch_hooks(engine: WeakEngine) {
    loop {
        let every = match engine.upgrade() {
            Some(e) => e.hook_check_interval(),
            None => return,
        };
        tokio::time::sleep(every).await;
        let Some(e) = engine.upgrade() else { return };
        if let Err(err) = e.check_hooks().await {
            tracing::debug!(code = %err.code, "Label Studio webhooks not checked: {}", err.message);
        }
    }
}

/// Publishes each run that ended (`Engine::subscribe_run_endings`), whichever process
/// recorded the end: the runs seen active are compared with the store when the change marks
/// move (a second at most), and at once when this process changed a run. Runs that had already ended when the engine started
/// are not announced.
async fn announce_run_endings(engine: WeakEngine) {
    let (mut changed, mut marks) = match engine.upgrade() {
        Some(e) => (e.runs_rev.subscribe(), e.marks.subscribe()),
        None => return,
    };
    let mut seen: Option<std::collections::HashMap<i64, loopline_core::RunStatus>> = None;
    loop {
        {
            let Some(e) = engine.upgrade() else { return };
            match e.store.active_run_statuses().await {
                Ok(now_active) => {
                    let now: std::collections::HashMap<_, _> = now_active.into_iter().collect();
                    if let Some(before) = &seen {
                        for id in before.keys().filter(|id| !now.contains_key(id)) {
                            if let Ok(run) = e.store.run(*id).await {
                                if !run.active {
                                    let _ = e.run_endings.send(run);
                                }
                            }
                        }
                    }
                    seen = Some(now);
                }
                Err(err) => {
                    tracing::debug!(code = %err.code, "run endings not checked: {}", err.message)
                }
            }
        }
        tokio::select! {
            _ = changed.changed() => {}
            _ = marks_moved(&mut marks, IDLE_RECHECK) => {}
        }
    }
}
