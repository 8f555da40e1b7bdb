//! Retrain runs after they are decided: the outbox worker's queue, and what the run monitor
//! learns from SageMaker.

use loopline_core::{rfc3339_ms, ApiError, ErrorCode, Run, RunStatus, RunStep};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use crate::errors::db_error;
use crate::outbox::{NewItem, RETRAIN_START};
use crate::Store;

/// What the worker needs to start a run.
#[derive(Debug, Clone)]
pub struct OutboxRun {
    pub id: i64,
    pub rule_id: String,
    pub pipeline: String,
    pub client_token: String,
    pub params_json: String,
    pub attempts: i64,
    pub deadline_at_ms: i64,
    pub status: RunStatus,
    /// The event that fired it: a dataset version is chosen at or before it.
    pub event_id: i64,
    /// Chosen at the first attempt and kept, so a retry or a takeover starts with the same.
    pub dataset_manifest: Option<String>,
}

/// What the monitor needs to follow a run.
#[derive(Debug, Clone)]
pub struct WatchedRun {
    pub id: i64,
    pub rule_id: String,
    pub execution_arn: String,
    pub polls: i64,
    pub steps_note: Option<String>,
}

fn console_url(arn: &str, region: Option<&str>) -> Option<String> {
    // arn:aws:sagemaker:REGION:ACCOUNT:pipeline/NAME/execution/ID
    let parts: Vec<&str> = arn.split(':').collect();
    let region = region.or(parts.get(3).copied())?;
    let resource = parts.get(5)?;
    let mut it = resource.split('/');
    let (_, name, _, id) = (it.next()?, it.next()?, it.next()?, it.next()?);
    Some(format!(
        "https://{region}.console.aws.amazon.com/sagemaker/home?region={region}#/pipelines/{name}/executions/{id}"
    ))
}

fn run_from_row(r: &SqliteRow) -> Run {
    let arn: Option<String> = r.get("execution_arn");
    let region: Option<String> = r.get("region");
    let status =
        RunStatus::parse(r.get::<String, _>("status").as_str()).unwrap_or(RunStatus::Pending);
    let params = serde_json::from_str(r.get::<String, _>("params_json").as_str());
    let mut error: Option<String> = r.get("error");
    if params.is_err() && error.is_none() {
        error = Some(UNREADABLE_PARAMS.to_string());
    }
    Run {
        id: r.get("id"),
        rule_id: r.get("rule_id"),
        pipeline: r.get("pipeline"),
        event_id: r.get("event_id"),
        count: r.get("count"),
        bucket_from: r.get("bucket_from"),
        bucket_to: r.get("bucket_to"),
        status,
        active: status.is_active(),
        params: params.unwrap_or_default(),
        client_request_token: r.get("client_token"),
        console_url: arn
            .as_deref()
            .and_then(|a| console_url(a, region.as_deref())),
        execution_arn: arn,
        created_at: rfc3339_ms(r.get("created_at_ms")),
        started_at: r.get::<Option<i64>, _>("started_at_ms").map(rfc3339_ms),
        finished_at: r.get::<Option<i64>, _>("finished_at_ms").map(rfc3339_ms),
        attempts: r.get("attempts"),
        error,
        failure_reason: r.get("failure_reason"),
        steps: r
            .get::<Option<String>, _>("steps_json")
            .and_then(|s| serde_json::from_str::<Vec<RunStep>>(&s).ok()),
        steps_note: r.get("steps_note"),
        dataset_manifest: r.get("dataset_manifest"),
        model_package_arn: r.get("model_package_arn"),
    }
}

fn outbox_from_row(r: &SqliteRow) -> OutboxRun {
    OutboxRun {
        id: r.get("id"),
        rule_id: r.get("rule_id"),
        pipeline: r.get("pipeline"),
        client_token: r.get("client_token"),
        params_json: r.get("params_json"),
        attempts: r.get("attempts"),
        deadline_at_ms: r.get("deadline_at_ms"),
        status: RunStatus::parse(r.get::<String, _>("status").as_str())
            .unwrap_or(RunStatus::Pending),
        event_id: r.get("event_id"),
        dataset_manifest: r.get("dataset_manifest"),
    }
}

/// The outbox item that starts run `id`.
pub(crate) fn start_item(id: i64, now_ms: i64, deadline_at_ms: i64) -> NewItem<'static> {
    NewItem {
        kind: RETRAIN_START,
        idempotency_key: format!("run:{id}"),
        subject_id: Some(id),
        payload_json: "{}".into(),
        now_ms,
        deadline_at_ms,
    }
}

