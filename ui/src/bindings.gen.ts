// Generated from the Rust types in crates/loopline-core by `scripts/gen-bindings`.
// Do not edit by hand: a test fails when this file drifts from the Rust source.

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;

export type ErrorCode = "db_newer_schema" | "db_corrupt" | "db_locked" | "db_open_failed" | "db_migration_failed" | "db_error" | "db_in_use" | "no_backup" | "data_dir_unavailable" | "port_in_use" | "listen_not_loopback" | "listen_invalid" | "engine_unavailable" | "source_not_found" | "unauthorized" | "payload_too_large" | "unsupported_media_type" | "malformed_json" | "malformed_body" | "rate_limited" | "store_unavailable" | "secret_unavailable" | "keychain_unavailable" | "event_not_found" | "ls_unauthorized" | "ls_legacy_tokens_disabled" | "ls_unavailable" | "aws_invalid_key" | "aws_invalid_secret" | "aws_expired" | "aws_clock_skew" | "aws_bad_region" | "aws_no_region" | "aws_no_credentials" | "aws_profile_missing" | "aws_access_denied" | "aws_throttled" | "aws_unavailable" | "aws_tls" | "aws_error" | "not_connected" | "start_count_unknown" | "invalid_argument" | "not_found" | "name_taken" | "cancelled" | "already_running" | "timed_out" | "no_quota" | "no_model_group" | "ls_address_refused" | "ls_storage_failed" | "tunnel_not_configured" | "tunnel_start_failed" | "tunnel_unreachable" | "tunnel_rate_limited" | "tunnel_unauthorized" | "target_rejected" | "target_unavailable" | "autostart_failed" | "shared_project" | "internal";

export type ApiError = { code: ErrorCode, message: string, };

export type ReceiverState = "stopped" | "starting" | "running" | "failed";

export type ReceiverStatus = { state: ReceiverState, 
/**
 * The address asked for, or bound once running (e.g. `127.0.0.1:8787`).
 */
listen: string, 
/**
 * Why the receiver is not running, when `state` is `failed`.
 */
error: ApiError | null, 
/**
 * A free address to offer the user when the asked-for port was taken.
 */
suggested_listen: string | null, };

export type Health = { version: string, 
/**
 * `ok` when the store answers a query, else `unavailable`.
 */
db: string, };

export type TaskState = "running" | "restarting" | "stopped";

export type TaskStatus = { name: string, state: TaskState, restarts: number, 
/**
 * What the last panic said, if it ever panicked.
 */
last_panic: string | null, };

export type ProcessStatus = { worker_id: string, 
/**
 * `app` or `serve`.
 */
kind: string, pid: number, started_at: string, heartbeat_at: string, tasks: Array<TaskStatus>, 
/**
 * Catch-ups this process finished (each start, wake or tunnel return runs one), so a
 * test or script can wait for the one after a start instead of sleeping.
 */
catch_ups: number, };

export type Quiescence = { rules_caught_up: boolean, outbox_idle: boolean, 
/**
 * Both of the above.
 */
quiescent: boolean, newest_event_id: number | null, rules_cursor: number | null, 
/**
 * Outbox items due now or in flight.
 */
outbox_due: number, };

export type AppInfo = { version: string, 
/**
 * The git commit the binary was built from (`git rev-parse --short HEAD`), or `unknown`.
 */
commit: string, data_dir: string, db_path: string, schema_version: number, db_size_bytes: number, activity: Quiescence, 
/**
 * Processes whose background work runs on this data directory now (heartbeat fresh).
 */
processes: Array<ProcessStatus>, 
/**
 * The folder the app and `loopline serve` write their rotating logs to.
 */
log_dir: string, 
/**
 * The log file this process writes, when it writes one (the app and `serve` do; the
 * CLI's one-shot commands log to stderr only).
 */
log_file: string | null, };

export type Diagnostics = { 
/**
 * The redacted report, ready to paste into a bug report.
 */
report: string, 
/**
 * How many secret values were masked in it.
 */
masked: number, };

export type CompanionLevel = "ok" | "attention" | "working";

