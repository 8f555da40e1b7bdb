import { useAppInfo } from "../api/engine";
import { useCopyDiagnostics } from "../api/diagnostics";
import { errorMessage } from "../lib/errors";

/** Settings › About: which build this is and where its files are, and the report a bug
 * report needs (`loopline info` and `loopline diagnostics` print the same). */
export function AboutSection() {
  const { data: info, error } = useAppInfo();
  const copy = useCopyDiagnostics();
  const done = copy.data;

  return (
    <>
      <h2>About</h2>
      {error && <p className="problem">{errorMessage(error)}</p>}
      {info && (
        <dl className="facts" data-testid="about">
          <dt>Version</dt>
          <dd data-testid="about-version">
            {info.version} <span className="muted">(commit <code>{info.commit}</code>)</span>
          </dd>
          <dt>Data folder</dt>
          <dd>
            <code>{info.data_dir}</code>
          </dd>
          <dt>Database schema</dt>
          <dd>version {info.schema_version}</dd>
          <dt>Log file</dt>
          <dd data-testid="about-log">
            <code>{info.log_file ?? info.log_dir}</code>
          </dd>
        </dl>
      )}
      <div className="form-row">
        <button type="button" onClick={() => copy.mutate()} disabled={copy.isPending} data-testid="about-copy">
          {copy.isPending ? "Collecting…" : "Copy diagnostics"}
        </button>
      </div>
      <p className="muted">
        Version, folders, setup status and the last 200 log lines, with every secret masked. Paste it into a bug
        report.
      </p>
      {copy.error && (
        <p className="problem" role="alert">
          {errorMessage(copy.error)}
        </p>
      )}
      {done?.copied && (
        <p role="status" data-testid="about-copied">
          Copied ({done.masked} secret {done.masked === 1 ? "value" : "values"} masked).
        </p>
      )}
      {done && !done.copied && (
        <>
          <p role="status">The clipboard was not available. Select the report below and copy it.</p>
          <textarea
            readOnly
            rows={10}
            className="mono"
            aria-label="Diagnostics report"
            data-testid="about-report"
            value={done.report}
            onFocus={(e) => e.currentTarget.select()}
          />
        </>
      )}
    </>
  );
}
