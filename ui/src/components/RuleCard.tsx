import { useState } from "react";
import type { RetrainRule } from "../bindings.gen";
import { useRemoveRule } from "../api/retrainActions";
import { usePauseAutomation } from "../api/automations";
import { COUNTER_NOUN, OVERLAP_OPTIONS } from "../api/runs";
import { errorMessage } from "../lib/errors";
import { RuleProgress } from "./RuleProgress";
import { useToast } from "./Toasts";

type Props = {
  rule: RetrainRule;
  sourceName: string | undefined;
  selected: boolean;
  onSelect: () => void;
};

/** One start-a-pipeline automation (a retrain rule): what it starts, when, how far along it is; clicking it charts it. */
export function RuleCard({ rule, sourceName, selected, onSelect }: Props) {
  const toast = useToast();
  const [confirming, setConfirming] = useState(false);
  const remove = useRemoveRule({ onSuccess: () => toast(`Removed the rule for ${rule.pipeline}`) });
  // A rule is a start-a-pipeline automation: it pauses like one.
  const pause = usePauseAutomation();
  const busy = remove.isPending || pause.isPending;
  const failure = remove.error ?? pause.error;
  const error = failure ? errorMessage(failure) : null;
  const overlap = OVERLAP_OPTIONS.find((o) => o.value === rule.overlap);

  return (
    <li
      className={`rule-card${selected ? " selected" : ""}`}
      data-testid="rule-card"
      data-rule-id={rule.id}
      data-selected={selected}
      onClick={onSelect}
    >
      <div className="rule-head">
        <button type="button" className="link-button rule-title" aria-pressed={selected} onClick={onSelect}>
          {rule.name ? (
            <>
              {rule.name} · <code>{rule.pipeline}</code>
            </>
          ) : (
            <code>{rule.pipeline}</code>
          )}
        </button>
        {rule.paused && (
          <span className="tag" data-testid="rule-paused" title="Its count moves on; nothing starts for what it passes until it is resumed.">
            paused
          </span>
        )}
        {rule.dry_run && (
          <span className="tag" title="Runs are recorded as “would start”; AWS is not called.">
            dry run
          </span>
        )}
        <span className="tag" title={overlap?.explanation}>
          overlap: {overlap?.label.toLowerCase() ?? rule.overlap}
        </span>
      </div>
      <p className="rule-facts muted">
        project {rule.project_id} via {sourceName ?? rule.source_id} · every {rule.every} {COUNTER_NOUN[rule.counter]}
        {rule.dataset_automation && (
          <span data-testid="rule-dataset">
            {" "}
            · trains on the dataset versions of <code>{rule.dataset_automation}</code>
          </span>
        )}
      </p>
      <RuleProgress rule={rule} />
      <div className="toolbar" onClick={(e) => e.stopPropagation()}>
        {confirming ? (
          <span className="confirm">
            Remove this rule? Its runs stay in the list.{" "}
            <button type="button" className="danger" data-testid="rule-remove-confirm" disabled={busy} onClick={() => remove.mutate(rule.id)}>
              Remove
            </button>
            <button type="button" disabled={busy} onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </span>
        ) : (
          <>
            <button type="button" data-testid="rule-pause" disabled={busy} onClick={() => pause.mutate({ id: rule.id, paused: !rule.paused })}>
              {rule.paused ? "Resume" : "Pause"}
            </button>
            <button type="button" data-testid="rule-remove" onClick={() => setConfirming(true)}>
              Remove
            </button>
          </>
        )}
      </div>
      {error && (
        <p className="problem" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}
