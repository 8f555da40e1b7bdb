import { useState } from "react";
import type { EventDetail } from "../bindings.gen";
import { useCopyCurl, useDeleteEvent, useReplayEdited, useReplayEvent } from "../api/eventActions";
import { errorMessage } from "../lib/errors";
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
  const toast = useToast();
  const [mode, setMode] = useState<Mode>("idle");
  // A problem found before anything is sent (the edited body is not JSON).
  const [invalid, setInvalid] = useState<string | null>(null);
  const [draft, setDraft] = useState("");

  const copy = useCopyCurl({ onSuccess: () => toast("Copied the curl command") });
  const replay = useReplayEvent({ onSuccess: (outcome) => toast(outcome.message, "ok") });
  const replayEdited = useReplayEdited({
    onSuccess: (outcome) => {
      toast(outcome.message, "ok");
      setMode("idle");
      onSelect(outcome.event_id);
    },
  });
  const remove = useDeleteEvent({
    onSuccess: (_, deleted) => {
      onDeleted(deleted);
      toast(`Event #${deleted} deleted`);
    },
  });
  const actions = [copy, replay, replayEdited, remove];
  const busy = actions.some((a) => a.isPending);
  const failed = actions.find((a) => a.error !== null)?.error;
  const error = invalid ?? (failed ? errorMessage(failed) : null);

  /** One line of outcome for the whole pane: starting an action clears the last one's error. */
  const clearErrors = () => {
    setInvalid(null);
    actions.forEach((a) => a.reset());
  };

  const start = (action: () => void) => {
    clearErrors();
    action();
  };

  const startEdit = () => {
    setDraft(initialBody(detail));
    clearErrors();
    setMode("edit");
  };

  const submitEdit = () => {
    clearErrors();
    try {
      JSON.parse(draft);
    } catch (e) {
      setInvalid(`The body is not valid JSON (${e instanceof Error ? e.message : String(e)}). Fix it and replay again.`);
      return;
    }
    replayEdited.mutate({ id, body: draft });
  };

  return (
    <div className="event-actions">
      <div className="toolbar">
        <button type="button" data-testid="event-copy-curl" disabled={busy} onClick={() => start(() => copy.mutate(detail.curl))}>
          Copy as curl
        </button>
        <button type="button" data-testid="event-replay" disabled={busy} onClick={() => start(() => replay.mutate(id))}>
          Replay
        </button>
        <button type="button" data-testid="event-edit-replay" disabled={busy || mode === "edit"} onClick={startEdit}>
          Edit and replay
        </button>
        {mode === "confirm-delete" ? (
          <span className="confirm">
            Delete event #{id}?{" "}
            <button type="button" className="danger" data-testid="event-delete-confirm" disabled={busy} onClick={() => start(() => remove.mutate(id))}>
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
