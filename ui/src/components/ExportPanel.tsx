import { useState } from "react";
import type { ExportLabels, ExportReport, ExportRequest } from "../bindings.gen";
import { useExport, usePreviewExport } from "../api/aquarium";
import { useExportTarget } from "./ExportTargetForm";
import { ExportNotes } from "./ExportNotes";

const LABELS: Record<ExportLabels, string> = {
  both: "Ground truth and inferences",
  ground_truth: "Ground truth only",
  inferences: "Inferences only",
};

/** Send the chosen elements to a Label Studio project or an endpoint: preview first, then one click. */
export function ExportPanel({
  issueId,
  chosen,
  total,
  exports,
  onRetry,
}: {
  issueId: string;
  chosen: string[];
  total: number;
  exports: ExportReport[];
  onRetry: (ids: string[]) => void;
}) {
  const [target, targetForm] = useExportTarget();
  // An issue is there to fix labels: by default the annotator sees them beside the model's.
  const [labels, setLabels] = useState<ExportLabels>("both");
  const preview = usePreviewExport();
  const send = useExport();
  const request = (): ExportRequest | null =>
    target && {
      issue_id: issueId,
      target,
      elements: chosen.length === total ? null : chosen,
      labels,
    };
  const valid = target !== null && chosen.length > 0;
  // A preview is shown only for the target it was made for.
  const [previewedFor, setPreviewedFor] = useState<string | null>(null);
  const run = (mutate: (r: ExportRequest) => void) => {
    const r = request();
    if (r) mutate(r);
  };
  const previewKey = JSON.stringify([target, labels]);
  const showPreview = () => {
    setPreviewedFor(previewKey);
    run(preview.mutate);
  };
  const previewShown = previewedFor === previewKey ? preview.data : undefined;
  const latest = exports[0];

  return (
    <section className="export-panel" aria-labelledby="export-title">
      <h2 id="export-title">Send</h2>
      <div className="export-form">
        {targetForm}
        <label>
          Labels{" "}
          <select value={labels} onChange={(e) => setLabels(e.target.value as ExportLabels)} data-testid="export-labels">
            {(Object.keys(LABELS) as ExportLabels[]).map((k) => (
              <option key={k} value={k}>
                {LABELS[k]}
              </option>
            ))}
          </select>
        </label>
        <button type="button" disabled={!valid || preview.isPending} onClick={showPreview} data-testid="export-preview">
          Preview
        </button>
        <button type="button" className="primary" disabled={!valid || send.isPending} onClick={() => run(send.mutate)} data-testid="export-send">
          Send {chosen.length} element{chosen.length === 1 ? "" : "s"}
        </button>
      </div>
      {(preview.error || send.error) && <p className="problem" role="alert">{(send.error ?? preview.error)?.message}</p>}
      {previewShown && (
        <div className="export-preview" data-testid="export-preview-result">
          <p>
            {previewShown.sending} element(s) to {previewShown.target} in {previewShown.requests.length} request(s); {previewShown.skipped.length} skipped.
          </p>
          {previewShown.misfits.length > 0 && (
            <ul className="problem">{previewShown.misfits.map((m) => <li key={m}>Does not fit: {m}</li>)}</ul>
          )}
          {previewShown.requests.slice(0, 1).map((r, i) => (
            <details key={i}>
              <summary>{r.method} {r.url}</summary>
              <pre>{r.headers.map((h) => `${h.name}: ${h.value}`).join("\n")}{"\n\n"}{JSON.stringify(r.body, null, 2).slice(0, 4000)}</pre>
            </details>
          ))}
        </div>
      )}
      {latest && (
        <div className="export-result" data-testid="export-result" aria-live="polite">
          <p>
            Export {latest.export_id} to {latest.target}: <strong>{latest.state === "pending" ? (latest.last_error ? "retrying" : "sending…") : latest.state}</strong> · {latest.created.length} created · {latest.skipped.length} skipped · {latest.failed.length} failed
            {latest.pending > 0 && ` · ${latest.pending} to go`}
          </p>
          {latest.last_error && <p className="muted">{latest.last_error}</p>}
          <ExportNotes report={latest} />
          {latest.failed.length > 0 && (
            <button type="button" onClick={() => onRetry(latest.failed.map((f) => f.element_id))} data-testid="export-retry">
              Select the {latest.failed.length} failed to retry
            </button>
          )}
        </div>
      )}
    </section>
  );
}
