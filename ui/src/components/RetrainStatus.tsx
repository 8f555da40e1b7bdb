import { progressOf, useRules, useRunsLive } from "../api/runs";

/** The status bar's retrain item: how far the first rule is from its next run. */
export function RetrainStatus() {
  useRunsLive();
  const { data: rules } = useRules();
  const live = rules?.filter((r) => !r.dry_run) ?? [];
  const rule = live[0] ?? rules?.[0];
  if (!rule) return null;
  const { into, every } = progressOf(rule);
  const others = (rules?.length ?? 1) - 1;
  return (
    <span className="status-item" data-testid="statusbar-retrain" title={rule.progress}>
      <span>
        {rule.count === null ? "Retrain: waiting for annotations" : `${into} of ${every} to the next retrain`}
        {others > 0 && ` (+${others} more ${others === 1 ? "rule" : "rules"})`}
      </span>
    </span>
  );
}
