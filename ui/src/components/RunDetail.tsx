import type { Run } from "../bindings.gen";
import { useOpenRunConsole, useRetryRun } from "../api/retrainActions";
import { runDuration, triggerSentence, useRun } from "../api/runs";
import { versionOfManifest } from "../api/datasets";
import { errorMessage } from "../lib/errors";
import { formatDateTime } from "../lib/format";
import { RunStatusBadge } from "./RunStatusBadge";
import { NameValueTable } from "./NameValueTable";
import { RunModel } from "./RunModel";

function Steps({ run }: { run: Run }) {
  if (run.steps === null) {
    return (
      <p className="muted" data-testid="run-steps-note">
        {run.steps_note ?? "Steps are read once the execution has started."}
      </p>
    );
  }
  if (run.steps.length === 0) return <p className="muted">No steps have started yet.</p>;
  return (
    <ol className="run-steps" data-testid="run-steps">
      {run.steps.map((step) => (
        <li key={step.name} data-testid="run-step">
          <strong>{step.name}</strong> <span className="muted">{step.status}</span>
          {step.failure_reason && <p className="problem">{step.failure_reason}</p>}
        </li>
      ))}
    </ol>
  );
}

/** One run in full: what it was started with, where it runs in AWS, and how far it got. */
export function RunDetail({ id, fromList, now, onClose }: { id: number; fromList: Run | undefined; now: number; onClose: () => void }) {
  const { data: run, error: loadError } = useRun(id, fromList);
  const retry = useRetryRun();
  const openConsole = useOpenRunConsole();
  const busy = retry.isPending;
  const error = retry.error ? errorMessage(retry.error) : null;
  const openError = openConsole.error ? errorMessage(openConsole.error) : null;

  return (
    <aside className="run-detail" data-testid="run-detail" aria-labelledby="run-detail-title">
      <header className="detail-header">
        <h2 id="run-detail-title">Run #{id}</h2>
        <button type="button" className="link-button" onClick={onClose}>
          Close
        </button>
      </header>
      {!run && loadError && (
        <p className="problem" role="alert">
          {loadError.message}
        </p>
      )}
      {run && (
        <>
          <p>
            <RunStatusBadge status={run.status} />
          </p>
          {run.error && (
            <p className="problem" role="alert" data-testid="run-error">
              {run.status === "start_failed" ? "Starting failed: " : "The last attempt to start failed; still retrying: "}
              {run.error}
            </p>
          )}
          {run.status === "start_failed" && (
            <p>
              <button type="button" data-testid="run-retry" disabled={busy} onClick={() => retry.mutate(id)}>
                {busy ? "Retrying…" : "Retry now"}
              </button>
            </p>
          )}
          {error && (
            <p className="problem" role="alert">
              {error}
            </p>
          )}
          {run.failure_reason && (
            <p className="problem" data-testid="run-failure">
              {run.failure_reason}
            </p>
          )}
          <dl className="facts">
            <dt>Pipeline</dt>
            <dd>
              <code>{run.pipeline}</code>
            </dd>
            <dt>Trigger</dt>
            <dd>{triggerSentence(run)}</dd>
            <dt>Created</dt>
            <dd>{formatDateTime(run.created_at)}</dd>
            <dt>Started</dt>
            <dd>{run.started_at ? formatDateTime(run.started_at) : "not yet"}</dd>
            {run.finished_at && (
              <>
                <dt>Finished</dt>
                <dd>{formatDateTime(run.finished_at)}</dd>
              </>
            )}
            <dt>Duration</dt>
            <dd>{runDuration(run, now)}</dd>
            {run.attempts > 1 && (
              <>
                <dt>Attempts</dt>
                <dd data-testid="run-attempts">{run.attempts}</dd>
              </>
            )}
            {run.dataset_manifest && (
              <>
                <dt>Dataset version</dt>
                <dd data-testid="run-dataset">
                  <DatasetVersionName uri={run.dataset_manifest} />
                </dd>
              </>
            )}
            <dt>Execution ARN</dt>
            <dd>{run.execution_arn ? <code data-testid="run-arn">{run.execution_arn}</code> : <span className="muted">none yet</span>}</dd>
            <dt>Request token</dt>
            <dd>
              <code>{run.client_request_token}</code>
            </dd>
          </dl>
          {run.console_url && (
            <p>
              <a
                href={run.console_url}
                target="_blank"
                rel="noreferrer"
                data-testid="run-console-link"
                onClick={(e) => {
                  // The shell opens it in the browser; a webview link would go nowhere.
                  e.preventDefault();
                  openConsole.mutate(run.id);
                }}
              >
                Open in the AWS console ↗
              </a>
              {openError && (
                <span className="problem" role="alert" data-testid="run-console-error">
                  {" "}
                  {openError}
                </span>
              )}
            </p>
          )}
          <h3>Parameters</h3>
          {run.params.length === 0 ? (
            <p className="muted">None.</p>
          ) : (
            <NameValueTable rows={run.params} testId="run-params" />
          )}
          <h3>Steps</h3>
          <Steps run={run} />
          <h3>Model</h3>
          <RunModel runId={run.id} started={run.execution_arn !== null} />
        </>
      )}
    </aside>
  );
}

/** "v3 of auto_…", with the manifest's URI. */
function DatasetVersionName({ uri }: { uri: string }) {
  const named = versionOfManifest(uri);
  return (
    <>
      {named && (
        <>
          <strong>{named.version}</strong> of <code>{named.automation}</code>:{" "}
        </>
      )}
      <code>{uri}</code>
    </>
  );
}