/// A run's state after its start was settled in the outbox, in the outbox's transaction: a
/// retry is `pending` again, due at the next attempt, with the reason; a failure is
/// `start_failed`. A start that succeeded wrote its execution already (`run_started`).
pub(crate) async fn settle_start(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    id: i64,
    outcome: &crate::outbox::Settle<'_>,
) -> Result<(), sqlx::Error> {
    use crate::outbox::Settle;
    match *outcome {
        Settle::Done { .. } => Ok(()),
        Settle::RetryAt { next_at_ms, error } => sqlx::query(
            "UPDATE runs SET status = 'pending', next_attempt_at_ms = ?, error = ? WHERE id = ? AND execution_arn IS NULL",
        )
        .bind(next_at_ms)
        .bind(error)
        .bind(id)
        .execute(&mut **tx)
        .await
        .map(|_| ()),
        Settle::Failed { now_ms, error } => sqlx::query(
            "UPDATE runs SET status = 'start_failed', error = ?, finished_at_ms = ? WHERE id = ? AND execution_arn IS NULL",
        )
        .bind(error)
        .bind(now_ms)
        .bind(id)
        .execute(&mut **tx)
        .await
        .map(|_| ()),
    }
}

/// Shown on a run whose stored parameters cannot be read: it is never started with others.
pub const UNREADABLE_PARAMS: &str = "This run's stored pipeline parameters cannot be read, so it was not started (starting it with other parameters than its rule says would train the wrong thing). Remove the rule and add it again with `loopline rule add`.";

impl Store {
    pub async fn list_runs(&self, limit: i64) -> Result<Vec<Run>, ApiError> {
        Ok(sqlx::query("SELECT * FROM runs ORDER BY id DESC LIMIT ?")
            .bind(limit)
            .fetch_all(self.pool())
            .await
            .map_err(|e| db_error(e, self.path()))?
            .iter()
            .map(run_from_row)
            .collect())
    }

    pub async fn runs_of_rule(&self, rule_id: &str, limit: i64) -> Result<Vec<Run>, ApiError> {
        Ok(
            sqlx::query("SELECT * FROM runs WHERE rule_id = ? ORDER BY id DESC LIMIT ?")
                .bind(rule_id)
                .bind(limit)
                .fetch_all(self.pool())
                .await
                .map_err(|e| db_error(e, self.path()))?
                .iter()
                .map(run_from_row)
                .collect(),
        )
    }

