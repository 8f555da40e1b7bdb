import type { EventStatus } from "../bindings.gen";
import { STATUS_TONE } from "../lib/format";

/** Colour is for status only: a dot plus the word, so it reads without colour too. */
export function StatusBadge({ status }: { status: EventStatus }) {
  return (
    <span className={`status status-${STATUS_TONE[status]}`}>
      <span className={`dot ${STATUS_TONE[status]}`} aria-hidden="true" />
      {status}
    </span>
  );
}
