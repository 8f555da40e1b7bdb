//! Retrain rules, and the transaction in which events are evaluated against them: the
//! cursor past the event, the rule's progress and any run it fires commit together.

use loopline_core::{
    rfc3339_ms, ApiError, Counter, ErrorCode, Overlap, PipelineParam, RetrainRule, RuleRequest,
    RunStatus,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};

use crate::errors::db_error;
use crate::Store;

const CURSOR: &str = "rules.cursor";

/// A rule as created: what was asked for (already checked), its id, and where its progress
/// starts.
pub struct NewRule<'a> {
    pub id: String,
    pub rule: &'a RuleRequest,
    pub count: Option<i64>,
    pub fired_bucket: i64,
}

/// An event the rules have not looked at yet.
#[derive(Debug, Clone)]
pub struct RuleEvent {
    pub id: i64,
    pub source_id: String,
    pub action: Option<String>,
    pub project_id: Option<i64>,
    pub status: String,
    pub parsed_json: Option<String>,
    /// Set on an edited replay: the event it re-sends.
    pub replay_of: Option<i64>,
}

/// A run to write to the outbox.
pub struct NewRun {
    pub rule_id: String,
    pub pipeline: String,
    pub event_id: i64,
    pub count: i64,
    pub bucket_from: i64,
    pub bucket_to: i64,
    pub status: RunStatus,
    pub params: Vec<PipelineParam>,
    pub client_token: String,
    pub created_at_ms: i64,
    pub deadline_at_ms: i64,
}

fn counter_str(c: Counter) -> &'static str {
    match c {
        Counter::Useful => "useful",
        Counter::Total => "total",
    }
}

fn overlap_str(o: Overlap) -> &'static str {
    match o {
        Overlap::Coalesce => "coalesce",
        Overlap::Parallel => "parallel",
        Overlap::Skip => "skip",
    }
}

fn parse_counter(s: &str) -> Option<Counter> {
    match s {
        "useful" => Some(Counter::Useful),
        "total" => Some(Counter::Total),
        _ => None,
    }
}

fn parse_overlap(s: &str) -> Option<Overlap> {
    match s {
        "coalesce" => Some(Overlap::Coalesce),
        "parallel" => Some(Overlap::Parallel),
        "skip" => Some(Overlap::Skip),
        _ => None,
    }
}

/// A stored value that cannot be read makes the rule an error, never a default: a default
/// counter or policy would start pipelines the user did not ask for.
fn rule_from_row(r: &SqliteRow) -> RetrainRule {
    let id: String = r.get("id");
    let counter_raw: String = r.get("counter");
    let overlap_raw: String = r.get("overlap");
    let params =
        serde_json::from_str::<Vec<PipelineParam>>(r.get::<String, _>("params_json").as_str());
    let mut problems = Vec::new();
    let counter = parse_counter(&counter_raw).unwrap_or_else(|| {
        problems.push(format!(
            "its counter '{counter_raw}' is not 'useful' or 'total'"
        ));
        Counter::Useful
    });
    let overlap = parse_overlap(&overlap_raw).unwrap_or_else(|| {
        problems.push(format!(
            "its overlap policy '{overlap_raw}' is not 'coalesce', 'parallel' or 'skip'"
        ));
        Overlap::Coalesce
    });
    if let Err(e) = &params {
        problems.push(format!("its pipeline parameters cannot be read ({e})"));
    }
    let error = (!problems.is_empty()).then(|| {
        format!(
            "Rule {id} will not fire: {}. Remove it (`loopline rule remove {id}`) and add it again.",
            problems.join("; ")
        )
    });
    let mut rule = RetrainRule {
        id,
        source_id: r.get("source_id"),
        project_id: r.get("project_id"),
        every: r.get("every"),
        pipeline: r.get("pipeline"),
        params: params.unwrap_or_default(),
        counter,
        overlap,
        dry_run: r.get::<i64, _>("dry_run") != 0,
        start_time_limit_secs: r.get("start_time_limit_secs"),
        created_at: rfc3339_ms(r.get("created_at_ms")),
        count: r.get("last_count"),
        fired_bucket: r.get("fired_bucket"),
        progress: String::new(),
        error: None,
        name: r.get("name"),
        paused: r.get::<i64, _>("paused") != 0,
        dataset_automation: r.get("dataset_automation"),
    };
    rule.progress = match &error {
        Some(e) => e.clone(),
        None => rule.progress_sentence(),
    };
    rule.error = error;
    rule
}

