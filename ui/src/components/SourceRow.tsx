import { useState } from "react";
import type { CreatedSource, Source } from "../bindings.gen";
import { useRemoveSource, useRotateSource, useSendTestEvent } from "../api/sourceActions";
import { GRACE_OPTIONS, KIND_LABEL } from "../api/sources";
import { errorMessage } from "../lib/errors";
import { formatDateTime, formatCount } from "../lib/format";
import { useToast } from "./Toasts";

type Mode = "idle" | "rotate" | "confirm-remove";

/** One source: what it is, where it receives, and its actions. */
export function SourceRow({ source, onRotated }: { source: Source; onRotated: (created: CreatedSource) => void }) {
  const toast = useToast();
  const [mode, setMode] = useState<Mode>("idle");
  const [grace, setGrace] = useState(3600);
  const [secret, setSecret] = useState("");
  const aquarium = source.kind === "aquarium";

  const sendTest = useSendTestEvent({ onSuccess: (id) => toast(`Test event #${id} received`, "ok") });
  const rotate = useRotateSource({
    onSuccess: (created) => {
      setSecret("");
      setMode("idle");
      onRotated(created);
    },
  });
  const remove = useRemoveSource({ onSuccess: () => toast(`Removed “${source.name}”`) });
  const actions = [sendTest, rotate, remove];
  const busy = actions.some((a) => a.isPending);
  const failed = actions.find((a) => a.error !== null)?.error;
  const error = failed ? errorMessage(failed) : null;

  /** One line of outcome for the row: starting an action clears the last one's error. */
  const start = (action: () => void) => {
    actions.forEach((a) => a.reset());
    action();
  };

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
        <button type="button" data-testid="source-send-test" disabled={busy} onClick={() => start(() => sendTest.mutate(source.id))}>
          Send test event
        </button>
        <button type="button" data-testid="source-rotate" disabled={busy || mode === "rotate"} onClick={() => setMode("rotate")}>
          Rotate {aquarium ? "secret" : "token"}
        </button>
        {mode === "confirm-remove" ? (
          <span className="confirm">
            Remove “{source.name}”? Its URL stops accepting webhooks; stored events stay.{" "}
            <button type="button" className="danger" data-testid="source-remove-confirm" disabled={busy} onClick={() => start(() => remove.mutate(source.id))}>
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
            start(() => rotate.mutate({ id: source.id, grace, secret: aquarium ? secret.trim() : null }));
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
