// Generated from the command declarations in src-tauri/src/commands.rs (`scripts/gen-bindings`).
// Do not edit by hand: a test fails when this file drifts from the Rust declarations.
import type { ApiError, AppInfo, AquariumIssue, AquariumIssueSummary, Automation, AutomationDetail, AutomationPreview, AutomationRequest, AutostartStatus, AwsIdentity, AwsSettings, CompanionPrefs, CompanionStatus, ConditionField, CreatedSource, DatasetDiff, DatasetManifest, DatasetVersion, DbCheck, DbRestore, DeletedHookPolicy, Diagnostics, EventDetail, EventPage, EventQuery, ExportPreview, ExportReport, ExportRequest, HookRegistration, LabelStudioIdentity, LabelingChoice, LabelingRequest, ModelDecision, ModelList, ModelVersion, ReceiverStatus, ReplayOutcome, RetentionPolicy, RetrainRule, RoleRequest, RuleHistory, RuleRequest, Run, SecretInfo, SetupJob, SetupReport, SetupStep, SetupWork, Source, SourceKind, StorageLayout, StorageRequest, TimelineStats, TunnelConfig, TunnelStatus, TunnelTest } from "../bindings.gen";

export type Commands = {
  receiver_status: { args: Record<string, never>; result: ReceiverStatus };
  receiver_start: { args: { listen: string }; result: ReceiverStatus };
  app_info: { args: Record<string, never>; result: AppInfo };
  diagnostics: { args: Record<string, never>; result: Diagnostics };
  engine_status: { args: Record<string, never>; result: ApiError | null };
  db_check: { args: Record<string, never>; result: DbCheck };
  companion_status: { args: Record<string, never>; result: CompanionStatus };
  companion_prefs: { args: Record<string, never>; result: CompanionPrefs };
  companion_prefs_set: { args: { prefs: CompanionPrefs }; result: CompanionPrefs };
  autostart_status: { args: Record<string, never>; result: AutostartStatus };
  autostart_set: { args: { enabled: boolean }; result: AutostartStatus };
  sources_list: { args: Record<string, never>; result: Array<Source> };
  source_add: { args: { kind: SourceKind; name: string; secret?: string | null; noSecret?: boolean | null }; result: CreatedSource };
  source_rotate: { args: { id: string; grace: number; secret?: string | null }; result: CreatedSource };
  source_remove: { args: { id: string }; result: null };
  source_send_test: { args: { id: string }; result: number };
  events_list: { args: { query: EventQuery }; result: EventPage };
  event_show: { args: { id: number }; result: EventDetail };
  event_replay: { args: { id: number }; result: ReplayOutcome };
  event_replay_edited: { args: { id: number; body: string }; result: ReplayOutcome };
  event_delete: { args: { id: number }; result: null };
  timeline_stats: { args: Record<string, never>; result: TimelineStats };
  retention_set: { args: { policy: RetentionPolicy }; result: TimelineStats };
  secrets_list: { args: Record<string, never>; result: Array<SecretInfo> };
  secret_set: { args: { name: string; value: string }; result: SecretInfo };
  secret_delete: { args: { name: string }; result: null };
  label_studio_connect: { args: { url: string; token: string }; result: LabelStudioIdentity };
  label_studio_verify: { args: Record<string, never>; result: LabelStudioIdentity };
  label_studio_url: { args: Record<string, never>; result: string | null };
  label_studio_disconnect: { args: Record<string, never>; result: null };
  aws_connect_keys: { args: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | null; region: string }; result: AwsIdentity };
  aws_connect_profile: { args: { profile: string; region?: string | null }; result: AwsIdentity };
  aws_verify: { args: Record<string, never>; result: AwsIdentity };
  aws_settings: { args: Record<string, never>; result: AwsSettings };
  aws_disconnect: { args: Record<string, never>; result: null };
  rules_list: { args: Record<string, never>; result: Array<RetrainRule> };
  rule_add: { args: { rule: RuleRequest }; result: RetrainRule };
  rule_remove: { args: { id: string }; result: null };
  rule_history: { args: { id: string }; result: RuleHistory };
  runs_list: { args: { limit?: number | null }; result: Array<Run> };
  run_show: { args: { id: number }; result: Run };
  run_retry: { args: { id: number }; result: Run };
  automation_list: { args: Record<string, never>; result: Array<Automation> };
  automation_add: { args: { request: AutomationRequest }; result: Automation };
  automation_preview: { args: { request: AutomationRequest }; result: AutomationPreview };
  automation_fields: { args: Record<string, never>; result: Array<ConditionField> };
  automation_detail: { args: { id: string }; result: AutomationDetail };
  automation_pause: { args: { id: string }; result: Automation };
  automation_resume: { args: { id: string }; result: Automation };
  automation_remove: { args: { id: string }; result: null };
  dataset_list: { args: { automationId?: string | null }; result: Array<DatasetVersion> };
  dataset_show: { args: { version: string }; result: DatasetManifest };
  dataset_diff: { args: { from: string; to: string }; result: DatasetDiff };
  models_list: { args: { pipeline?: string | null }; result: ModelList };
  run_model: { args: { runId: number }; result: ModelVersion | null };
  model_decide: { args: { version: string; decision: ModelDecision; note?: string | null }; result: ModelVersion };
  label_studio_hook: { args: { sourceId: string; projectId: number; publicUrl: string }; result: HookRegistration };
  tunnel_status: { args: Record<string, never>; result: TunnelStatus };
  tunnel_set: { args: { config: TunnelConfig }; result: TunnelStatus };
  tunnel_off: { args: Record<string, never>; result: TunnelStatus };
  deleted_hook_policy: { args: Record<string, never>; result: DeletedHookPolicy };
  deleted_hook_policy_set: { args: { policy: DeletedHookPolicy }; result: DeletedHookPolicy };
  setup_storage_plan: { args: { request: StorageRequest }; result: SetupReport };
  setup_storage_start: { args: { request: StorageRequest }; result: SetupJob };
  setup_storage_job: { args: Record<string, never>; result: SetupJob };
  setup_storage_cancel: { args: Record<string, never>; result: SetupJob };
  setup_role_plan: { args: { request: RoleRequest }; result: SetupReport };
  setup_role: { args: { request: RoleRequest }; result: SetupReport };
  setup_labeling_plan: { args: { request: LabelingRequest }; result: SetupReport };
  setup_labeling: { args: { request: LabelingRequest }; result: SetupReport };
  setup_check: { args: { source: string; project: number }; result: SetupReport };
  setup_cancel: { args: { work: SetupWork }; result: boolean };
  labeling_choice: { args: Record<string, never>; result: LabelingChoice | null };
  chosen_pipeline_name: { args: Record<string, never>; result: string | null };
  setup_started: { args: Record<string, never>; result: number };
  setup_status: { args: Record<string, never>; result: Array<SetupStep> };
  storage_layout: { args: Record<string, never>; result: StorageLayout | null };
  aquarium_issues: { args: Record<string, never>; result: Array<AquariumIssueSummary> };
  aquarium_issue: { args: { issueId: string }; result: AquariumIssue };
  aquarium_export_preview: { args: { request: ExportRequest }; result: ExportPreview };
  aquarium_export: { args: { request: ExportRequest }; result: ExportReport };
  aquarium_exports: { args: { issueId?: string | null }; result: Array<ExportReport> };
  image_hosts: { args: Record<string, never>; result: Array<string> };
  image_host_allow: { args: { host: string; allow: boolean }; result: Array<string> };
  aquarium_thumbnail: { args: { url: string }; result: string };
  tunnel_test: { args: Record<string, never>; result: TunnelTest };
  app_quit: { args: Record<string, never>; result: null };
  db_restore: { args: Record<string, never>; result: DbRestore };
  engine_retry: { args: Record<string, never>; result: AppInfo };
  engine_open_data_dir: { args: { dataDir: string }; result: AppInfo };
  run_open_console: { args: { id: number }; result: null };
};