impl Store {
    /// Creates a rule. A rule added when there is none places the rules cursor at the
    /// newest event, so history is never evaluated retroactively: with no rules the passes
    /// do not run and the cursor stays where the last rule left it, so a rule added after the
    /// last one was removed would otherwise replay every event received in between.
    pub async fn insert_rule(
        &self,
        new: &NewRule<'_>,
        now_ms: i64,
    ) -> Result<RetrainRule, ApiError> {
        let rule = new.rule;
        let map = |e| db_error(e, self.path());
        let mut tx = self.pool().begin().await.map_err(map)?;
        crate::event_cursor::place_if_first(&mut tx, CURSOR, "rules")
            .await
            .map_err(map)?;
        sqlx::query(
            "INSERT INTO rules (id, source_id, project_id, every, pipeline, params_json, counter, overlap, dry_run, \
             start_time_limit_secs, created_at_ms, last_count, fired_bucket, name, dataset_automation) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        )
        .bind(&new.id)
        .bind(&rule.source_id)
        .bind(rule.project_id)
        .bind(rule.every)
        .bind(&rule.pipeline)
        .bind(serde_json::to_string(&rule.params).unwrap_or_else(|_| "[]".into()))
        .bind(counter_str(rule.counter))
        .bind(overlap_str(rule.overlap))
        .bind(rule.dry_run as i64)
        .bind(rule.start_time_limit_secs)
        .bind(now_ms)
        .bind(new.count)
        .bind(new.fired_bucket)
        .bind(rule.name.as_deref().map(str::trim).filter(|n| !n.is_empty()))
        .bind(rule.dataset_automation.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        tx.commit().await.map_err(map)?;
        self.rule(&new.id).await
    }

    pub async fn rule(&self, id: &str) -> Result<RetrainRule, ApiError> {
        sqlx::query("SELECT * FROM rules WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| db_error(e, self.path()))?
            .map(|r| rule_from_row(&r))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    format!("No rule '{id}'. `loopline rule list` shows the rules there are."),
                )
            })
    }

    pub async fn list_rules(&self) -> Result<Vec<RetrainRule>, ApiError> {
        Ok(
            sqlx::query("SELECT * FROM rules ORDER BY created_at_ms, id")
                .fetch_all(self.pool())
                .await
                .map_err(|e| db_error(e, self.path()))?
                .iter()
                .map(rule_from_row)
                .collect(),
        )
    }

    /// Pauses or resumes a rule. While paused its count moves on without firing
    /// (`rule_eval.rs`), so resuming fires from the next multiple, never for one passed
    /// meanwhile.
    pub async fn set_rule_paused(&self, id: &str, paused: bool) -> Result<RetrainRule, ApiError> {
        sqlx::query("UPDATE rules SET paused = ? WHERE id = ?")
            .bind(paused as i64)
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(|e| db_error(e, self.path()))?;
        self.rule(id).await
    }

    pub async fn delete_rule(&self, id: &str) -> Result<bool, ApiError> {
        let n = sqlx::query("DELETE FROM rules WHERE id = ?")
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(|e| db_error(e, self.path()))?
            .rows_affected();
        Ok(n > 0)
    }

    /// The rule's counter as events carried it, oldest first (at most `limit` points, the
    /// newest kept).
    pub async fn rule_points(
        &self,
        rule: &RetrainRule,
        limit: i64,
    ) -> Result<Vec<loopline_core::CountPoint>, ApiError> {
        let field = match rule.counter {
            Counter::Useful => "$.useful_annotation_number",
            Counter::Total => "$.total_annotations_number",
        };
        let rows = sqlx::query(
            "SELECT id, received_at_ms, json_extract(parsed_json, ?) AS n FROM events \
             WHERE source_id = ? AND project_id = ? AND status = 'processed' AND json_extract(parsed_json, ?) IS NOT NULL \
             ORDER BY id DESC LIMIT ?",
        )
        .bind(field)
        .bind(&rule.source_id)
        .bind(rule.project_id)
        .bind(field)
        .bind(limit)
        .fetch_all(self.pool())
        .await
        .map_err(|e| db_error(e, self.path()))?;
        let mut points: Vec<loopline_core::CountPoint> = rows
            .iter()
            .map(|r| loopline_core::CountPoint {
                at: rfc3339_ms(r.get("received_at_ms")),
                count: r.get("n"),
                event_id: r.get("id"),
            })
            .collect();
        points.reverse();
        Ok(points)
    }

