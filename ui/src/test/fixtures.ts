import type {
  AppInfo,
  Automation,
  AutomationDelivery,
  AwsIdentity,
  AwsSettings,
  CountPoint,
  EventDetail,
  EventQuery,
  EventSummary,
  ModelVersion,
  RetrainRule,
  RuleRequest,
  Run,
  Source,
  TimelineStats,
} from "../bindings.gen";
import { fakeEngine, running } from "./fakeEngine";
import { automationAnswers } from "./automationFixtures";

const BASE_MS = Date.UTC(2025, 2, 4, 12, 0, 0);

export function summary(id: number, over: Partial<EventSummary> = {}): EventSummary {
  const ms = BASE_MS + id * 1000;
  return {
    id,
    source_id: "src_ls",
    source_name: "Bird parts LS",
    kind: "label-studio",
    action: "ANNOTATION_CREATED",
    project_id: 7,
    project_name: "Bird parts",
    summary: `Annotation ${id} created on task 3 in 'Bird parts'`,
    status: "processed",
    received_at: new Date(ms).toISOString(),
    received_at_ms: ms,
    duplicate_of: null,
    replay_of: null,
    body_bytes: 321,
    ...over,
  };
}

export function detailOf(event: EventSummary, over: Partial<EventDetail> = {}): EventDetail {
  const body = {
    action: event.action,
    project: { id: event.project_id, title: "Bird parts", token: "••••••" },
    annotation: { id: event.id, result: [{ id: "r1", value: { labels: ["wing"] } }] },
  };
  return {
    event,
    remote_addr: "127.0.0.1:50123",
    headers: [
      { name: "content-type", value: "application/json" },
      { name: "x-loopline-token", value: "••••••" },
    ],
    body_json: body,
    body_text: JSON.stringify(body),
    body_truncated: false,
    redacted_paths: ["project.token"],
    annotation_ids: [event.id],
    task_ids: [3],
    curl: `curl -X POST http://127.0.0.1:8787/hooks/${event.source_id} -H 'X-Loopline-Token: <token>' -d @-`,
    replay_count: 0,
    ...over,
  };
}

export const source = (over: Partial<Source> = {}): Source => ({
  id: "src_ls",
  kind: "label-studio",
  name: "Bird parts LS",
  hook_path: "/hooks/src_ls",
  header_name: "X-Loopline-Token",
  created_at: "2025-03-01T09:00:00.000Z",
  previous_secret_valid_until: null,
  event_count: 3,
  last_event_at: "2025-03-04T12:00:03.000Z",
  ...over,
});

export const appInfo: AppInfo = {
  version: "0.1.0",
  commit: "77b2c44",
  data_dir: "/home/ada/.local/share/loopline",
  db_path: "/home/ada/.local/share/loopline/loopline.db",
  schema_version: 2,
  db_size_bytes: 40960,
  activity: {
    rules_caught_up: true,
    outbox_idle: true,
    quiescent: true,
    newest_event_id: null,
    rules_cursor: null,
    outbox_due: 0,
  },
  processes: [],
  log_dir: "/home/ada/.local/state/loopline/logs",
  log_file: "/home/ada/.local/state/loopline/logs/app.log",
};

export const AWS_ACCOUNT = "123456789012";
export const AWS_ARN = "arn:aws:iam::123456789012:user/ada";

/** Nothing stored: the engine falls back on the AWS SDK's default chain. */
export const awsDefaultChain = (): AwsSettings => ({
  mode: "default_chain",
  region: null,
  profile: null,
  access_key_hint: null,
  has_session_token: false,
});

export const awsIdentity = (over: Partial<AwsIdentity> = {}): AwsIdentity => ({
  account: AWS_ACCOUNT,
  arn: AWS_ARN,
  user_id: "AIDAEXAMPLEUSERID",
  region: "eu-west-1",
  mode: "keys",
  profile: null,
  ...over,
});

export const rule = (over: Partial<RetrainRule> = {}): RetrainRule => ({
  id: "rule_1",
  source_id: "src_ls",
  project_id: 7,
  every: 16,
  pipeline: "retrain-birds",
  params: [{ name: "TrainingCount", value: "{count}" }],
  counter: "useful",
  overlap: "coalesce",
  dry_run: false,
  start_time_limit_secs: 900,
  created_at: "2025-03-01T09:00:00.000Z",
  count: 12,
  fired_bucket: 0,
  progress: "12 of 16 useful annotations toward the next retrain (at 16)",
  error: null,
  name: null,
  paused: false,
  dataset_automation: null,
  ...over,
});

