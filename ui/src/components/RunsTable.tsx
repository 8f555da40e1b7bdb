import { useEffect, useRef } from "react";
import type { Run } from "../bindings.gen";
import { runDuration, triggerSentence } from "../api/runs";
import { formatShortTime } from "../lib/format";
import { RunStatusBadge } from "./RunStatusBadge";

type Props = {
  runs: Run[];
  selectedId: number | null;
  now: number;
  onSelect: (id: number) => void;
};

/** Every run, newest first; a row opens its detail. */
export function RunsTable({ runs, selectedId, now, onSelect }: Props) {
  const today = new Date(now);
  const table = useRef<HTMLTableElement>(null);
  const shown = useRef<number | null>(null);

  // A run opened from the address (a link, the back button) may be far down the table.
  useEffect(() => {
    if (selectedId === null || selectedId === shown.current) return;
    const row = table.current?.querySelector(`[data-run-id="${selectedId}"]`);
    if (!row) return;
    shown.current = selectedId;
    // jsdom has no layout, hence no scrollIntoView.
    row.scrollIntoView?.({ block: "nearest" });
  }, [selectedId, runs]);

  return (
    <table className="runs-table" data-testid="runs-table" ref={table}>
      <thead>
        <tr>
          <th scope="col">Run</th>
          <th scope="col">Status</th>
          <th scope="col">Trigger</th>
          <th scope="col">Started</th>
          <th scope="col">Duration</th>
          <th scope="col">Pipeline</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => (
          <tr
            key={run.id}
            data-testid="run-row"
            data-run-id={run.id}
            data-status={run.status}
            aria-selected={run.id === selectedId}
            onClick={() => onSelect(run.id)}
          >
            <td>
              <button
                type="button"
                className="link-button"
                aria-label={`Open run ${run.id}`}
                onClick={(e) => {
                  // The row handles the same click; one selection, one history entry.
                  e.stopPropagation();
                  onSelect(run.id);
                }}
              >
                #{run.id}
              </button>
            </td>
            <td>
              <RunStatusBadge status={run.status} />
            </td>
            <td className="cell-trigger" title="“covers” lists the multiples of “every” one jump crossed">{triggerSentence(run)}</td>
            <td className="cell-time">{run.started_at ? formatShortTime(Date.parse(run.started_at), today) : "—"}</td>
            <td className="cell-time">{runDuration(run, now)}</td>
            <td className="cell-pipeline">
              <code>{run.pipeline}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
