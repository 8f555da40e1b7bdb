import { useState, type FormEvent } from "react";
import type { Source } from "../bindings.gen";
import { useRegisterHook } from "../api/retrainActions";
import { hookSentence } from "../api/runs";
import { useReceiverStatus } from "../api/engine";
import { errorMessage } from "../lib/errors";

/** Registers Loopline's webhook on a Label Studio project, so its annotations reach the rules. */
export function HookForm({ sources }: { sources: Source[] }) {
  const { data: receiver } = useReceiverStatus();
  const [sourceId, setSourceId] = useState("");
  const [project, setProject] = useState("");
  // Untouched, the URL follows the receiver's address (it may move); typed, it is the user's.
  const [typedUrl, setTypedUrl] = useState<string | null>(null);
  const register = useRegisterHook();
  const busy = register.isPending;
  const result = register.data ? hookSentence(register.data) : null;
  const error = register.error ? errorMessage(register.error) : null;

  const source = sources.find((s) => s.id === sourceId) ?? sources[0];
  const url = typedUrl ?? (receiver && receiver.state !== "stopped" ? `http://${receiver.listen}` : "");
  const ready = source !== undefined && /^\d+$/.test(project.trim()) && url.trim() !== "";

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!ready) return;
    register.mutate({ sourceId: source.id, projectId: Number(project.trim()), publicUrl: url.trim() });
  };

  return (
    <form className="hook-form" aria-labelledby="hook-form-title" data-testid="hook-form" onSubmit={submit}>
      <h2 id="hook-form-title">Register the webhook in Label Studio</h2>
      <p className="muted">
        Loopline adds (or updates) a webhook on the project that sends its annotation events here, with the source's token.
        The public URL is the address Label Studio reaches Loopline at: the receiver's, or a tunnel's.
      </p>
      <div className="inline-form">
        <div className="field">
          <label htmlFor="hook-source">Source</label>
          <select id="hook-source" data-testid="hook-source" value={source?.id ?? ""} disabled={sources.length === 0} onChange={(e) => setSourceId(e.target.value)}>
            {sources.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="hook-project">Project number</label>
          <input id="hook-project" data-testid="hook-project" className="short" inputMode="numeric" placeholder="7" autoComplete="off" value={project} onChange={(e) => setProject(e.target.value)} />
        </div>
        <div className="field grow">
          <label htmlFor="hook-url">Public URL</label>
          <input
            id="hook-url"
            data-testid="hook-url"
            className="mono"
            placeholder="https://abc.tunnel.example"
            autoComplete="off"
            spellCheck={false}
            value={url}
            onChange={(e) => setTypedUrl(e.target.value)}
          />
        </div>
        <div className="field">
          <button type="submit" data-testid="hook-register" disabled={busy || !ready}>
            {busy ? "Registering…" : "Register webhook"}
          </button>
        </div>
      </div>
      {result && (
        <p className="result" role="status" data-testid="hook-result">
          <span className="check ok" aria-hidden="true">
            ✓
          </span>{" "}
          {result}
        </p>
      )}
      {error && (
        <p className="problem" role="alert" data-testid="hook-error">
          {error}
        </p>
      )}
    </form>
  );
}