export type CompanionStatus = { level: CompanionLevel, 
/**
 * One line for the tooltip: "Loopline: receiving", "Loopline needs attention: …".
 */
headline: string, 
/**
 * Everything that needs attention, or is in progress, one sentence each.
 */
reasons: Array<string>, 
/**
 * The public base URL the tunnel gives, when there is one.
 */
public_url: string | null, 
/**
 * "Tunnel: reachable (bore)", "Tunnel: not configured".
 */
tunnel: string, 
/**
 * "Next retrain: 12 of 16 (train)"; `None` without a rule.
 */
next_retrain: string | null, 
/**
 * "Last event: ANNOTATION_CREATED from Birds at 10:42"; `None` before the first.
 */
last_event: string | null, 
/**
 * When the newest event arrived (ms since the epoch), for "n minutes ago".
 */
last_event_at_ms: number | null, };

export type CloseAction = "keep_receiving" | "quit";

export type NotificationPrefs = { run_ended: boolean, aquarium_issue: boolean, 
/**
 * Label Studio turned Loopline's webhook off, or it was deleted.
 */
webhook_off: boolean, 
/**
 * The tunnel has been down for more than a minute.
 */
tunnel_down: boolean, loop_check_failed: boolean, 
/**
 * A catch-up found annotations whose webhooks never arrived.
 */
catch_up: boolean, 
/**
 * A notify automation with --desktop fired.
 */
automation: boolean, };

export type NoticeKind = "run_ended" | "aquarium_issue" | "webhook_off" | "tunnel_down" | "loop_check_failed" | "catch_up" | "automation";

export type CompanionPrefs = { on_close: CloseAction, notify: NotificationPrefs, 
/**
 * Whether the first close has already said that Loopline keeps receiving.
 */
close_noticed: boolean, };

export type Notice = { kind: NoticeKind, title: string, body: string, };

export type AutostartStatus = { enabled: boolean, 
/**
 * Where the login entry lives (on Linux, a `.desktop` file under
 * `$XDG_CONFIG_HOME/autostart`).
 */
entry: string | null, 
/**
 * What the entry starts: the app with `--hidden`.
 */
command: string | null, };

export type QuitPlan = { 
/**
 * One phrase per kind of unfinished work: "1 retrain start", "2 exports".
 */
resumes: Array<string>, 
/**
 * The sentence to show: "Quitting. 1 retrain start resumes when Loopline starts again."
 */
message: string, };

export type DbBackup = { path: string, 
/**
 * When it was taken, RFC 3339 in UTC: everything received after it is not in it.
 */
taken_at: string, taken_at_ms: number, size_bytes: number, 
/**
 * It passed SQLite's `quick_check` when last checked.
 */
good: boolean, };

export type DbCheck = { db_path: string, 
/**
 * The file exists (a new data directory has none yet).
 */
exists: boolean, 
/**
 * No problem found.
 */
ok: boolean, 
/**
 * SQLite's own words for each problem (the first few).
 */
problems: Array<string>, 
/**
 * Newest first; `good` says which could be restored.
 */
backups: Array<DbBackup>, };

export type DbRestore = { db_path: string, 
/**
 * The backup now in place. What arrived after its `taken_at` is not in the database.
 */
restored_from: DbBackup, 
/**
 * Where the replaced files went (never deleted): the database and its write-ahead log.
 */
moved_aside: Array<string>, 
/**
 * A copy of the replaced database, when it could still be read whole.
 */
safety_backup: DbBackup | null, };

export type SourceKind = "label-studio" | "aquarium" | "generic";

export type Source = { id: string, kind: SourceKind, name: string, 
/**
 * `/hooks/{id}`: append it to the receiver's (or the tunnel's) base URL.
 */
hook_path: string, header_name: string, created_at: string, 
/**
 * While a rotation's grace period runs, the previous secret is accepted until then.
 */
previous_secret_valid_until: string | null, event_count: number, last_event_at: string | null, };

export type CreatedSource = { id: string, kind: SourceKind, name: string, hook_path: string, 
/**
 * The full local URL, e.g. `http://127.0.0.1:8787/hooks/src_…`.
 */
hook_url: string, header_name: string, 
/**
 * The new token or signing secret; `null` for Aquarium, whose secret the user supplied.
 */
token: string | null, };

export type EventKind = "label-studio" | "aquarium" | "generic" | "unknown";

export type EventStatus = "processed" | "duplicate" | "malformed" | "rejected";

