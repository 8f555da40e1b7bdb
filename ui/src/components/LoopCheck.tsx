import { useRules } from "../api/runs";
import { useCancelSetup, useLabelingChoice, useSetupCheck, useSetupStarted } from "../api/setup";
import { useSources } from "../api/sources";
import { errorMessage } from "../lib/errors";
import { SetupSteps } from "./StorageSetup";

function minutes(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

/** Setup → Check the loop: one test annotation through the public URL, followed until it is
 * stored, counted and exported, then removed so it never reaches training. */
export function LoopCheck({ verifiedAt }: { verifiedAt: string | null }) {
  const { data: choice } = useLabelingChoice();
  const { data: rules } = useRules();
  const { data: sources } = useSources();
  const { data: started } = useSetupStarted();
  const check = useSetupCheck();
  const cancel = useCancelSetup("check");
  const rule = (rules ?? []).find((r) => r.project_id === choice?.project);
  const source = rule?.source_id ?? choice?.source ?? (sources ?? []).find((s) => s.kind === "label-studio")?.id;

  if (!choice || !source) return <p className="muted">Set up the labeling project and its webhook first.</p>;
  const report = check.data;
  const last = report?.steps.find((s) => s.key === "check.loop");
  const endedAt = last?.at ?? verifiedAt;
  const verified = last ? last.status !== "failed" : verifiedAt !== null;
  return (
    <div className="loop-check" data-testid="loop-check">
      <p>
        Loopline makes one test annotation in project {choice.project}, follows it through the tunnel into the timeline, the rule&apos;s count
        and the annotations prefix, then deletes it and its exported file so it never reaches training.
      </p>
      <div className="form-actions">
        <button type="button" data-testid="loop-check-run" disabled={check.isPending} onClick={() => check.mutate({ source, project: choice.project })}>
          {check.isPending ? "Checking…" : verified ? "Check again" : "Check the loop"}
        </button>
        {check.isPending && (
          <button type="button" data-testid="loop-check-cancel" disabled={cancel.isPending} onClick={() => cancel.mutate()}>
            Cancel
          </button>
        )}
      </div>
      {check.error && (
        <p className="problem" role="alert">
          {errorMessage(check.error)}
        </p>
      )}
      {report && <SetupSteps steps={report.steps} testid="loop-check-steps" />}
      {verified && endedAt && started !== undefined && (
        <p className="loop-verified" data-testid="loop-verified">
          Loop verified. From the first screen to here: {minutes(Date.parse(endedAt) - started)}.
        </p>
      )}
    </div>
  );
}