export type CommandName = keyof Commands;
export type CommandArgs<K extends CommandName> = Commands[K]["args"];
export type CommandResult<K extends CommandName> = Commands[K]["result"];

export const COMMAND_NAMES = [
  "receiver_status",
  "receiver_start",
  "app_info",
  "diagnostics",
  "engine_status",
  "db_check",
  "companion_status",
  "companion_prefs",
  "companion_prefs_set",
  "autostart_status",
  "autostart_set",
  "sources_list",
  "source_add",
  "source_rotate",
  "source_remove",
  "source_send_test",
  "events_list",
  "event_show",
  "event_replay",
  "event_replay_edited",
  "event_delete",
  "timeline_stats",
  "retention_set",
  "secrets_list",
  "secret_set",
  "secret_delete",
  "label_studio_connect",
  "label_studio_verify",
  "label_studio_url",
  "label_studio_disconnect",
  "aws_connect_keys",
  "aws_connect_profile",
  "aws_verify",
  "aws_settings",
  "aws_disconnect",
  "rules_list",
  "rule_add",
  "rule_remove",
  "rule_history",
  "runs_list",
  "run_show",
  "run_retry",
  "automation_list",
  "automation_add",
  "automation_preview",
  "automation_fields",
  "automation_detail",
  "automation_pause",
  "automation_resume",
  "automation_remove",
  "dataset_list",
  "dataset_show",
  "dataset_diff",
  "models_list",
  "run_model",
  "model_decide",
  "label_studio_hook",
  "tunnel_status",
  "tunnel_set",
  "tunnel_off",
  "deleted_hook_policy",
  "deleted_hook_policy_set",
  "setup_storage_plan",
  "setup_storage_start",
  "setup_storage_job",
  "setup_storage_cancel",
  "setup_role_plan",
  "setup_role",
  "setup_labeling_plan",
  "setup_labeling",
  "setup_check",
  "setup_cancel",
  "labeling_choice",
  "chosen_pipeline_name",
  "setup_started",
  "setup_status",
  "storage_layout",
  "aquarium_issues",
  "aquarium_issue",
  "aquarium_export_preview",
  "aquarium_export",
  "aquarium_exports",
  "image_hosts",
  "image_host_allow",
  "aquarium_thumbnail",
  "tunnel_test",
  "app_quit",
  "db_restore",
  "engine_retry",
  "engine_open_data_dir",
  "run_open_console",
] as const satisfies readonly CommandName[];