    /// Whether any rule exists (the evaluator does nothing otherwise).
    pub async fn has_rules(&self) -> Result<bool, ApiError> {
        sqlx::query_scalar::<_, i64>("SELECT EXISTS (SELECT 1 FROM rules)")
            .fetch_one(self.pool())
            .await
            .map(|n| n != 0)
            .map_err(|e| db_error(e, self.path()))
    }

    /// Starts the evaluation of the next events past the cursor, in one write transaction.
    pub async fn begin_rule_pass(&self, limit: i64) -> Result<Option<RulePass>, ApiError> {
        let map = |e| db_error(e, self.path());
        let mut tx = self.pool().begin().await.map_err(map)?;
        let cursor = crate::event_cursor::lock(&mut tx, CURSOR)
            .await
            .map_err(map)?;
        let Some(cursor) = cursor else {
            return Ok(None);
        };
        let events = sqlx::query(
            "SELECT id, source_id, action, project_id, status, parsed_json, replay_of FROM events \
             WHERE id > ? ORDER BY id LIMIT ?",
        )
        .bind(cursor)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await
        .map_err(map)?
        .iter()
        .map(|r| RuleEvent {
            id: r.get("id"),
            source_id: r.get("source_id"),
            action: r.get("action"),
            project_id: r.get("project_id"),
            status: r.get("status"),
            parsed_json: r.get("parsed_json"),
            replay_of: r.get("replay_of"),
        })
        .collect::<Vec<_>>();
        if events.is_empty() {
            return Ok(None);
        }
        Ok(Some(RulePass {
            tx,
            events,
            path: self.path().to_path_buf(),
            rules: Default::default(),
            progress: Default::default(),
        }))
    }
}

/// One evaluation pass: read the rules and runs it needs, write progress and runs, move
/// the cursor, commit. Dropping it without `commit` changes nothing.
///
/// It holds the write lock throughout (a run decided here must see the runs before it), so
/// it makes as few statements as it can: each is a round trip to the connection's thread,
/// and the receiver's commits wait for the lock meanwhile (`scripts/bench b9`). The rules
/// are read once per project and pass, and their progress is written once, at the commit.
pub struct RulePass {
    tx: Transaction<'static, Sqlite>,
    pub events: Vec<RuleEvent>,
    path: std::path::PathBuf,
    rules: std::collections::HashMap<(String, i64), Vec<RetrainRule>>,
    /// Per rule, its counter's last value and the multiple it last fired for.
    progress: std::collections::BTreeMap<String, (i64, i64)>,
}

impl RulePass {
    /// The project's rules, with the progress this pass made.
    pub async fn rules_for(
        &mut self,
        source_id: &str,
        project_id: i64,
    ) -> Result<Vec<RetrainRule>, ApiError> {
        let key = (source_id.to_string(), project_id);
        if let Some(rules) = self.rules.get(&key) {
            return Ok(rules.clone());
        }
        let rows =
            sqlx::query("SELECT * FROM rules WHERE source_id = ? AND project_id = ? ORDER BY id")
                .bind(source_id)
                .bind(project_id)
                .fetch_all(&mut *self.tx)
                .await
                .map_err(|e| db_error(e, &self.path))?;
        let rules: Vec<_> = rows.iter().map(rule_from_row).collect();
        self.rules.insert(key, rules.clone());
        Ok(rules)
    }

    /// Keeps a rule's counter and the multiple it last fired for; the pass's next events
    /// see them, and the commit writes them.
    pub fn set_progress(&mut self, rule_id: &str, count: i64, fired_bucket: i64) {
        for rule in self.rules.values_mut().flatten() {
            if rule.id == rule_id {
                rule.count = Some(count);
                rule.fired_bucket = fired_bucket;
            }
        }
        self.progress
            .insert(rule_id.to_string(), (count, fired_bucket));
    }