export type EventSummary = { id: number, source_id: string, 
/**
 * The source's name, when the source still exists.
 */
source_name: string | null, kind: EventKind, action: string | null, project_id: number | null, project_name: string | null, 
/**
 * One line in words: "Annotation 12 created on task 7 in 'Bird parts'".
 */
summary: string, status: EventStatus, 
/**
 * RFC 3339, UTC, milliseconds.
 */
received_at: string, received_at_ms: number, duplicate_of: number | null, 
/**
 * The event this one replays with an edited body, if any.
 */
replay_of: number | null, body_bytes: number, };

export type Header = { name: string, value: string, };

export type EventDetail = { event: EventSummary, remote_addr: string | null, headers: Array<Header>, 
/**
 * The body as JSON with secret fields masked; `null` when it is not JSON.
 */
body_json: JsonValue | null, 
/**
 * The raw body as text (masked the same way when it is JSON); lossy for non-UTF-8.
 */
body_text: string, 
/**
 * True when a malformed body was stored only up to the cap.
 */
body_truncated: boolean, 
/**
 * JSON paths that were masked, e.g. `project.token`.
 */
redacted_paths: Array<string>, 
/**
 * Ids the parser found, for linking and search.
 */
annotation_ids: Array<number>, task_ids: Array<number>, 
/**
 * A `curl` command that re-sends this event to the receiver (secrets as placeholders).
 */
curl: string, 
/**
 * How many times this event was replayed.
 */
replay_count: number, };

export type EventQuery = { source_id: string | null, action: string | null, status: EventStatus | null, project_id: number | null, 
/**
 * Full-text search over payloads.
 */
search: string | null, 
/**
 * Keyset paging: only events older than this id.
 */
before_id: number | null, 
/**
 * Only events newer than this id (for live updates).
 */
after_id: number | null, limit: number | null, };

export type EventPage = { events: Array<EventSummary>, 
/**
 * Pass as `before_id` for the next (older) page; `null` at the end.
 */
next_before_id: number | null, };

export type ReplayOutcome = { 
/**
 * The event that was processed: the original, or the new one for an edited replay.
 */
event_id: number, message: string, };

export type RetentionPolicy = { max_days: number | null, max_events: number | null, };

export type TimelineStats = { total_events: number, newest_id: number | null, db_size_bytes: number, retention: RetentionPolicy, };

export type TimelineChanged = { newest_id: number | null, 
/**
 * Bumps on deletes, replays and retention, so an open list knows to refetch.
 */
revision: number, };

export type SecretInfo = { name: string, 
/**
 * `…abcd`, only for values of 12 characters or more.
 */
hint: string | null, 
/**
 * "keychain" or "environment".
 */
store: string, };

export type TokenKind = "legacy" | "personal_access_token";

export type LabelStudioIdentity = { url: string, email: string, username: string | null, version: string | null, token_kind: TokenKind, };

export type AwsMode = "keys" | "profile" | "default_chain";

export type AwsSettings = { mode: AwsMode, region: string | null, profile: string | null, 
/**
 * `…ABCD`, the last 4 characters of the access key id (keys mode only).
 */
access_key_hint: string | null, has_session_token: boolean, };

export type AwsIdentity = { account: string, arn: string, user_id: string, region: string, mode: AwsMode, profile: string | null, };

export type Counter = "useful" | "total";

export type Overlap = "coalesce" | "parallel" | "skip";

export type PipelineParam = { name: string, value: string, };

export type RetrainRule = { id: string, source_id: string, project_id: number, every: number, 
/**
 * A pipeline name or ARN.
 */
pipeline: string, params: Array<PipelineParam>, counter: Counter, overlap: Overlap, 
/**
 * Evaluate and record "would start" without calling AWS.
 */
dry_run: boolean, 
/**
 * How long the start may keep being retried before it is shown as failed.
 */
start_time_limit_secs: number, created_at: string, 
/**
 * The counter's last value seen, when any event carried it.
 */
count: number | null, 
/**
 * The highest multiple of `every` already fired for (count / every).
 */
fired_bucket: number, 
/**
 * "12 of 16 useful annotations toward the next retrain (at 16)".
 */
progress: string, 
/**
 * Set when a stored value of this rule cannot be read (its counter, overlap policy or
 * parameters): the rule then never fires, and this says why and what to do.
 */
error: string | null, 
/**
 * Its name as a start-a-pipeline automation; `None` for a rule added without one.
 */
name: string | null, 
/**
 * Paused: the count moves on, nothing fires for what it passes meanwhile.
 */
paused: boolean, 
/**
 * The dataset-version automation whose versions the runs train on (`DatasetManifest`).
 */
dataset_automation: string | null, };

