import type { RunStatus } from "../bindings.gen";
import { RUN_TONE, STATUS_WORDS } from "../api/runs";

/** A run's status as words with a coloured dot, so it reads without colour too. */
export function RunStatusBadge({ status }: { status: RunStatus }) {
  const tone = RUN_TONE[status];
  return (
    <span className={`status status-${tone}`} data-testid="run-status">
      <span className={`dot ${tone}`} aria-hidden="true" />
      {STATUS_WORDS[status]}
    </span>
  );
}
