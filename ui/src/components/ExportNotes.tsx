import type { ExportReport } from "../bindings.gen";

/** How many element lines are shown before "and N more" (an issue may have thousands). */
const SHOWN = 50;

/** One line per element of an export that has something to say: created with a note
 * ("masks not sent: …"), skipped with why, failed with the target's words. */
export function ExportNotes({ report }: { report: ExportReport }) {
  const lines = [
    ...report.created
      .filter((c) => c.note)
      .map((c) => ({ id: c.element_id, text: `created${c.task_id !== null ? `: task ${c.task_id}` : ""}, ${c.note}` })),
    ...report.skipped.map((s) => ({ id: s.element_id, text: `skipped: ${s.reason}` })),
    ...report.failed.map((f) => ({ id: f.element_id, text: `failed (${f.code}): ${f.message}` })),
  ];
  if (lines.length === 0) return null;
  return (
    <details className="export-notes" open={lines.length <= 10}>
      <summary>Per element ({lines.length})</summary>
      <ul data-testid="export-notes">
        {lines.slice(0, SHOWN).map((l) => (
          <li key={l.id}>
            <code>{l.id}</code> {l.text}
          </li>
        ))}
        {lines.length > SHOWN && <li className="muted">and {lines.length - SHOWN} more (`loopline aquarium exports` lists them all)</li>}
      </ul>
    </details>
  );
}