export type RuleRequest = { source_id: string, project_id: number, every: number, 
/**
 * A pipeline name or ARN.
 */
pipeline: string, params: Array<PipelineParam>, counter: Counter, overlap: Overlap, dry_run: boolean, start_time_limit_secs: number, 
/**
 * The project's counter now, given by the user when Label Studio cannot be asked. With
 * it, Label Studio is not asked.
 */
start_count: number | null, 
/**
 * Its name as an automation (`automation add --do start-pipeline --name N`).
 */
name?: string, 
/**
 * A dataset-version automation: each run trains on its newest version made at or
 * before the run's trigger, passed as the `DatasetManifest` parameter.
 */
dataset_automation?: string, 
/**
 * Add it even when another Loopline receives the project's annotations (and would
 * start its own runs): the user was told and said so (`--even-if-shared`).
 */
even_if_shared?: boolean, };

export type RunStatus = "pending" | "held" | "starting" | "would_start" | "skipped" | "start_failed" | "executing" | "stopping" | "stopped" | "succeeded" | "failed";

export type RunStep = { name: string, status: string, failure_reason: string | null, 
/**
 * The RegisterModel step's model package (its `Metadata.RegisterModel.Arn`).
 */
model_package_arn: string | null, };

export type Run = { id: number, rule_id: string, pipeline: string, 
/**
 * The event whose count fired the rule, and that count.
 */
event_id: number, count: number, 
/**
 * The multiples of `every` this run covers (a bulk jump covers several).
 */
bucket_from: number, bucket_to: number, status: RunStatus, 
/**
 * `status.is_active()`, sent along so the UI never keeps its own list of statuses.
 */
active: boolean, params: Array<PipelineParam>, client_request_token: string, execution_arn: string | null, console_url: string | null, created_at: string, started_at: string | null, finished_at: string | null, attempts: number, 
/**
 * Why starting failed, or the last retried error while it keeps trying.
 */
error: string | null, failure_reason: string | null, 
/**
 * `None`: steps not read yet, or not available from this endpoint (see `steps_note`).
 */
steps: Array<RunStep> | null, steps_note: string | null, 
/**
 * The dataset version the run trains on (`s3://B/datasets/<automation>/v<n>/manifest.json`),
 * chosen when it started; `None` when its rule names no dataset-version automation.
 */
dataset_manifest: string | null, 
/**
 * The model version this run registered, once known: from the RegisterModel step, or
 * found in the pipeline's model package group by the execution's ARN.
 */
model_package_arn: string | null, };

export type CatchUpTrigger = "start" | "wake" | "tunnel_back" | "asked";

export type CatchUp = { source_id: string, 
/**
 * `None` for an Aquarium source (it has no projects to ask).
 */
project_id: number | null, project_title: string | null, 
/**
 * Annotations made in Label Studio whose webhooks never reached Loopline.
 */
missed: number, 
/**
 * The gap, RFC 3339: from when Loopline last heard (or was last alive) to now.
 */
from: string, to: string, 
/**
 * The timeline entry written for it; `None` when nothing was missed.
 */
event_id: number | null, 
/**
 * Why this project could not be asked (Label Studio unreachable…); retried at the next
 * trigger.
 */
error: string | null, };

export type CatchUpReport = { trigger: CatchUpTrigger, projects: Array<CatchUp>, };

export type HookRegistration = { webhook_id: number, url: string, 
/**
 * "created", "updated", "reactivated" or "unchanged".
 */
change: string, };

export type DeletedHookPolicy = "recreate" | "report";

export type CountPoint = { at: string, count: number, event_id: number, };

export type RuleHistory = { rule: RetrainRule, points: Array<CountPoint>, runs: Array<Run>, };

export type NamedTunnel = { 
/**
 * The secret holding the tunnel token (passed to cloudflared in `TUNNEL_TOKEN`).
 */
token_secret: string, 
/**
 * The public hostname routed to this tunnel in the Cloudflare dashboard.
 */
hostname: string, };

