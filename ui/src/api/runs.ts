import { useEffect } from "react";
import { useQuery, useQueryClient, skipToken } from "@tanstack/react-query";
import type { ApiError, Counter, HookRegistration, Overlap, PipelineParam, RetrainRule, RuleHistory, Run, RunStatus } from "../bindings.gen";
import { formatDuration, type Tone } from "../lib/format";
import { call } from "./ipc";
import { subscribeForEffect } from "./effects";
import { queryKeys } from "./queryKeys";

/** Another process (the CLI, `loopline serve`) may change rules and runs without a push reaching us. */
const POLL_MS = 5000;
const RUNS_LIMIT = 100;

export function useRules() {
  return useQuery<RetrainRule[], ApiError>({
    queryKey: queryKeys.rules,
    queryFn: () => call("rules_list"),
    refetchInterval: POLL_MS,
  });
}

/** Newest first. */
export function useRuns() {
  return useQuery<Run[], ApiError>({
    queryKey: queryKeys.runs,
    queryFn: () => call("runs_list", { limit: RUNS_LIMIT }),
    refetchInterval: POLL_MS,
  });
}

export function useRuleHistory(id: string | null) {
  return useQuery<RuleHistory, ApiError>({
    queryKey: queryKeys.ruleHistory.one(id ?? ""),
    // skipToken: no id, no call (and the id is typed as present inside the call).
    queryFn: id === null ? skipToken : () => call("rule_history", { id }),
    refetchInterval: POLL_MS,
  });
}

/** One run, fresh from the engine; the list's copy shows until it arrives. */
export function useRun(id: number | null, fromList: Run | undefined) {
  return useQuery<Run, ApiError>({
    queryKey: queryKeys.run.one(id ?? -1),
    // skipToken: no id, no call (and the id is typed as present inside the call).
    queryFn: id === null ? skipToken : () => call("run_show", { id }),
    placeholderData: fromList,
    refetchInterval: POLL_MS,
  });
}

/** Refetches everything on the page when the engine says a rule's progress or a run changed. */
export function useRunsLive() {
  const client = useQueryClient();
  useEffect(
    () =>
      subscribeForEffect<number>("runs-changed", () => {
        void client.invalidateQueries({ queryKey: queryKeys.rules });
        void client.invalidateQueries({ queryKey: queryKeys.runs });
        void client.invalidateQueries({ queryKey: queryKeys.ruleHistory.all });
        void client.invalidateQueries({ queryKey: queryKeys.run.all });
        // The engine says the same for an automation's progress and its deliveries.
        void client.invalidateQueries({ queryKey: queryKeys.automations });
        void client.invalidateQueries({ queryKey: queryKeys.automation.all });
      }),
    [client],
  );
}

export const STATUS_WORDS: Record<RunStatus, string> = {
  pending: "Pending",
  held: "Held (starts after the current run)",
  starting: "Starting",
  would_start: "Would start (dry run)",
  skipped: "Skipped",
  start_failed: "Start failed",
  executing: "Executing",
  stopping: "Stopping",
  stopped: "Stopped",
  succeeded: "Succeeded",
  failed: "Failed",
};

export type RunTone = Tone | "neutral";

export const RUN_TONE: Record<RunStatus, RunTone> = {
  pending: "pending",
  held: "pending",
  starting: "pending",
  would_start: "ok",
  skipped: "neutral",
  start_failed: "failed",
  executing: "pending",
  stopping: "pending",
  stopped: "neutral",
  succeeded: "ok",
  failed: "failed",
};

/** Not finished yet: a duration reads "running …", and an outcome may still arrive. */

export const COUNTER_NOUN: Record<Counter, string> = {
  useful: "useful annotations",
  total: "annotations",
};

export const OVERLAP_OPTIONS: { value: Overlap; label: string; explanation: string }[] = [
  {
    value: "coalesce",
    label: "Coalesce",
    explanation: "While a run executes, hold one follow-up and start it when the current run ends.",
  },
  { value: "parallel", label: "Parallel", explanation: "Start every run at once, even while another one executes." },
  { value: "skip", label: "Skip", explanation: "While a run executes, record further triggers as skipped and start nothing." },
];

export const PARAM_PLACEHOLDERS = [
  "{count}",
  "{useful_annotation_number}",
  "{total_annotations_number}",
  "{project_id}",
  "{event_id}",
  "{bucket}",
];

/**
 * How far the counter is into the current stretch of `every`, the same arithmetic as the
 * engine's progress sentence: `into` of `every`, the next retrain at `next`.
 */
export function progressOf(rule: RetrainRule): { into: number; every: number; next: number } {
  const every = Math.max(rule.every, 1);
  const count = rule.count ?? 0;
  const next = (Math.max(rule.fired_bucket, Math.floor(count / every)) + 1) * every;
  const into = every - Math.min(Math.max(next - count, 0), every);
  return { into, every, next };
}

/** NAME=VALUE lines into parameters; blank lines are skipped, the first "=" splits. */
export function parseParams(text: string): PipelineParam[] {
  const params: PipelineParam[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "") return;
    const eq = line.indexOf("=");
    const name = eq < 0 ? "" : line.slice(0, eq).trim();
    if (name === "") {
      throw { code: "invalid_argument", message: `Parameter line ${index + 1} is not NAME=VALUE: “${line}”.` } satisfies ApiError;
    }
    params.push({ name, value: line.slice(eq + 1).trim() });
  });
  return params;
}

/** "event 123 at 16", plus "covers 1–3" when one jump crossed several multiples. */
export function triggerSentence(run: Run): string {
  const covers = run.bucket_from !== run.bucket_to ? `, covers ${run.bucket_from}–${run.bucket_to}` : "";
  return `event ${run.event_id} at ${run.count}${covers}`;
}

/** "4 min 12 s" when finished, "running 2 min" while under way, "—" before it starts. */
export function runDuration(run: Run, now: number): string {
  if (!run.started_at) return "—";
  const started = Date.parse(run.started_at);
  if (run.finished_at) return formatDuration(Date.parse(run.finished_at) - started);
  if (run.active) return `running ${formatDuration(now - started, true)}`;
  return "—";
}

const CHANGE_WORDS: Record<string, string> = {
  created: "created",
  updated: "updated",
  reactivated: "reactivated",
  unchanged: "already in place",
};

/** "Webhook 12 created: http://…/hooks/src_…". */
export function hookSentence(hook: HookRegistration): string {
  return `Webhook ${hook.webhook_id} ${CHANGE_WORDS[hook.change] ?? hook.change}: ${hook.url}`;
}
