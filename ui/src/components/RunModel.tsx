import { useState } from "react";
import type { ModelDecision, ModelVersion } from "../bindings.gen";
import { metricDelta, metricValue, statusWords, useDecideModel, useRunModel } from "../api/models";
import { errorMessage } from "../lib/errors";
import { formatDateTime } from "../lib/format";

const TONE: Record<string, string> = { Approved: "ok", Rejected: "failed", PendingManualApproval: "pending" };

function Metrics({ version }: { version: ModelVersion }) {
  if (version.metrics.length === 0) {
    return (
      <p className="muted" data-testid="run-model-metrics-note">
        {version.metrics_note ?? "No metrics."}
      </p>
    );
  }
  const against = version.compared_with;
  // Columns for a comparison only when there is one: the approved version itself, or a
  // group with none approved, shows its own figures.
  const comparing = !version.approved_now && against !== null;
  return (
    <table className="name-value" data-testid="run-model-metrics">
      <thead>
        <tr>
          <th scope="col">Validation metric</th>
          <th scope="col">This version</th>
          {comparing && <th scope="col">{`Approved (v${against})`}</th>}
          {comparing && <th scope="col">Change</th>}
        </tr>
      </thead>
      <tbody>
        {version.metrics.map((m) => {
          const delta = metricDelta(m);
          return (
            <tr key={m.name} data-testid="run-model-metric">
              <th scope="row">{m.name}</th>
              <td>{metricValue(m.value)}</td>
              {comparing && <td>{m.approved_value === null ? "—" : metricValue(m.approved_value)}</td>}
              {comparing && <td data-testid="run-model-delta">{delta ?? "—"}</td>}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Approve / Reject, each behind a confirmation that says what it changes in SageMaker. */
function Decide({ version }: { version: ModelVersion }) {
  const decide = useDecideModel();
  const [asking, setAsking] = useState<ModelDecision | null>(null);
  const [note, setNote] = useState("");
  const busy = decide.isPending;
  const error = decide.error ? errorMessage(decide.error) : null;
  const confirm = (decision: ModelDecision) =>
    decide.mutate(
      { version: version.arn, decision, note: note.trim() === "" ? null : note.trim() },
      {
        onSuccess: () => {
          setAsking(null);
          setNote("");
        },
      },
    );
  return (
    <div className="toolbar">
      {asking ? (
        <span className="confirm" data-testid="run-model-confirm">
          {asking === "approve"
            ? `Approve version ${version.version} of ${version.group}? It becomes the version approved now.`
            : `Reject version ${version.version} of ${version.group}?`}{" "}
          <label>
            Note{" "}
            <input
              type="text"
              value={note}
              maxLength={1024}
              placeholder="why (optional)"
              data-testid="run-model-note"
              onChange={(e) => setNote(e.target.value)}
            />
          </label>{" "}
          <button
            type="button"
            className={asking === "reject" ? "danger" : undefined}
            data-testid="run-model-confirm-button"
            disabled={busy}
            onClick={() => confirm(asking)}
          >
            {busy ? "Saving…" : asking === "approve" ? "Approve" : "Reject"}
          </button>
          <button type="button" disabled={busy} onClick={() => setAsking(null)}>
            Cancel
          </button>
        </span>
      ) : (
        <>
          <button type="button" data-testid="run-model-approve" disabled={version.status === "Approved"} onClick={() => setAsking("approve")}>
            Approve
          </button>
          <button type="button" data-testid="run-model-reject" disabled={version.status === "Rejected"} onClick={() => setAsking("reject")}>
            Reject
          </button>
        </>
      )}
      {error && (
        <p className="problem" role="alert" data-testid="run-model-error">
          {error}
        </p>
      )}
    </div>
  );
}

/** The model version a run registered: its status, metrics against the approved one, and the decision. */
export function RunModel({ runId, started }: { runId: number; started: boolean }) {
  const { data: version, error, isPending } = useRunModel(started ? runId : null);
  if (!started) return <p className="muted">A run registers its model once its pipeline has run.</p>;
  if (error) {
    return (
      <p className="muted" data-testid="run-model-error">
        {errorMessage(error)}
      </p>
    );
  }
  if (isPending) return <p className="muted">Reading the model registry…</p>;
  if (!version) {
    return (
      <p className="muted" data-testid="run-model-none">
        No model version yet: the run registers one when its RegisterModel step ends.
      </p>
    );
  }
  const tone = TONE[version.status] ?? "pending";
  return (
    <section data-testid="run-model">
      <p>
        <strong>
          {version.group} v{version.version}
        </strong>{" "}
        <span className={`status status-${tone}`} data-testid="run-model-status">
          <span className={`dot ${tone}`} aria-hidden="true" />
          {statusWords(version.status)}
        </span>
        {version.approved_now && <span className="muted"> · the version approved now</span>}
        {version.created_at && <span className="muted"> · registered {formatDateTime(version.created_at)}</span>}
      </p>
      {version.note && <p data-testid="run-model-note-shown">Note: {version.note}</p>}
      <Metrics version={version} />
      {!version.approved_now && version.compared_with === null && version.metrics.length > 0 && (
        <p className="muted">No version is approved yet, so there is nothing to compare with.</p>
      )}
      <Decide version={version} />
      <p className="muted">
        <code>{version.arn}</code>
      </p>
    </section>
  );
}