export type TunnelConfig = { "provider": "url", public_url: string, } | { "provider": "cloudflared", 
/**
 * The binary; `cloudflared` from PATH when `None`.
 */
binary: string | null, named: NamedTunnel | null, } | { "provider": "ngrok", authtoken_secret: string, domain: string | null, } | { "provider": "bore", 
/**
 * `host` or `host:port` of the bore server's control port (7835 by default).
 */
server: string, 
/**
 * The secret holding the server's `--secret`, if it has one.
 */
secret_name: string | null, 
/**
 * The HTTPS URL the user's reverse proxy serves in front of the bore port. Needed
 * before Label Studio is pointed at a bore server that is not on this machine.
 */
https_url: string | null, };

export type TunnelState = "stopped" | "starting" | "reachable" | "unreachable";

export type TunnelStatus = { 
/**
 * `url`, `cloudflared`, `ngrok`, `bore`; `None` when no tunnel is configured.
 */
provider: string | null, state: TunnelState, 
/**
 * The public base URL (no path), once known. Webhooks go to `{public_url}/hooks/…`.
 */
public_url: string | null, 
/**
 * When the last self-test passed (RFC 3339).
 */
verified_at: string | null, 
/**
 * How long that self-test's round trip took.
 */
rtt_ms: number | null, error: ApiError | null, 
/**
 * Which process keeps the tunnel (`app` or `serve`, with its pid); `None` when nothing
 * is running it.
 */
kept_by: string | null, 
/**
 * The reason in words when nothing runs it, or other advice for the user.
 */
note: string | null, 
/**
 * Where `cloudflared` was found on this machine's PATH, if it was: the quick tunnel
 * (no account) is then the default choice. Worked out on each status read.
 */
cloudflared_found: string | null, };

export type TunnelTest = { public_url: string, reachable: boolean, rtt_ms: number | null, attempts: number, error: ApiError | null, };

export type StepStatus = "planned" | "unchanged" | "created" | "updated" | "uploaded" | "skipped" | "failed";

export type SetupWork = "check" | "labeling" | "role";

export type SetupStep = { 
/**
 * A stable id: `s3.bucket`, `s3.public_access`, `s3.images`, …
 */
key: string, title: string, 
/**
 * What it touches: an `s3://` URI, an ARN, a Label Studio id.
 */
resource: string, status: StepStatus, 
/**
 * What it would do or did, in words ("Create the bucket in eu-west-1", "312 uploaded,
 * 1,488 already there, 3 skipped (not images)").
 */
summary: string, 
/**
 * The exact document the step writes or found (a trust or permission policy), shown
 * before anything is created.
 */
detail: string | null, error: ApiError | null, 
/**
 * When the step last ran (RFC 3339); `None` in a plan.
 */
at: string | null, };

export type SetupReport = { 
/**
 * `storage` or `training`.
 */
section: string, 
/**
 * True for `--plan`: nothing was done.
 */
planned: boolean, steps: Array<SetupStep>, };

export type StorageLayout = { bucket: string, region: string, images: string, annotations: string, scripts: string, model: string, };

export type StorageRequest = { bucket: string, region: string, 
/**
 * A folder of images to upload; none: only the bucket and layout.
 */
images_dir: string | null, images_prefix: string | null, annotations_prefix: string | null, scripts_prefix: string | null, model_prefix: string | null, };

export type SetupJob = { running: boolean, progress: UploadProgress | null, 
/**
 * The outcome, once it ended.
 */
report: SetupReport | null, 
/**
 * Why it could not run at all (bad input, no credentials); step failures are in the
 * report.
 */
error: ApiError | null, };

export type RolePolicy = "managed" | "scoped";

export type RoleRequest = { region: string, 
/**
 * The bucket the role reaches; the storage setup's when `None`.
 */
bucket: string | null, 
/**
 * The role to create (or find) by name; `LooplineSageMakerExecution` when `None`.
 */
role: string | null, 
/**
 * An existing role to use as it is (checked, never changed).
 */
role_arn: string | null, policy: RolePolicy, 
/**
 * The pipeline to create or update from Loopline's template (or to use as it is, with
 * `use_existing_pipeline`); the role alone when `None`.
 */
pipeline: string | null, 
/**
 * The classes Label Studio annotates, in order (class 1, 2, …; background is 0). The
 * pipeline's last labels when empty.
 */
labels: Array<string>, 
/**
 * The training instance type's default; a GPU type (`ml.p3.2xlarge`) when `None`.
 */
training_instance: string | null, 
/**
 * Train with an existing pipeline as it is: checked and shown, never changed.
 */
use_existing_pipeline: boolean, };

