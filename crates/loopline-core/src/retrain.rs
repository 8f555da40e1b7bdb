use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Which Label Studio counter a retrain rule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Counter {
    /// `project.useful_annotation_number`: skipped annotations do not count.
    Useful,
    /// `project.total_annotations_number`.
    Total,
}

/// What a rule does when it fires while one of its runs is still executing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Overlap {
    /// Hold one follow-up and start it when the running one ends.
    Coalesce,
    Parallel,
    Skip,
}

/// One pipeline parameter: a fixed value, or a value taken from the event. A value
/// `{count}` (or `{useful_annotation_number}`, `{total_annotations_number}`,
/// `{project_id}`, `{event_id}`, `{bucket}`) is filled in when the run is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PipelineParam {
    pub name: String,
    pub value: String,
}

/// What adding a retrain rule asks for: the one shape the app, the CLI, the engine and the
/// store all take (`rule_add`, `loopline rule add retrain`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RuleRequest {
    pub source_id: String,
    pub project_id: i64,
    pub every: i64,
    /// A pipeline name or ARN.
    pub pipeline: String,
    pub params: Vec<PipelineParam>,
    pub counter: Counter,
    pub overlap: Overlap,
    pub dry_run: bool,
    pub start_time_limit_secs: i64,
    /// The project's counter now, given by the user when Label Studio cannot be asked. With
    /// it, Label Studio is not asked.
    #[serde(default)]
    pub start_count: Option<i64>,
    /// Its name as an automation (`automation add --do start-pipeline --name N`).
    #[serde(default)]
    #[ts(optional)]
    pub name: Option<String>,
    /// A dataset-version automation: each run trains on its newest version made at or
    /// before the run's trigger, passed as the `DatasetManifest` parameter.
    #[serde(default)]
    #[ts(optional)]
    pub dataset_automation: Option<String>,
    /// Add it even when another Loopline receives the project's annotations (and would
    /// start its own runs): the user was told and said so (`--even-if-shared`).
    #[serde(default)]
    #[ts(optional)]
    pub even_if_shared: Option<bool>,
}

/// "Every N useful annotations on project P from source S, start pipeline X."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RetrainRule {
    pub id: String,
    pub source_id: String,
    pub project_id: i64,
    pub every: i64,
    /// A pipeline name or ARN.
    pub pipeline: String,
    pub params: Vec<PipelineParam>,
    pub counter: Counter,
    pub overlap: Overlap,
    /// Evaluate and record "would start" without calling AWS.
    pub dry_run: bool,
    /// How long the start may keep being retried before it is shown as failed.
    pub start_time_limit_secs: i64,
    pub created_at: String,
    /// The counter's last value seen, when any event carried it.
    pub count: Option<i64>,
    /// The highest multiple of `every` already fired for (count / every).
    pub fired_bucket: i64,
    /// "12 of 16 useful annotations toward the next retrain (at 16)".
    pub progress: String,
    /// Set when a stored value of this rule cannot be read (its counter, overlap policy or
    /// parameters): the rule then never fires, and this says why and what to do.
    pub error: Option<String>,
    /// Its name as a start-a-pipeline automation; `None` for a rule added without one.
    pub name: Option<String>,
    /// Paused: the count moves on, nothing fires for what it passes meanwhile.
    pub paused: bool,
    /// The dataset-version automation whose versions the runs train on (`DatasetManifest`).
    pub dataset_automation: Option<String>,
}