/** What the engine sends: `active` follows the status (RunStatus::is_active in core). */
const ENGINE_ACTIVE = new Set(["pending", "held", "starting", "executing", "stopping"]);

export const run = (id: number, over: Partial<Run> = {}): Run => {
  const r = runFields(id, over);
  return { ...r, active: over.active ?? ENGINE_ACTIVE.has(r.status) };
};

const runFields = (id: number, over: Partial<Run>): Omit<Run, "active"> => ({
  id,
  rule_id: "rule_1",
  pipeline: "retrain-birds",
  event_id: 100 + id,
  count: 16 * id,
  bucket_from: id,
  bucket_to: id,
  status: "succeeded",
  params: [{ name: "TrainingCount", value: String(16 * id) }],
  client_request_token: `ll-rule_1-${id}`,
  execution_arn: `arn:aws:sagemaker:eu-west-1:123456789012:pipeline/retrain-birds/execution/exec${id}`,
  console_url: `https://eu-west-1.console.aws.amazon.com/sagemaker/home?region=eu-west-1#/pipelines/retrain-birds/executions/exec${id}`,
  created_at: new Date(BASE_MS + id * 3_600_000).toISOString(),
  started_at: new Date(BASE_MS + id * 3_600_000 + 2000).toISOString(),
  finished_at: new Date(BASE_MS + id * 3_600_000 + 252_000).toISOString(),
  attempts: 1,
  error: null,
  failure_reason: null,
  steps: [{ name: "Train", status: "Succeeded", failure_reason: null, model_package_arn: null }],
  steps_note: null,
  dataset_manifest: null,
  model_package_arn: null,
  ...over,
});

/** A model version run 2 registered: better mIOU, worse pixel accuracy than the approved v1. */
export const modelVersion = (over: Partial<ModelVersion> = {}): ModelVersion => ({
  arn: "arn:aws:sagemaker:eu-west-1:123456789012:model-package/retrain-birds/2",
  group: "retrain-birds",
  version: 2,
  status: "PendingManualApproval",
  note: null,
  created_at: new Date(BASE_MS + 2 * 3_600_000 + 250_000).toISOString(),
  execution_arn: "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/retrain-birds/execution/exec2",
  run_id: 2,
  metrics: [
    { name: "mIOU", value: 0.625, approved_value: 0.5, delta: 0.125 },
    { name: "pixel_accuracy", value: 0.875, approved_value: 0.9, delta: -0.025 },
  ],
  metrics_note: null,
  approved_now: false,
  compared_with: 1,
  ...over,
});

export const point = (minutes: number, count: number, event_id = 100 + count): CountPoint => ({
  at: new Date(BASE_MS + minutes * 60_000).toISOString(),
  count,
  event_id,
});

type Args = Record<string, unknown> | undefined;

/**
 * The retrain commands over an in-memory store of rules, runs and counter points, as the
 * engine answers them: no rules and no runs until a test adds some.
 */
function retrainAnswers(store: { rules: RetrainRule[]; runs: Run[]; points: Record<string, CountPoint[]> }) {
  const findRun = (id: unknown) => store.runs.find((r) => r.id === id);
  return {
    // No run has registered a model unless a test says so.
    run_model: null,
    rules_list: () => store.rules,
    rule_add: (args: Args) => {
      const asked = args?.rule as RuleRequest;
      const added = rule({
        id: `rule_${store.rules.length + 1}`,
        source_id: asked.source_id,
        project_id: asked.project_id,
        every: asked.every,
        pipeline: asked.pipeline,
        params: asked.params,
        counter: asked.counter,
        overlap: asked.overlap,
        dry_run: asked.dry_run,
        start_time_limit_secs: asked.start_time_limit_secs,
        count: asked.start_count ?? null,
        progress: `waiting for the first annotation event (every ${String(asked.every)} useful annotations)`,
      });
      store.rules = [...store.rules, added];
      return added;
    },
    rule_remove: (args: Args) => {
      store.rules = store.rules.filter((r) => r.id !== args?.id);
      return null;
    },
    rule_history: (args: Args) => {
      const found = store.rules.find((r) => r.id === args?.id);
      if (!found) return new Error(`No rule '${String(args?.id)}'.`);
      return { rule: found, points: store.points[found.id] ?? [], runs: store.runs.filter((r) => r.rule_id === found.id) };
    },
    runs_list: () => store.runs,
    run_show: (args: Args) => findRun(args?.id) ?? new Error(`No run ${String(args?.id)}.`),
    run_retry: (args: Args) => {
      const found = findRun(args?.id);
      if (!found) return new Error(`No run ${String(args?.id)}.`);
      const retried: Run = { ...found, status: "pending", error: null, attempts: found.attempts + 1 };
      store.runs = store.runs.map((r) => (r.id === retried.id ? retried : r));
      return retried;
    },
    label_studio_hook: (args: Args) => ({
      webhook_id: 1,
      url: `${String(args?.publicUrl)}/hooks/${String(args?.sourceId)}`,
      change: "created",
    }),
  };
}