export type LabelTemplate = "semantic-segmentation-polygons" | "bounding-boxes";

export type StorageCredentials = "scoped-user" | "keys" | "none";

export type LabelingRequest = { 
/**
 * Found by this exact title, or created with it.
 */
project_title: string, 
/**
 * An existing project to use instead of finding one by title.
 */
project: number | null, template: LabelTemplate, 
/**
 * The user's own labeling config (XML), instead of a template.
 */
label_config: string | null, 
/**
 * The template's labels; the pipeline's when empty.
 */
labels: Array<string>, 
/**
 * The storage setup's bucket, region and prefixes when `None`.
 */
bucket: string | null, region: string | null, images_prefix: string | null, annotations_prefix: string | null, storage_credentials: StorageCredentials, 
/**
 * With `Keys`: the access key id, and the name of the secret holding its secret key.
 */
access_key_id: string | null, secret_key_secret: string | null, 
/**
 * The Loopline source whose webhook the project gets; no webhook when `None`.
 */
source: string | null, 
/**
 * Where Label Studio reaches Loopline; the verified tunnel URL when `None`.
 */
public_url: string | null, };

export type LabelingChoice = { project: number, title: string, source_storage: number | null, target_storage: number | null, 
/**
 * The Loopline source whose webhook the project has.
 */
source: string | null, };

export type ElementType = "frame" | "crop";

export type Keypoint = { x: number, y: number, name: string | null, };

export type Geometry = { "kind": "box", left: number, top: number, width: number, height: number, } | { "kind": "polygons", polygons: Array<Array<[number, number]>>, } | { "kind": "keypoints", points: Array<Keypoint>, } | { "kind": "line", x1: number, y1: number, x2: number, y2: number, } | { "kind": "classification" } | { "kind": "mask", url: string | null, } | { "kind": "other", label_type: string, };

export type IssueLabel = { uuid: string, 
/**
 * Aquarium's `label_type` (`BBOX_2D`, `POLYGON_LIST_2D`, …).
 */
label_type: string, class: string, 
/**
 * Inferences carry a confidence (0 to 1); ground truth does not.
 */
confidence: number | null, inference: boolean, geometry: Geometry, 
/**
 * The sensor it belongs to (`label_coordinate_frame`).
 */
coordinate_frame: string | null, };

export type IssueElement = { element_id: string, element_type: ElementType, frame_id: string | null, dataset: string | null, inference_set: string | null, image_url: string | null, preview_url: string | null, 
/**
 * From `sensor_metadata` when the uploader gave it.
 */
width: number | null, height: number | null, 
/**
 * The image sensor shown: the one the labels are drawn in. A frame whose labels span
 * several sensors is one element per sensor, `{element_id}@{sensor_id}`.
 */
sensor_id: string | null, labels: Array<IssueLabel>, 
/**
 * A crop's own label (its `element_id`).
 */
crop_label: string | null, 
/**
 * `user__` fields, without the prefix, as text.
 */
user_metadata: Record<string, string>, };

export type SkippedElement = { element_id: string | null, reason: string, };

export type AquariumIssue = { event: string, issue_id: string | null, name: string | null, project: string | null, elements: Array<IssueElement>, skipped: Array<SkippedElement>, };

export type ExportState = "pending" | "done" | "failed";

export type ExportBrief = { export_id: number, target: string, state: ExportState, created: number, skipped: number, failed: number, pending: number, };

export type AquariumIssueSummary = { issue_id: string, project: string | null, name: string | null, elements: number, 
/**
 * Elements that cannot be reviewed or exported (each with its reason in the issue).
 */
skipped: number, received_at: string, 
/**
 * The newest delivery's event, for the timeline.
 */
event_id: number, 
/**
 * Each export of this issue, newest first.
 */
exports: Array<ExportBrief>, };

export type ExportTarget = { "kind": "label_studio", project: number, } | { "kind": "rest", url: string, 
/**
 * A JSON template; `None` for the default body (name, project, frames).
 */
body_template: string | null, 
/**
 * The keychain secret sent as `Authorization: Bearer …`.
 */
auth_secret: string | null, } | { "kind": "graphql", url: string, query: string, 
/**
 * A JSON template; `None` for `{issueId, labelIds}`.
 */
variables_template: string | null, auth_secret: string | null, };

export type ExportLabels = "ground_truth" | "inferences" | "both";