    /// Whether a run of this rule is running (`RunStatus::is_running`).
    pub async fn has_active_run(&mut self, rule_id: &str) -> Result<bool, ApiError> {
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM runs WHERE rule_id = ? AND status IN {})",
            RunStatus::sql_list(&RunStatus::RUNNING)
        );
        sqlx::query_scalar::<_, i64>(&sql)
            .bind(rule_id)
            .fetch_one(&mut *self.tx)
            .await
            .map(|n| n != 0)
            .map_err(|e| db_error(e, &self.path))
    }

    /// The rule's held follow-up, if any (coalesce keeps at most one).
    pub async fn held_run(&mut self, rule_id: &str) -> Result<Option<i64>, ApiError> {
        sqlx::query_scalar::<_, i64>(
            "SELECT id FROM runs WHERE rule_id = ? AND status = 'held' LIMIT 1",
        )
        .bind(rule_id)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(|e| db_error(e, &self.path))
    }

    /// Folds a newer firing into the held follow-up: it will start with the newest count
    /// and cover every bucket since it was first held.
    pub async fn merge_into_held(&mut self, run_id: i64, run: &NewRun) -> Result<(), ApiError> {
        sqlx::query(
            "UPDATE runs SET event_id = ?, count = ?, bucket_to = ?, params_json = ?, client_token = ?, deadline_at_ms = ? WHERE id = ?",
        )
        .bind(run.event_id)
        .bind(run.count)
        .bind(run.bucket_to)
        .bind(serde_json::to_string(&run.params).unwrap_or_else(|_| "[]".into()))
        .bind(&run.client_token)
        .bind(run.deadline_at_ms)
        .bind(run_id)
        .execute(&mut *self.tx)
        .await
        .map(|_| ())
        .map_err(|e| db_error(e, &self.path))
    }

    pub async fn insert_run(&mut self, run: &NewRun) -> Result<i64, ApiError> {
        let finished = matches!(run.status, RunStatus::WouldStart | RunStatus::Skipped)
            .then_some(run.created_at_ms);
        let id = sqlx::query(
            "INSERT INTO runs (rule_id, pipeline, event_id, count, bucket_from, bucket_to, status, params_json, client_token, \
             created_at_ms, finished_at_ms, deadline_at_ms, next_attempt_at_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
        )
        .bind(&run.rule_id)
        .bind(&run.pipeline)
        .bind(run.event_id)
        .bind(run.count)
        .bind(run.bucket_from)
        .bind(run.bucket_to)
        .bind(run.status.as_str())
        .bind(serde_json::to_string(&run.params).unwrap_or_else(|_| "[]".into()))
        .bind(&run.client_token)
        .bind(run.created_at_ms)
        .bind(finished)
        .bind(run.deadline_at_ms)
        .bind(run.created_at_ms)
        .fetch_one(&mut *self.tx)
        .await
        .map(|r| r.get::<i64, _>(0))
        .map_err(|e| db_error(e, &self.path))?;
        // Decided and written to the outbox in the same transaction as the cursor's move.
        if run.status == RunStatus::Pending {
            crate::outbox::enqueue(
                &mut self.tx,
                &crate::runs::start_item(id, run.created_at_ms, run.deadline_at_ms),
            )
            .await
            .map_err(|e| db_error(e, &self.path))?;
        }
        Ok(id)
    }

    /// Writes the rules' progress, moves the cursor past every event of this pass and commits.
    pub async fn commit(mut self) -> Result<(), ApiError> {
        crate::event_cursor::write_progress(&mut self.tx, "rules", &self.progress)
            .await
            .map_err(|e| db_error(e, &self.path))?;
        let last = self.events.last().map(|e| e.id).unwrap_or(0);
        sqlx::query("UPDATE settings SET value = ? WHERE key = ?")
            .bind(last.to_string())
            .bind(CURSOR)
            .execute(&mut *self.tx)
            .await
            .map_err(|e| db_error(e, &self.path))?;
        let path = self.path.clone();
        self.tx.commit().await.map_err(|e| db_error(e, &path))
    }
}