/**
 * A fake engine with an in-memory timeline that pages like the real one: newest first,
 * `before_id`/`after_id` keysets, and the filters applied.
 */
export function timelineEngine(initial: EventSummary[], answers: Record<string, unknown> = {}) {
  const store = {
    events: [...initial].sort((a, b) => b.id - a.id),
    sources: [source()],
    aws: awsDefaultChain(),
    rules: [] as RetrainRule[],
    runs: [] as Run[],
    points: {} as Record<string, CountPoint[]>,
    automations: [] as Automation[],
    deliveries: [] as AutomationDelivery[],
  };
  const stats = (): TimelineStats => ({
    total_events: store.events.length,
    newest_id: store.events[0]?.id ?? null,
    db_size_bytes: 2 * 1024 * 1024,
    retention: { max_days: null, max_events: null },
  });
  const engine = fakeEngine({
    receiver_status: running(),
    engine_status: null,
    app_info: appInfo,
    sources_list: () => store.sources,
    timeline_stats: stats,
    label_studio_url: null,
    label_studio_disconnect: null,
    secrets_list: [],
    deleted_hook_policy: "recreate",
    setup_status: [],
    storage_layout: null,
    setup_storage_job: { running: false, progress: null, report: null, error: null },
    tunnel_status: {
      provider: null,
      state: "stopped",
      public_url: null,
      verified_at: null,
      rtt_ms: null,
      error: null,
      kept_by: null,
      note: "No tunnel is set up.",
      cloudflared_found: null,
    },
    aws_settings: () => store.aws,
    // Connecting always succeeds here and remembers what was sent, as the engine would after STS said yes.
    aws_connect_keys: (args?: Record<string, unknown>) => {
      const key = String(args?.accessKeyId);
      const region = String(args?.region);
      store.aws = {
        mode: "keys",
        region,
        profile: null,
        access_key_hint: `…${key.slice(-4)}`,
        has_session_token: args?.sessionToken != null,
      };
      return awsIdentity({ region });
    },
    aws_connect_profile: (args?: Record<string, unknown>) => {
      const profile = String(args?.profile);
      const region = (args?.region as string | null) ?? null;
      store.aws = { mode: "profile", region, profile, access_key_hint: null, has_session_token: false };
      return awsIdentity({ mode: "profile", profile, region: region ?? "eu-west-1" });
    },
    aws_verify: () => {
      if (store.aws.mode === "default_chain") {
        throw { code: "aws_no_credentials", message: "No AWS credentials were found. Enter an access key or choose a profile." };
      }
      return awsIdentity({ mode: store.aws.mode, profile: store.aws.profile, region: store.aws.region ?? "eu-west-1" });
    },
    aws_disconnect: () => {
      store.aws = awsDefaultChain();
      return null;
    },
    events_list: (args?: Record<string, unknown>) => {
      const q = args?.query as EventQuery;
      const matching = store.events.filter(
        (e) =>
          (q.source_id === null || e.source_id === q.source_id) &&
          (q.action === null || e.action === q.action) &&
          (q.status === null || e.status === q.status) &&
          (q.project_id === null || e.project_id === q.project_id) &&
          (q.search === null || e.summary.toLowerCase().includes(q.search.toLowerCase())) &&
          (q.before_id === null || e.id < q.before_id) &&
          (q.after_id === null || e.id > q.after_id),
      );
      const limit = q.limit ?? 100;
      const events = matching.slice(0, limit);
      const last = events[events.length - 1];
      return { events, next_before_id: matching.length > limit && last ? last.id : null };
    },
    event_show: (args?: Record<string, unknown>) => {
      const e = store.events.find((x) => x.id === args?.id);
      if (!e) return new Error(`Event ${String(args?.id)} not found.`);
      return detailOf(e);
    },
    ...retrainAnswers(store),
    ...automationAnswers(store),
    ...answers,
  });
  return { ...engine, store };
}

export function eventQueries(calls: { cmd: string; args?: Record<string, unknown> }[]): EventQuery[] {
  return calls.filter((c) => c.cmd === "events_list").map((c) => c.args?.query as EventQuery);
}
