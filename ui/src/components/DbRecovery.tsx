import type { ApiError } from "../bindings.gen";
import { useDbCheck, useRestoreBackup } from "../api/database";
import { errorMessage } from "../lib/errors";
import { formatBytes, formatDateTime, formatRelative } from "../lib/format";
import { useToast } from "./Toasts";

/**
 * Shown instead of every page when the database failed its check: what happened, what a
 * restore brings back and what it loses, and the button that restores the newest good backup
 * (the same as `loopline db restore`). The engine then starts on the restored file.
 */
export function DbRecovery({ error }: { error: ApiError }) {
  const check = useDbCheck();
  const toast = useToast();
  // Told from the mutation itself: this screen is gone by the time the pages reload.
  const restore = useRestoreBackup((done) =>
    toast(`Restored the backup from ${formatDateTime(done.restored_from.taken_at)}. Events received after it are not in the timeline.`, "ok"),
  );
  const newest = check.data?.backups.find((b) => b.good);
  const problems = check.data?.problems ?? [];

  return (
    <section className="page db-recovery" data-testid="db-recovery" aria-labelledby="db-recovery-title">
      <header className="page-header">
        <h1 id="db-recovery-title">Loopline's database is damaged</h1>
      </header>
      <p>
        Loopline checks its database each time it starts, and this time SQLite found parts of the file it cannot read (a disk fault, a crash during a
        copy, or a sync tool writing over it). Until the file is replaced, nothing can be received or shown.
      </p>
      <details>
        <summary>What SQLite reported</summary>
        <p className="problem" role="alert">
          {error.message}
        </p>
        {problems.length > 0 && (
          <ul className="mono">
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        )}
      </details>

      {check.isPending && <p className="muted">Looking for backups…</p>}
      {check.isError && <p className="problem">{errorMessage(check.error)}</p>}
      {check.data && !newest && (
        <p data-testid="db-recovery-none">
          There is no good backup to restore. Quit Loopline, move <code>{check.data.db_path}</code> aside (keep it: it may still be recoverable with
          SQLite's tools), and start Loopline again with an empty database.
        </p>
      )}
      {newest && (
        <>
          <h2>Restore the newest good backup</h2>
          <p data-testid="db-recovery-backup" data-taken-at={newest.taken_at}>
            The backup from <strong>{formatDateTime(newest.taken_at)}</strong> ({formatRelative(newest.taken_at_ms)}, {formatBytes(newest.size_bytes)})
            passed its check. Restoring it brings back your sources, rules, runs and events up to that time. Events received after it are lost; the
            damaged file is kept beside the database, never deleted.
          </p>
          <div className="form-actions">
            <button type="button" className="primary" data-testid="db-restore" disabled={restore.isPending} onClick={() => restore.mutate()}>
              {restore.isPending ? "Restoring…" : "Restore backup"}
            </button>
          </div>
          {restore.isError && (
            <p className="problem" role="alert" data-testid="db-recovery-error">
              {errorMessage(restore.error)}
            </p>
          )}
        </>
      )}
      <p className="muted">
        From a terminal: <code>loopline db check</code> and <code>loopline db restore</code>. Error code <code>{error.code}</code>.
      </p>
    </section>
  );
}
