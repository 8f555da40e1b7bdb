import { useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import type { CreatedSource, Source } from "../bindings.gen";
import { call } from "../api/ipc";
import { GRACE_OPTIONS, KIND_LABEL, sourcesKey } from "../api/sources";
import { statsKey } from "../api/timeline";
import { errorMessage } from "../lib/errors";
import { formatDateTime, formatCount } from "../lib/format";
import { useToast } from "./Toasts";

type Mode = "idle" | "rotate" | "confirm-remove";

/** One source: what it is, where it receives, and its actions. */
export function SourceRow({ source, onRotated }: { source: Source; onRotated: (created: CreatedSource) => void }) {
  const client = useQueryClient();
  const toast = useToast();
  const [mode, setMode] = useState<Mode>("idle");
  const [grace, setGrace] = useState(3600);
  const [secret, setSecret] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const aquarium = source.kind === "aquarium";

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const sendTest = () =>
    run(async () => {
      const id = await call("source_send_test", { id: source.id });
      toast(`Test event #${id} received`, "ok");
      void client.invalidateQueries({ queryKey: sourcesKey });
      void client.invalidateQueries({ queryKey: statsKey });
    });

  const rotate = () =>
    run(async () => {
      const created = await call("source_rotate", {
        id: source.id,
        grace,
        secret: aquarium ? secret.trim() : null,
      });
      setSecret("");
      setMode("idle");
      onRotated(created);
      void client.invalidateQueries({ queryKey: sourcesKey });
    });

  const remove = () =>
    run(async () => {
      await call("source_remove", { id: source.id });
      toast(`Removed “${source.name}”`);
      await client.invalidateQueries({ queryKey: sourcesKey });
    });

  return (
    <li className="source-row" data-testid="source-row" data-source-id={source.id}>
      <div className="source-head">
        <strong>{source.name}</strong>
        <span className="tag">{KIND_LABEL[source.kind]}</span>
        <span className="muted">
          {formatCount(source.event_count)} {source.event_count === 1 ? "event" : "events"}
          {source.last_event_at && <>, last {formatDateTime(source.last_event_at)}</>}
        </span>
      </div>
      <dl className="facts">
        <dt>Hook path</dt>
        <dd>
          <code>{source.hook_path}</code>
        </dd>
        <dt>Header</dt>
        <dd>
          <code>{source.header_name}</code>
        </dd>
        <dt>Created</dt>
        <dd>{formatDateTime(source.created_at)}</dd>
      </dl>
      {source.previous_secret_valid_until && (
        <p className="note" data-testid="source-grace">
          Previous secret accepted until {formatDateTime(source.previous_secret_valid_until)}.
        </p>
      )}
      <div className="toolbar">
        <button type="button" data-testid="source-send-test" disabled={busy} onClick={() => void sendTest()}>
          Send test event
        </button>
        <button type="button" data-testid="source-rotate" disabled={busy || mode === "rotate"} onClick={() => setMode("rotate")}>
          Rotate {aquarium ? "secret" : "token"}
        </button>
        {mode === "confirm-remove" ? (
          <span className="confirm">
            Remove “{source.name}”? Its URL stops accepting webhooks; stored events stay.{" "}
            <button type="button" className="danger" data-testid="source-remove-confirm" disabled={busy} onClick={() => void remove()}>
              Remove
            </button>
            <button type="button" disabled={busy} onClick={() => setMode("idle")}>
              Cancel
            </button>
          </span>
        ) : (
          <button type="button" data-testid="source-remove" disabled={busy} onClick={() => setMode("confirm-remove")}>
            Remove
          </button>
        )}
      </div>
      {mode === "rotate" && (
        <form
          className="rotate-form"
          onSubmit={(e) => {
            e.preventDefault();
            void rotate();
          }}
        >
          <label htmlFor={`grace-${source.id}`}>Keep accepting the old {aquarium ? "secret" : "token"} for</label>
          <select
            id={`grace-${source.id}`}
            data-testid="source-rotate-grace"
            value={grace}
            onChange={(e) => setGrace(Number(e.target.value))}
          >
            {GRACE_OPTIONS.map((g) => (
              <option key={g.seconds} value={g.seconds}>
                {g.label}
              </option>
            ))}
          </select>
          {aquarium && (
            <>
              <label htmlFor={`rotate-secret-${source.id}`}>New shared secret from Aquarium</label>
              <input
                id={`rotate-secret-${source.id}`}
                type="password"
                data-testid="source-rotate-secret"
                value={secret}
                autoComplete="off"
                onChange={(e) => setSecret(e.target.value)}
              />
            </>
          )}
          <button type="submit" data-testid="source-rotate-confirm" disabled={busy || (aquarium && secret.trim() === "")}>
            Rotate
          </button>
          <button type="button" disabled={busy} onClick={() => setMode("idle")}>
            Cancel
          </button>
        </form>
      )}
      {error && (
        <p className="problem" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}
