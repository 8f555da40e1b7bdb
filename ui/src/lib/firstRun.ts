import type { AwsSettings, RetrainRule, SetupStep, TunnelStatus } from "../bindings.gen";

/** The first run's eight steps, in order. */
export const FIRST_RUN_STEPS = [
  "Label Studio",
  "AWS",
  "Storage",
  "Training",
  "Labeling project",
  "Reach",
  "Retrain rule",
  "Check the loop",
] as const;

export type StepState = "done" | "todo" | "failed";

/** A step in its wanted state; the images step may be left out on purpose. */
export const stepDone = (s: SetupStep) =>
  ["unchanged", "created", "updated", "uploaded"].includes(s.status) || (s.key === "s3.images" && s.status === "skipped");

function group(setup: SetupStep[], prefixes: string[], required: string[], ignoreFailed: string[] = []): StepState {
  const mine = setup.filter((s) => prefixes.some((p) => s.key.startsWith(p)) && s.at !== null);
  if (mine.some((s) => s.status === "failed" && !ignoreFailed.includes(s.key))) return "failed";
  return required.every((k) => mine.some((s) => s.key === k && stepDone(s))) ? "done" : "todo";
}

export type FirstRunInputs = {
  lsUrl: string | null | undefined;
  aws: AwsSettings | undefined;
  setup: SetupStep[];
  tunnel: TunnelStatus | undefined;
  rules: RetrainRule[];
  project: number | null;
};

/** Each step's state, from what the engine reports: the first run resumes where it was. */
export function firstRunStates(i: FirstRunInputs): StepState[] {
  const storage = i.setup.some((s) => s.key.startsWith("s3.") && s.at !== null)
    ? i.setup.filter((s) => s.key.startsWith("s3.")).some((s) => s.status === "failed")
      ? "failed"
      : i.setup.filter((s) => s.key.startsWith("s3.")).every(stepDone)
        ? "done"
        : "todo"
    : "todo";
  const training = group(i.setup, ["iam.", "sm."], ["iam.role", "sm.pipeline"], ["sm.quota"]);
  const labeling = group(i.setup, ["ls.project", "ls.source", "ls.target", "ls.credentials"], ["ls.project", "ls.source", "ls.target"]);
  const hook = i.setup.find((s) => s.key === "ls.webhook" && s.at !== null);
  const rule = i.project !== null && i.rules.some((r) => r.project_id === i.project);
  const check = i.setup.find((s) => s.key === "check.loop" && s.at !== null);
  return [
    i.lsUrl ? "done" : "todo",
    // The default chain counts once a later step has used it.
    i.aws && (i.aws.mode !== "default_chain" || storage === "done") ? "done" : "todo",
    storage,
    training,
    labeling,
    i.tunnel?.state === "reachable" ? "done" : i.tunnel?.state === "unreachable" ? "failed" : "todo",
    hook?.status === "failed" ? "failed" : hook && stepDone(hook) && rule ? "done" : "todo",
    check ? (check.status === "failed" ? "failed" : "done") : "todo",
  ];
}

const SKIPPED_KEY = "loopline.setup.skipped";

export function loadSkipped(): number[] {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(SKIPPED_KEY) ?? "[]");
    return Array.isArray(v) ? v.filter((n): n is number => typeof n === "number") : [];
  } catch {
    return [];
  }
}

export function saveSkipped(list: number[]) {
  try {
    localStorage.setItem(SKIPPED_KEY, JSON.stringify(list));
  } catch {
    // A webview without storage forgets skips; nothing else depends on them.
  }
}
