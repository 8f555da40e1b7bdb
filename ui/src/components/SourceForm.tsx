import { useState, type FormEvent } from "react";
import type { CreatedSource, SourceKind } from "../bindings.gen";
import { useAddSource } from "../api/sourceActions";
import { KIND_LABEL } from "../api/sources";
import { errorMessage } from "../lib/errors";

const KINDS: SourceKind[] = ["label-studio", "aquarium", "generic"];

/** Adds a source; the secret for Aquarium is pasted here and never kept in React state after. */
export function SourceForm({ onCreated }: { onCreated: (created: CreatedSource) => void }) {
  const [kind, setKind] = useState<SourceKind>("label-studio");
  const [name, setName] = useState("");
  const [secret, setSecret] = useState("");
  // Aquarium sends its secret only when the organisation set one.
  const [noSecret, setNoSecret] = useState(false);
  const add = useAddSource({
    onSuccess: (created) => {
      setName("");
      setSecret("");
      onCreated(created);
    },
  });
  const busy = add.isPending;
  const error = add.error ? errorMessage(add.error) : null;

  const needsSecret = kind === "aquarium" && !noSecret;
  const ready = name.trim() !== "" && (!needsSecret || secret.trim() !== "");

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!ready) return;
    const open = kind === "aquarium" && noSecret;
    add.mutate({ kind, name: name.trim(), secret: needsSecret ? secret.trim() : null, ...(open ? { noSecret: true } : {}) });
  };

  return (
    <form className="source-form" aria-labelledby="add-source-title" onSubmit={submit}>
      <h2 id="add-source-title">Add source</h2>
      <div className="field">
        <label htmlFor="source-kind">Kind</label>
        <select id="source-kind" data-testid="source-add-kind" value={kind} onChange={(e) => setKind(e.target.value as SourceKind)}>
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {KIND_LABEL[k]}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="source-name">Name</label>
        <input
          id="source-name"
          data-testid="source-add-name"
          value={name}
          placeholder="Bird parts project"
          autoComplete="off"
          onChange={(e) => setName(e.target.value)}
        />
      </div>
      {needsSecret && (
        <div className="field">
          <label htmlFor="source-secret">Shared secret from Aquarium</label>
          <input
            id="source-secret"
            type="password"
            data-testid="source-add-secret"
            value={secret}
            autoComplete="off"
            onChange={(e) => setSecret(e.target.value)}
          />
        </div>
      )}
      {kind === "aquarium" && (
        <div className="field">
          <label>
            <input type="checkbox" data-testid="source-add-no-secret" checked={noSecret} onChange={(e) => setNoSecret(e.target.checked)} />{" "}
            My Aquarium organisation has no webhook secret (accept deliveries without one)
          </label>
          {noSecret && (
            <p className="muted small">Anyone who learns this source's URL can post to it. Set a secret in Aquarium and rotate it in here to require it.</p>
          )}
        </div>
      )}
      <div className="field">
        <button type="submit" data-testid="source-add-submit" disabled={busy || !ready}>
          {busy ? "Adding…" : "Add source"}
        </button>
      </div>
      {error && (
        <p className="problem" role="alert" data-testid="source-add-error">
          {error}
        </p>
      )}
    </form>
  );
}