impl RetrainRule {
    /// "12 of 16 useful annotations toward the next retrain".
    pub fn progress_sentence(&self) -> String {
        let noun = match self.counter {
            Counter::Useful => "useful annotations",
            Counter::Total => "annotations",
        };
        match self.count {
            Some(c) => {
                let next = (self.fired_bucket.max(c / self.every) + 1) * self.every;
                let into = self.every - (next - c).clamp(0, self.every);
                format!(
                    "{into} of {} {noun} toward the next retrain (at {next})",
                    self.every
                )
            }
            None => format!(
                "waiting for the first annotation event (every {} {noun})",
                self.every
            ),
        }
    }
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Decided; waiting for the worker to call AWS.
    Pending,
    /// A coalesced follow-up, waiting for the rule's running execution to end.
    Held,
    /// The call to AWS is in flight (or its outcome is being reconciled after a restart).
    Starting,
    /// Dry run: recorded, AWS not called.
    WouldStart,
    /// Fired while another run executed, under the "skip" policy.
    Skipped,
    /// Starting failed for good (or past its time limit); see `error`.
    StartFailed,
    Executing,
    Stopping,
    Stopped,
    Succeeded,
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Pending => "pending",
            RunStatus::Held => "held",
            RunStatus::Starting => "starting",
            RunStatus::WouldStart => "would_start",
            RunStatus::Skipped => "skipped",
            RunStatus::StartFailed => "start_failed",
            RunStatus::Executing => "executing",
            RunStatus::Stopping => "stopping",
            RunStatus::Stopped => "stopped",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        Some(match s {
            "pending" => RunStatus::Pending,
            "held" => RunStatus::Held,
            "starting" => RunStatus::Starting,
            "would_start" => RunStatus::WouldStart,
            "skipped" => RunStatus::Skipped,
            "start_failed" => RunStatus::StartFailed,
            "executing" => RunStatus::Executing,
            "stopping" => RunStatus::Stopping,
            "stopped" => RunStatus::Stopped,
            "succeeded" => RunStatus::Succeeded,
            "failed" => RunStatus::Failed,
            _ => return None,
        })
    }

    /// The one definition of an active run, used by the engine, the store's queries, the
    /// shell's notifications and the UI (through `Run::active`): decided and not yet ended.
    /// A held follow-up is active: it will start when the rule's running one ends.
    pub fn is_active(self) -> bool {
        self == RunStatus::Held || self.is_running()
    }

    /// Active and not held: it has, or is about to have, an execution in SageMaker. This is
    /// what the overlap policy and the release of a held follow-up look at.
    pub fn is_running(self) -> bool {
        RunStatus::RUNNING.contains(&self)
    }

    pub const RUNNING: [RunStatus; 4] = [
        RunStatus::Pending,
        RunStatus::Starting,
        RunStatus::Executing,
        RunStatus::Stopping,
    ];

    /// `('pending','starting',…)`, for the store's queries, so SQL never spells the list.
    pub fn sql_list(statuses: &[RunStatus]) -> String {
        let quoted: Vec<String> = statuses
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        format!("({})", quoted.join(","))
    }
}

/// One step of a pipeline execution, from ListPipelineExecutionSteps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RunStep {
    pub name: String,
    pub status: String,
    pub failure_reason: Option<String>,
    /// The RegisterModel step's model package (its `Metadata.RegisterModel.Arn`).
    #[serde(default)]
    pub model_package_arn: Option<String>,
}

/// One retrain run: why it fired, what it asked SageMaker for, and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Run {
    pub id: i64,
    pub rule_id: String,
    pub pipeline: String,
    /// The event whose count fired the rule, and that count.
    pub event_id: i64,
    pub count: i64,
    /// The multiples of `every` this run covers (a bulk jump covers several).
    pub bucket_from: i64,
    pub bucket_to: i64,
    pub status: RunStatus,
    /// `status.is_active()`, sent along so the UI never keeps its own list of statuses.
    pub active: bool,
    pub params: Vec<PipelineParam>,
    pub client_request_token: String,
    pub execution_arn: Option<String>,
    pub console_url: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub attempts: i64,
    /// Why starting failed, or the last retried error while it keeps trying.
    pub error: Option<String>,
    pub failure_reason: Option<String>,
    /// `None`: steps not read yet, or not available from this endpoint (see `steps_note`).
    pub steps: Option<Vec<RunStep>>,
    pub steps_note: Option<String>,
    /// The dataset version the run trains on (`s3://B/datasets/<automation>/v<n>/manifest.json`),
    /// chosen when it started; `None` when its rule names no dataset-version automation.
    pub dataset_manifest: Option<String>,
    /// The model version this run registered, once known: from the RegisterModel step, or
    /// found in the pipeline's model package group by the execution's ARN.
    pub model_package_arn: Option<String>,
}

/// What registering Loopline's webhook on a Label Studio project did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct HookRegistration {
    pub webhook_id: i64,
    pub url: String,
    /// "created", "updated", "reactivated" or "unchanged".
    pub change: String,
}

/// What Loopline does when it finds its webhook deleted in Label Studio (someone removed it
/// in Label Studio's settings): register it again, or leave it deleted and say so. Some teams
/// delete a webhook on purpose to pause deliveries; the user chooses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DeletedHookPolicy {
    #[default]
    Recreate,
    Report,
}

impl DeletedHookPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            DeletedHookPolicy::Recreate => "recreate",
            DeletedHookPolicy::Report => "report",
        }
    }

    pub fn parse(s: &str) -> Option<DeletedHookPolicy> {
        match s {
            "recreate" => Some(DeletedHookPolicy::Recreate),
            "report" => Some(DeletedHookPolicy::Report),
            _ => None,
        }
    }
}

/// The counter's value when an event carried it, for the chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CountPoint {
    pub at: String,
    pub count: i64,
    pub event_id: i64,
}

/// A rule's counter over time and the runs it started: the chart's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RuleHistory {
    pub rule: RetrainRule,
    pub points: Vec<CountPoint>,
    pub runs: Vec<Run>,
}