    pub async fn run(&self, id: i64) -> Result<Run, ApiError> {
        sqlx::query("SELECT * FROM runs WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| db_error(e, self.path()))?
            .map(|r| run_from_row(&r))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    format!("No run {id}. `loopline runs list` shows the runs there are."),
                )
            })
    }

    /// What the outbox worker needs to start run `id`.
    pub async fn run_for_start(&self, id: i64) -> Result<OutboxRun, ApiError> {
        sqlx::query("SELECT * FROM runs WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| db_error(e, self.path()))?
            .map(|r| outbox_from_row(&r))
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("No run {id} to start.")))
    }

    /// The start is being attempted (its outbox item is claimed): shown as `starting`.
    pub async fn run_starting(&self, id: i64, attempts: i64) -> Result<(), ApiError> {
        sqlx::query("UPDATE runs SET status = 'starting', attempts = ? WHERE id = ? AND status IN ('pending','starting')")
            .bind(attempts)
            .bind(id)
            .execute(self.pool())
            .await
            .map(|_| ())
            .map_err(|e| db_error(e, self.path()))
    }

    /// Runs that are decided and not yet ended (`RunStatus::is_active`), id and status only:
    /// what the engine compares to announce the runs that ended.
    pub async fn active_run_statuses(&self) -> Result<Vec<(i64, RunStatus)>, ApiError> {
        let mut active = RunStatus::RUNNING.to_vec();
        active.push(RunStatus::Held);
        let sql = format!(
            "SELECT id, status FROM runs WHERE status IN {} ORDER BY id",
            RunStatus::sql_list(&active)
        );
        Ok(sqlx::query(&sql)
            .fetch_all(self.pool())
            .await
            .map_err(|e| db_error(e, self.path()))?
            .iter()
            .filter_map(|r| {
                Some((
                    r.get::<i64, _>("id"),
                    RunStatus::parse(r.get::<String, _>("status").as_str())?,
                ))
            })
            .collect())
    }

    pub async fn run_started(
        &self,
        id: i64,
        arn: &str,
        region: &str,
        now_ms: i64,
    ) -> Result<(), ApiError> {
        sqlx::query(
            "UPDATE runs SET status = 'executing', execution_arn = ?, region = ?, started_at_ms = ?, error = NULL, next_poll_at_ms = ? WHERE id = ?",
        )
        .bind(arn)
        .bind(region)
        .bind(now_ms)
        .bind(now_ms)
        .bind(id)
        .execute(self.pool())
        .await
        .map(|_| ())
        .map_err(|e| db_error(e, self.path()))
    }

    /// "Retry now" for a run whose start failed: pending again, with a fresh time limit.
    ///
    /// One conditional statement decides and writes: reading the status first and updating
    /// after raced the worker, which could start the run in between; the run then went back to
    /// `pending` with its ARN set and its outbox item done, and stayed there for good.
    pub async fn retry_run(&self, id: i64, now_ms: i64, deadline_ms: i64) -> Result<Run, ApiError> {
        let map = |e| db_error(e, self.path());
        let mut tx = self.pool().begin().await.map_err(map)?;
        let reset = sqlx::query(
            "UPDATE runs SET status = 'pending', next_attempt_at_ms = ?, deadline_at_ms = ?, finished_at_ms = NULL \
             WHERE id = ? AND status IN ('start_failed', 'pending') AND execution_arn IS NULL",
        )
        .bind(now_ms)
        .bind(deadline_ms)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(map)?
        .rows_affected();
        if reset == 0 {
            drop(tx);
            let run = self.run(id).await?;
            return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                format!("Run {id} is {}; only a run whose start failed (or is waiting to retry) can be retried.", run.status.as_str()),
            ));
        }
        crate::outbox::enqueue(&mut tx, &start_item(id, now_ms, deadline_ms))
            .await
            .map_err(map)?;
        tx.commit().await.map_err(map)?;
        self.run(id).await
    }

    /// Executions the monitor should poll now.
    pub async fn watched_runs(&self, now_ms: i64) -> Result<Vec<WatchedRun>, ApiError> {
        Ok(sqlx::query(
            "SELECT id, rule_id, execution_arn, polls, steps_note FROM runs \
             WHERE status IN ('executing','stopping') AND execution_arn IS NOT NULL AND next_poll_at_ms <= ? ORDER BY id",
        )
        .bind(now_ms)
        .fetch_all(self.pool())
        .await
        .map_err(|e| db_error(e, self.path()))?
        .iter()
        .map(|r| WatchedRun {
            id: r.get("id"),
            rule_id: r.get("rule_id"),
            execution_arn: r.get("execution_arn"),
            polls: r.get("polls"),
            steps_note: r.get("steps_note"),
        })
        .collect())
    }

    /// A poll that got no answer: the status stays, the next poll is later.
    pub async fn run_polled_failed(
        &self,
        id: i64,
        next_poll_at_ms: i64,
        error: &str,
    ) -> Result<(), ApiError> {
        sqlx::query(
            "UPDATE runs SET next_poll_at_ms = ?, polls = polls + 1, error = ? WHERE id = ?",
        )
        .bind(next_poll_at_ms)
        .bind(format!("Could not read the run's status: {error}"))
        .bind(id)
        .execute(self.pool())
        .await
        .map(|_| ())
        .map_err(|e| db_error(e, self.path()))
    }

    /// Ties the model version a run registered to the run. Returns whether anything changed.
    pub async fn set_run_model_package(&self, id: i64, arn: &str) -> Result<bool, ApiError> {
        let done = sqlx::query(
            "UPDATE runs SET model_package_arn = ? WHERE id = ? AND model_package_arn IS NOT ?",
        )
        .bind(arn)
        .bind(id)
        .bind(arn)
        .execute(self.pool())
        .await
        .map_err(|e| db_error(e, self.path()))?;
        Ok(done.rows_affected() > 0)
    }

    /// The run that started `execution_arn`, if Loopline started it.
    pub async fn run_of_execution(&self, execution_arn: &str) -> Result<Option<Run>, ApiError> {
        sqlx::query("SELECT * FROM runs WHERE execution_arn = ? ORDER BY id DESC LIMIT 1")
            .bind(execution_arn)
            .fetch_optional(self.pool())
            .await
            .map(|r| r.as_ref().map(run_from_row))
            .map_err(|e| db_error(e, self.path()))
    }

    /// Records what DescribePipelineExecution (and the steps listing) said. When the run
    /// has ended, the rule's held follow-up (coalesce) becomes due in the same transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn run_polled(
        &self,
        id: i64,
        status: RunStatus,
        failure_reason: Option<&str>,
        steps: Option<&[RunStep]>,
        steps_note: Option<&str>,
        next_poll_at_ms: i64,
        now_ms: i64,
    ) -> Result<(), ApiError> {
        let map = |e| db_error(e, self.path());
        let mut tx = self.pool().begin().await.map_err(map)?;
        let ended = !status.is_active();
        sqlx::query(
            "UPDATE runs SET status = ?, failure_reason = COALESCE(?, failure_reason), error = NULL, \
             steps_json = COALESCE(?, steps_json), steps_note = ?, next_poll_at_ms = ?, polls = polls + 1, \
             finished_at_ms = CASE WHEN ? THEN ? ELSE finished_at_ms END WHERE id = ?",
        )
        .bind(status.as_str())
        .bind(failure_reason.filter(|r| !r.is_empty()))
        .bind(steps.map(|s| serde_json::to_string(s).unwrap_or_default()))
        .bind(steps_note)
        .bind(next_poll_at_ms)
        .bind(ended)
        .bind(now_ms)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        if ended {
            // The rule's held follow-up starts now, with a fresh time limit as long as the
            // one it was decided with, unless another run of the rule is still running.
            let release = format!(
                "SELECT id, deadline_at_ms - created_at_ms FROM runs WHERE status = 'held' AND rule_id = \
                 (SELECT rule_id FROM runs WHERE id = ?) AND NOT EXISTS (SELECT 1 FROM runs r2 WHERE r2.rule_id = runs.rule_id \
                 AND r2.id != ? AND r2.status IN {})",
                RunStatus::sql_list(&RunStatus::RUNNING)
            );
            let held: Vec<(i64, i64)> = sqlx::query_as(&release)
                .bind(id)
                .bind(id)
                .fetch_all(&mut *tx)
                .await
                .map_err(map)?;
            for (held_id, limit_ms) in held {
                let deadline = now_ms + limit_ms.max(10_000);
                sqlx::query("UPDATE runs SET status = 'pending', next_attempt_at_ms = ?, deadline_at_ms = ? WHERE id = ?")
                    .bind(now_ms)
                    .bind(deadline)
                    .bind(held_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map)?;
                crate::outbox::enqueue(&mut tx, &start_item(held_id, now_ms, deadline))
                    .await
                    .map_err(map)?;
            }
        }
        tx.commit().await.map_err(map)
    }
}

