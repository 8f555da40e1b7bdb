import { useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import type { CreatedSource, SourceKind } from "../bindings.gen";
import { call } from "../api/ipc";
import { KIND_LABEL, sourcesKey } from "../api/sources";
import { errorMessage } from "../lib/errors";

const KINDS: SourceKind[] = ["label-studio", "aquarium", "generic"];

/** Adds a source; the secret for Aquarium is pasted here and never kept in React state after. */
export function SourceForm({ onCreated }: { onCreated: (created: CreatedSource) => void }) {
  const client = useQueryClient();
  const [kind, setKind] = useState<SourceKind>("label-studio");
  const [name, setName] = useState("");
  const [secret, setSecret] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const needsSecret = kind === "aquarium";
  const ready = name.trim() !== "" && (!needsSecret || secret.trim() !== "");

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!ready) return;
    setBusy(true);
    setError(null);
    try {
      const created = await call("source_add", {
        kind,
        name: name.trim(),
        secret: needsSecret ? secret.trim() : null,
      });
      setName("");
      setSecret("");
      onCreated(created);
      void client.invalidateQueries({ queryKey: sourcesKey });
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="source-form" aria-labelledby="add-source-title" onSubmit={(e) => void submit(e)}>
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