export type ExportRequest = { issue_id: string, target: ExportTarget, 
/**
 * The chosen elements; `None` for all of them.
 */
elements: Array<string> | null, 
/**
 * Which labels are sent; both when left out.
 */
labels: ExportLabels, };

export type ExportCreated = { element_id: string, 
/**
 * The Label Studio task (none for REST and GraphQL targets).
 */
task_id: number | null, 
/**
 * What of the element the task does not carry ("masks not sent: …").
 */
note: string | null, };

export type ExportSkipped = { element_id: string, reason: string, 
/**
 * Already at the target: the task that holds it.
 */
task_id: number | null, };

export type ExportFailed = { element_id: string, code: string, message: string, };

export type ExportReport = { export_id: number, issue_id: string, target: string, state: ExportState, created_at: string, created: Array<ExportCreated>, skipped: Array<ExportSkipped>, failed: Array<ExportFailed>, 
/**
 * Elements not sent yet.
 */
pending: number, 
/**
 * The last error in words, while retrying or after giving up.
 */
last_error: string | null, };

export type PreviewHeader = { name: string, 
/**
 * Secrets are masked.
 */
value: string, };

export type PreviewRequest = { method: string, url: string, headers: Array<PreviewHeader>, body: unknown, };

export type ExportPreview = { target: string, 
/**
 * Elements that would be sent.
 */
sending: number, requests: Array<PreviewRequest>, skipped: Array<ExportSkipped>, misfits: Array<string>, };

export type UploadProgress = { files_total: number, 
/**
 * Uploaded or found already there.
 */
files_done: number, files_uploaded: number, files_present: number, 
/**
 * Files that are not images, left out.
 */
files_skipped: number, bytes_total: number, bytes_done: number, 
/**
 * Bytes a second actually sent, since the upload started.
 */
bytes_per_second: number, 
/**
 * `None` until there is a rate to go by.
 */
seconds_left: number | null, 
/**
 * The file being sent, relative to the folder.
 */
current: string | null, finished: boolean, };

export type FieldType = "bool" | "int" | "text" | "text_list";

export type ConditionField = { name: string, type: FieldType, doc: string, };

export type ConditionOp = "eq" | "ne" | "contains" | "gt" | "lt";

export type ConditionValue = boolean | number | string;

export type Condition = { field: string, op: ConditionOp, value: ConditionValue, };

export type FireMode = { "mode": "each" } | { "mode": "every", n: number, counter: Counter, };

export type AutomationAction = { "kind": "forward", url: string, secret_name: string | null, 
/**
 * A JSON template for the body (the Aquarium exports' engine, over `event` and
 * `body`: see `forward_template`); the original body when `None`.
 */
body_template: string | null, } | { "kind": "notify", desktop: boolean, slack_url_secret: string | null, message: string, } | { "kind": "start_pipeline", 
/**
 * A pipeline name or ARN.
 */
pipeline: string, params: Array<PipelineParam>, overlap: Overlap, start_time_limit_secs: number, 
/**
 * A dataset-version automation of the same project: each run is passed its newest
 * version at the run's trigger as the `DatasetManifest` parameter.
 */
dataset?: string, } | { "kind": "dataset_version", bucket: string, prefix: string | null, region: string | null, keep: number, };

export type AutomationTrigger = { source_id: string, 
/**
 * Label Studio actions (ANNOTATION_CREATED, PROJECT_CREATED, ...), Aquarium's
 * `issue-exported`, or Loopline's own (`run.ended`).
 */
actions: Array<string>, project_id: number | null, 
/**
 * All must hold.
 */
conditions: Array<Condition>, fire: FireMode, };

export type AutomationRequest = { name: string, trigger: AutomationTrigger, action: AutomationAction, 
/**
 * Record "would fire" without delivering.
 */
dry_run: boolean, 
/**
 * For "every N": the project's counter now, given by the user when Label Studio cannot
 * be asked (as `rule add retrain --start-count`). With it, Label Studio is not asked.
 */
start_count?: number, 
/**
 * Start a pipeline even though another Loopline receives the project's annotations
 * (`shared_project`): the user was told and chose to go on.
 */
even_if_shared?: boolean, };