#[cfg(test)]
mod tests {
    use super::{console_url, start_item};
    use crate::{Store, StoreOptions};
    use loopline_core::RunStatus;

    async fn pending_run(store: &Store, now_ms: i64) -> i64 {
        let mut tx = store.pool().begin().await.unwrap();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO runs (rule_id, pipeline, event_id, count, bucket_from, bucket_to, status, params_json, \
             client_token, created_at_ms, deadline_at_ms) VALUES ('r', 'p', 1, 2, 0, 1, 'pending', '[]', 't', ?, ?) RETURNING id",
        )
        .bind(now_ms)
        .bind(now_ms + 60_000)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        crate::outbox::enqueue(&mut tx, &start_item(id, now_ms, now_ms + 60_000))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        id
    }

    /// "Retry now" pressed while the worker starts the same run: whatever the interleaving, a
    /// run that has an execution is never sent back to `pending` (where nothing would ever
    /// start or watch it again, and a coalesce or skip rule would wait on it for good).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn retry_now_racing_the_start_never_strands_a_started_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = Store::open(&path, &StoreOptions::default()).await.unwrap();
        for round in 0..60 {
            let now = 1_000 + round * 10;
            let id = pending_run(&store, now).await;
            let item = store.due_outbox(now, &[]).await.unwrap()[0];
            store
                .claim_outbox(item, "w", now, 10_000, &[])
                .await
                .unwrap()
                .unwrap();
            let worker = {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .run_started(
                            id,
                            "arn:aws:sagemaker:us-east-1:1:pipeline/p/execution/e",
                            "us-east-1",
                            now,
                        )
                        .await
                        .unwrap();
                    store
                        .settle_outbox(item, "w", &crate::Settle::Done { now_ms: now }, None)
                        .await
                        .unwrap();
                })
            };
            let _ = store.retry_run(id, now, now + 60_000).await;
            worker.await.unwrap();
            let run = store.run(id).await.unwrap();
            assert!(
                !(run.status == RunStatus::Pending && run.execution_arn.is_some()),
                "round {round}: run {id} is pending with an execution, and nothing will move it"
            );
            assert_eq!(run.status, RunStatus::Executing, "round {round}");
        }
    }

    #[test]
    fn console_links_point_at_the_execution() {
        assert_eq!(
            console_url("arn:aws:sagemaker:eu-west-1:123456789012:pipeline/train/execution/abc123", None).as_deref(),
            Some("https://eu-west-1.console.aws.amazon.com/sagemaker/home?region=eu-west-1#/pipelines/train/executions/abc123")
        );
        assert_eq!(console_url("not an arn", None), None);
    }
}
