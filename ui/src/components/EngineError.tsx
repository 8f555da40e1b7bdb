import { useState, type FormEvent } from "react";
import type { ApiError } from "../bindings.gen";
import { useReopenEngine } from "../api/engine";
import { errorMessage } from "../lib/errors";

/** Shown instead of every page when the engine could not open its data directory: why, and
 * two ways on without restarting: try again once it is fixed, or use another folder. */
export function EngineError({ error }: { error: ApiError }) {
  const reopen = useReopenEngine();
  const [dir, setDir] = useState("");
  const busy = reopen.isPending;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (dir.trim()) reopen.mutate({ dataDir: dir.trim() });
  };
  return (
    <section className="page" data-testid="engine-error">
      <h1>Loopline could not start</h1>
      <p className="problem" role="alert">
        {error.message}
      </p>
      <p className="muted">
        Error code <code>{error.code}</code>. Fix what it says, then try again; nothing needs a restart.
      </p>
      <p>
        <button type="button" data-testid="engine-retry" disabled={busy} onClick={() => reopen.mutate(null)}>
          {busy ? "Opening…" : "Try again"}
        </button>
      </p>
      <form className="inline-field" onSubmit={submit} aria-label="Use another data folder">
        <label htmlFor="engine-data-dir">Or keep Loopline's data in another folder</label>
        <input
          id="engine-data-dir"
          data-testid="engine-data-dir"
          className="mono engine-data-dir"
          placeholder="/home/you/loopline-data"
          spellCheck={false}
          autoComplete="off"
          value={dir}
          onChange={(e) => setDir(e.target.value)}
        />
        <button type="submit" data-testid="engine-open-dir" disabled={busy || dir.trim() === ""}>
          Use this folder
        </button>
      </form>
      <p className="muted">
        The folder is used until Loopline quits. To keep using it, start Loopline with <code>--data-dir DIR</code> (or set <code>LOOPLINE_DATA_DIR</code>).
      </p>
      {reopen.error && (
        <p className="problem" role="alert" data-testid="engine-reopen-error">
          {errorMessage(reopen.error)}
        </p>
      )}
    </section>
  );
}
