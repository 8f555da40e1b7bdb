import { Fragment, useState, type KeyboardEvent } from "react";
import type { EventDetail as Detail } from "../bindings.gen";
import { useEventDetail } from "../api/timeline";
import { formatBytes, formatRelative } from "../lib/format";
import { EventActions } from "./EventActions";
import { JsonTree } from "./JsonTree";
import { StatusBadge } from "./StatusBadge";
import { NameValueTable } from "./NameValueTable";

type Tab = "summary" | "json" | "raw" | "headers";
const TABS: { tab: Tab; label: string }[] = [
  { tab: "summary", label: "Summary" },
  { tab: "json", label: "JSON" },
  { tab: "raw", label: "Raw" },
  { tab: "headers", label: "Headers" },
];

function EventLink({ id, onSelect }: { id: number; onSelect: (id: number) => void }) {
  return (
    <button type="button" className="link-button" onClick={() => onSelect(id)}>
      #{id}
    </button>
  );
}

function Summary({ detail, onSelect }: { detail: Detail; onSelect: (id: number) => void }) {
  const e = detail.event;
  return (
    <>
      <p className="event-sentence" data-testid="event-summary-text">
        {e.summary}
      </p>
      <dl className="facts">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={e.status} />
        </dd>
        <dt>Received</dt>
        <dd>
          <code>{e.received_at}</code> <span className="muted">({formatRelative(e.received_at_ms)})</span>
        </dd>
        <dt>Source</dt>
        <dd>
          {e.source_name ?? <span className="muted">removed source</span>} <code className="muted">{e.source_id}</code>
        </dd>
        <dt>Action</dt>
        <dd>{e.action ? <code>{e.action}</code> : <span className="muted">none</span>}</dd>
        {e.project_id !== null && (
          <>
            <dt>Project</dt>
            <dd>
              {e.project_name ?? "unnamed"} <span className="muted">#{e.project_id}</span>
            </dd>
          </>
        )}
        {detail.task_ids.length > 0 && (
          <>
            <dt>Tasks</dt>
            <dd>{detail.task_ids.join(", ")}</dd>
          </>
        )}
        {detail.annotation_ids.length > 0 && (
          <>
            <dt>Annotations</dt>
            <dd>{detail.annotation_ids.join(", ")}</dd>
          </>
        )}
        {e.duplicate_of !== null && (
          <>
            <dt>Duplicate of</dt>
            <dd data-testid="event-duplicate-of">
              <EventLink id={e.duplicate_of} onSelect={onSelect} />
            </dd>
          </>
        )}
        {e.replay_of !== null && (
          <>
            <dt>Replay of</dt>
            <dd data-testid="event-replay-of">
              <EventLink id={e.replay_of} onSelect={onSelect} />
            </dd>
          </>
        )}
        <dt>Replayed</dt>
        <dd>{detail.replay_count === 1 ? "once" : `${detail.replay_count} times`}</dd>
        <dt>Remote address</dt>
        <dd>{detail.remote_addr ? <code>{detail.remote_addr}</code> : <span className="muted">unknown</span>}</dd>
        <dt>Body</dt>
        <dd>{formatBytes(e.body_bytes)}</dd>
      </dl>
      {detail.redacted_paths.length > 0 && (
        <p className="note" data-testid="event-redacted-note">
          Secret fields are masked:{" "}
          {detail.redacted_paths.map((p, i) => (
            <Fragment key={p}>
              {i > 0 && ", "}
              <code>{p}</code>
            </Fragment>
          ))}
          .
        </p>
      )}
    </>
  );
}

function Body({ tab, detail, onSelect }: { tab: Tab; detail: Detail; onSelect: (id: number) => void }) {
  switch (tab) {
    case "summary":
      return <Summary detail={detail} onSelect={onSelect} />;
    case "json":
      return detail.body_json === null ? (
        <p className="muted">This body is not JSON. The Raw tab shows it as text.</p>
      ) : (
        <JsonTree value={detail.body_json} redactedPaths={detail.redacted_paths} />
      );
    case "raw":
      return (
        <>
          {detail.body_truncated && (
            <p className="note" data-testid="event-raw-truncated">
              This malformed body was stored only up to the size cap, so the end is missing.
            </p>
          )}
          <pre className="raw" data-testid="event-raw">
            {detail.body_text}
          </pre>
        </>
      );
    case "headers":
      return (
        <NameValueTable rows={detail.headers} testId="event-headers" />
      );
  }
}

/** The detail pane: one event's summary, payload, raw body and headers, plus its actions. */
export function EventDetail({
  id,
  onSelect,
  onClose,
  onDeleted,
}: {
  id: number;
  onSelect: (id: number) => void;
  onClose: () => void;
  onDeleted: (id: number) => void;
}) {
  const { data: detail, error, isPending } = useEventDetail(id);
  const [tab, setTab] = useState<Tab>("summary");

  const onTabKey = (e: KeyboardEvent) => {
    if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
    const i = TABS.findIndex((t) => t.tab === tab);
    const next = TABS[(i + (e.key === "ArrowRight" ? 1 : TABS.length - 1)) % TABS.length];
    if (next) {
      setTab(next.tab);
      document.getElementById(`detail-tab-${next.tab}`)?.focus();
    }
  };

  return (
    <aside className="detail" data-testid="event-detail" data-event-id={id} aria-labelledby="detail-title">
      <header className="detail-header">
        <h2 id="detail-title">Event #{id}</h2>
        <button type="button" className="link-button" aria-label="Close detail (Escape)" onClick={onClose}>
          Close
        </button>
      </header>
      {error && (
        <p className="problem" role="alert">
          {error.message}
        </p>
      )}
      {isPending && !error && <p className="muted">Loading…</p>}
      {detail && (
        <>
          <EventActions key={id} detail={detail} onSelect={onSelect} onDeleted={onDeleted} />
          <div role="tablist" aria-label="Event views" className="tabs" onKeyDown={onTabKey}>
            {TABS.map((t) => (
              <button
                key={t.tab}
                type="button"
                role="tab"
                id={`detail-tab-${t.tab}`}
                data-testid={`detail-tab-${t.tab}`}
                aria-selected={tab === t.tab}
                aria-controls="detail-panel"
                tabIndex={tab === t.tab ? 0 : -1}
                onClick={() => setTab(t.tab)}
              >
                {t.label}
              </button>
            ))}
          </div>
          <div className="detail-panel" id="detail-panel" role="tabpanel" aria-labelledby={`detail-tab-${tab}`}>
            <Body tab={tab} detail={detail} onSelect={onSelect} />
          </div>
        </>
      )}
    </aside>
  );
}
