import { useState } from "react";
import type { Automation } from "../bindings.gen";
import { automationProgress, usePauseAutomation, useRemoveAutomation } from "../api/automations";
import { errorMessage } from "../lib/errors";
import { useToast } from "./Toasts";

type Props = {
  automation: Automation;
  sourceName: string | undefined;
  selected: boolean;
  onSelect: () => void;
};

/** "forward to https://…", "notify (desktop, Slack)" or "dataset version of s3://…". */
export function actionSentence(a: Automation["action"]): string {
  if (a.kind === "forward") return `forward to ${a.url}${a.secret_name ? " (signed)" : ""}`;
  if (a.kind === "start_pipeline") return `start pipeline ${a.pipeline}`;
  if (a.kind === "dataset_version") return `dataset version of s3://${a.bucket}/${a.prefix ?? ""} (keeps ${a.keep})`;
  const to = [a.desktop ? "desktop" : null, a.slack_url_secret ? "Slack" : null].filter(Boolean).join(", ");
  return `notify (${to})`;
}

/** One automation: what it reacts to, what it does, how far along it is, and its controls. */
export function AutomationCard({ automation: a, sourceName, selected, onSelect }: Props) {
  const toast = useToast();
  const [confirming, setConfirming] = useState(false);
  const pause = usePauseAutomation();
  const remove = useRemoveAutomation({ onSuccess: () => toast(`Removed the automation “${a.name}”`) });
  const busy = pause.isPending || remove.isPending;
  const failure = pause.error ?? remove.error;
  const fire = a.trigger.fire.mode === "each" ? "each" : `every ${a.trigger.fire.n}`;

  return (
    <li
      className={`rule-card${selected ? " selected" : ""}`}
      data-testid="automation-card"
      data-automation-id={a.id}
      data-selected={selected}
      onClick={onSelect}
    >
      <div className="rule-head">
        <button type="button" className="link-button rule-title" aria-pressed={selected} onClick={onSelect}>
          {a.name}
        </button>
        {a.paused && (
          <span className="tag" data-testid="automation-paused" title="Events that arrive while paused never fire it.">
            paused
          </span>
        )}
        {a.dry_run && (
          <span className="tag" title="Firings are recorded as “would fire”; nothing is sent.">
            dry run
          </span>
        )}
      </div>
      <p className="rule-facts muted">
        {fire} {a.trigger.actions.join(", ")} from {sourceName ?? a.trigger.source_id}
        {a.trigger.project_id !== null && ` · project ${a.trigger.project_id}`}
        {a.trigger.conditions.length > 0 && ` · ${a.trigger.conditions.length} condition${a.trigger.conditions.length === 1 ? "" : "s"}`}
      </p>
      <p className="rule-facts">{actionSentence(a.action)}</p>
      <p className="rule-facts" data-testid="automation-progress">
        {automationProgress(a)}
      </p>
      <div className="toolbar" onClick={(e) => e.stopPropagation()}>
        {confirming ? (
          <span className="confirm">
            Remove “{a.name}”? Its deliveries stay as history; undelivered ones are not sent.{" "}
            <button type="button" className="danger" data-testid="automation-remove-confirm" disabled={busy} onClick={() => remove.mutate(a.id)}>
              Remove
            </button>
            <button type="button" disabled={busy} onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </span>
        ) : (
          <>
            <button
              type="button"
              data-testid="automation-pause"
              disabled={busy}
              onClick={() => pause.mutate({ id: a.id, paused: !a.paused })}
            >
              {a.paused ? "Resume" : "Pause"}
            </button>
            <button type="button" data-testid="automation-remove" disabled={busy} onClick={() => setConfirming(true)}>
              Remove…
            </button>
          </>
        )}
      </div>
      {failure && (
        <p className="problem" role="alert">
          {errorMessage(failure)}
        </p>
      )}
    </li>
  );
}