export type Automation = { id: string, name: string, trigger: AutomationTrigger, action: AutomationAction, dry_run: boolean, paused: boolean, created_at: string, 
/**
 * How many times it fired.
 */
fired: number, 
/**
 * For `every N`: the counter's last value and the multiple last fired for.
 */
count: number | null, fired_bucket: number, };

export type DeliveryStatus = "pending" | "delivered" | "failed" | "would_fire";

export type AutomationDelivery = { automation_id: string, event_id: number, status: DeliveryStatus, attempts: number, 
/**
 * The target's last HTTP status, when it answered.
 */
http_status: number | null, 
/**
 * The target's last response body, capped.
 */
response: string | null, error: string | null, decided_at: string, delivered_at: string | null, };

export type AutomationDetail = { automation: Automation, deliveries: Array<AutomationDelivery>, };

export type AutomationPreview = { 
/**
 * How many stored events were looked at (at most 50).
 */
considered: number, 
/**
 * The events it would have fired for, newest first.
 */
would_fire: Array<number>, sentence: string, };

export type ManifestObject = { key: string, 
/**
 * Without its quotes; the MD5 of the content for an object written in one piece.
 */
etag: string, size: number, };

export type ManifestTrigger = { event_id: number, source_id: string, action: string | null, project_id: number | null, received_at: string, };

export type ManifestProject = { id: number, 
/**
 * SHA-256 (hex) of the project's label config, so a changed config shows.
 */
label_config_sha256: string, };

export type DatasetManifest = { format: string, automation_id: string, version: string, uri: string, created_at: string, trigger: ManifestTrigger, project: ManifestProject | null, bucket: string, prefix: string, objects: Array<ManifestObject>, 
/**
 * Regions per label over the annotations that were not cancelled.
 */
labels: { [key in string]: number }, 
/**
 * Objects listed but not readable as an annotation (kept in `objects`, not counted).
 */
unreadable: Array<string>, cancelled: number, };

export type DatasetVersion = { automation_id: string, automation_name: string, version: string, uri: string, event_id: number, created_at: string, 
/**
 * False once it fell out of the last K and its manifest was deleted.
 */
kept: boolean, };

export type LabelCounts = { label: string, from: number, to: number, };

export type DatasetDiff = { from: string, to: string, added: Array<string>, 
/**
 * Same key, another ETag.
 */
changed: Array<string>, removed: Array<string>, labels: Array<LabelCounts>, };

export type ModelMetric = { 
/**
 * `mIOU` or `pixel_accuracy` (the algorithm's `validation:` metrics).
 */
name: string, value: number, approved_value: number | null, 
/**
 * `value - approved_value`: higher is better for both metrics.
 */
delta: number | null, };

export type ModelVersion = { arn: string, group: string, version: number, 
/**
 * `PendingManualApproval`, `Approved` or `Rejected`, as SageMaker says.
 */
status: string, 
/**
 * The approval's note (ApprovalDescription).
 */
note: string | null, created_at: string | null, 
/**
 * The pipeline execution that registered it (MetadataProperties.GeneratedBy), and the
 * Loopline run that started that execution, when known.
 */
execution_arn: string | null, run_id: number | null, metrics: Array<ModelMetric>, 
/**
 * Why there are no metrics, when there are none.
 */
metrics_note: string | null, 
/**
 * This is the version approved now (the newest Approved one).
 */
approved_now: boolean, 
/**
 * The approved version the deltas compare with.
 */
compared_with: number | null, };

export type ModelList = { pipeline: string, group: string, group_arn: string, region: string, 
/**
 * The version approved now, if any.
 */
approved: number | null, versions: Array<ModelVersion>, };

export type ModelDecision = "approve" | "reject";

export const SECRET_NAMES = {
  labelStudioToken: "label-studio-token",
  awsAccessKeyId: "aws-access-key-id",
  awsSecretAccessKey: "aws-secret-access-key",
  awsSessionToken: "aws-session-token",
  labelingServiceApiKey: "labeling-service-api-key",
  tunnelAuthToken: "tunnel-auth-token",
  boreSecret: "bore-secret",
  cloudflareTunnelToken: "cloudflare-tunnel-token",
  ngrokAuthtoken: "ngrok-authtoken",
} as const;

export const SUGGESTED_SECRETS: ReadonlyArray<readonly [string, string]> = [
  ["labeling-service-api-key", "API key of the labeling service Aquarium issues are exported to"],
  ["tunnel-auth-token", "Auth token for the tunnel that exposes the receiver"],
];
