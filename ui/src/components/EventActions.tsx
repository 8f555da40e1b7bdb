import { useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import type { EventDetail } from "../bindings.gen";
import { call } from "../api/ipc";
import { dropEvent, eventKey, statsKey } from "../api/timeline";
import { copyText, errorMessage } from "../lib/errors";
import { useToast } from "./Toasts";

type Mode = "idle" | "edit" | "confirm-delete";

function initialBody(detail: EventDetail): string {
  return detail.body_json === null ? detail.body_text : JSON.stringify(detail.body_json, null, 2);
}

/** Copy as curl, replay, edit and replay, delete: each reports its outcome in words. */
export function EventActions({
  detail,
  onSelect,
  onDeleted,
}: {
  detail: EventDetail;
  onSelect: (id: number) => void;
  onDeleted: (id: number) => void;
}) {
  const id = detail.event.id;
  const client = useQueryClient();
  const toast = useToast();
  const [mode, setMode] = useState<Mode>("idle");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [draft, setDraft] = useState("");

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

  const copyCurl = () =>
    run(async () => {
      await copyText(detail.curl);
      toast("Copied the curl command");
    });

  const replay = () =>
    run(async () => {
      const outcome = await call("event_replay", { id });
      toast(outcome.message, "ok");
      void client.invalidateQueries({ queryKey: eventKey(id) });
    });

  const startEdit = () => {
    setDraft(initialBody(detail));
    setError(null);
    setMode("edit");
  };

  const submitEdit = () => {
    try {
      JSON.parse(draft);
    } catch (e) {
      setError(`The body is not valid JSON (${e instanceof Error ? e.message : String(e)}). Fix it and replay again.`);
      return;
    }
    void run(async () => {
      const outcome = await call("event_replay_edited", { id, body: draft });
      toast(outcome.message, "ok");
      setMode("idle");
      void client.invalidateQueries({ queryKey: eventKey(id) });
      onSelect(outcome.event_id);
    });
  };

  const remove = () =>
    run(async () => {
      await call("event_delete", { id });
      onDeleted(id);
      dropEvent(client, id);
      client.removeQueries({ queryKey: eventKey(id) });
      void client.invalidateQueries({ queryKey: statsKey });
      toast(`Event #${id} deleted`);
    });

  return (
    <div className="event-actions">
      <div className="toolbar">
        <button type="button" data-testid="event-copy-curl" disabled={busy} onClick={() => void copyCurl()}>
          Copy as curl
        </button>
        <button type="button" data-testid="event-replay" disabled={busy} onClick={() => void replay()}>
          Replay
        </button>
        <button type="button" data-testid="event-edit-replay" disabled={busy || mode === "edit"} onClick={startEdit}>
          Edit and replay
        </button>
        {mode === "confirm-delete" ? (
          <span className="confirm">
            Delete event #{id}?{" "}
            <button type="button" className="danger" data-testid="event-delete-confirm" disabled={busy} onClick={() => void remove()}>
              Delete
            </button>
            <button type="button" disabled={busy} onClick={() => setMode("idle")}>
              Cancel
            </button>
          </span>
        ) : (
          <button type="button" data-testid="event-delete" disabled={busy} onClick={() => setMode("confirm-delete")}>
            Delete
          </button>
        )}
      </div>
      {mode === "edit" && (
        <form
          className="edit-body"
          onSubmit={(e) => {
            e.preventDefault();
            submitEdit();
          }}
        >
          <label htmlFor={`edit-body-${id}`}>Body to send as a new event</label>
          <textarea
            id={`edit-body-${id}`}
            data-testid="event-edit-body"
            value={draft}
            spellCheck={false}
            rows={14}
            onChange={(e) => setDraft(e.target.value)}
          />
          <div className="toolbar">
            <button type="submit" data-testid="event-edit-submit" disabled={busy}>
              Replay edited body
            </button>
            <button type="button" disabled={busy} onClick={() => setMode("idle")}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {error && (
        <p className="problem" role="alert" data-testid="event-action-error">
          {error}
        </p>
      )}
    </div>
  );
}
