import { useEffect, useMemo, useRef, useState } from "react";
import { useNavigate, useParams } from "@tanstack/react-router";
import { EmptyState } from "../components/EmptyState";
import { EventDetail } from "../components/EventDetail";
import { EMPTY_DRAFT, TimelineFilters, type FilterDraft } from "../components/TimelineFilters";
import { TimelineList, type TimelineListHandle } from "../components/TimelineList";
import { useReceiverStatus } from "../api/engine";
import { useSources } from "../api/sources";
import { hasFilters, useEvents, useTimelineLive, useTimelineStats, type Filters } from "../api/timeline";
import { formatBytes, formatCount } from "../lib/format";
import { useDebounced } from "../lib/useDebounced";

const SEARCH_DEBOUNCE_MS = 250;

function toFilters(draft: FilterDraft, text: [string, string, string]): Filters {
  const [search, action, project] = text;
  const projectId = /^\d+$/.test(project.trim()) ? Number(project.trim()) : null;
  return {
    source_id: draft.source_id || null,
    action: action.trim() || null,
    status: draft.status || null,
    project_id: projectId,
    search: search.trim() || null,
  };
}

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

export function TimelinePage() {
  const navigate = useNavigate();
  // The open event lives in the address (/timeline/42), so a reload or the back button keeps it.
  const openId = useParams({ strict: false }).eventId ?? null;
  const { data: status } = useReceiverStatus();
  const { data: stats } = useTimelineStats();
  const { data: sources = [] } = useSources();
  const [draft, setDraft] = useState<FilterDraft>(EMPTY_DRAFT);
  const textKey = useDebounced(JSON.stringify([draft.search, draft.action, draft.project]), SEARCH_DEBOUNCE_MS);
  const filters = useMemo(() => toFilters(draft, JSON.parse(textKey) as [string, string, string]), [draft, textKey]);
  const query = useEvents(filters);
  useTimelineLive(filters);

  const events = useMemo(() => query.data?.pages.flatMap((p) => p.events) ?? [], [query.data]);
  // The highlighted row (j/k move it). It follows the open event, however that was opened
  // (a click, a link, Back), so closing the detail leaves the last open event highlighted.
  const [cursorId, setCursorId] = useState<number | null>(openId);
  if (openId !== null && openId !== cursorId) setCursorId(openId);
  const selectedId = openId ?? cursorId;
  const detailOpen = openId !== null;
  const listRef = useRef<TimelineListHandle>(null);
  const searchRef = useRef<HTMLInputElement>(null);

  /** Opens an event's detail; `replace` for moves that should not each cost a press of Back. */
  const open = (id: number, replace = false) => {
    if (id !== openId) void navigate({ to: "/timeline/$eventId", params: { eventId: id }, replace, resetScroll: false });
  };

  const close = () => {
    void navigate({ to: "/timeline", resetScroll: false });
  };

  // Bring the selection into view once the list has it: after j/k, and for a deep link once
  // the first page arrives. An event beyond the loaded pages is still shown (event_show).
  const scrolledTo = useRef<number | null>(null);
  useEffect(() => {
    if (selectedId === null || selectedId === scrolledTo.current || events.length === 0) return;
    scrolledTo.current = selectedId;
    const index = events.findIndex((e) => e.id === selectedId);
    if (index >= 0) listRef.current?.scrollToIndex(index);
  }, [selectedId, events]);

  const move = (delta: number) => {
    if (events.length === 0) return;
    const at = events.findIndex((e) => e.id === selectedId);
    const next = at < 0 ? 0 : Math.min(Math.max(at + delta, 0), events.length - 1);
    const event = events[next];
    if (!event) return;
    if (next >= events.length - 5 && query.hasNextPage && !query.isFetchingNextPage) void query.fetchNextPage();
    // With the detail open, j/k walk the events in place rather than through the history.
    if (detailOpen) open(event.id, true);
    else setCursorId(event.id);
  };

  // The deleted event's address is dead, so the next one replaces it in the history.
  const onDeleted = (id: number) => {
    const at = events.findIndex((e) => e.id === id);
    const next = events[at + 1] ?? events[at - 1];
    if (next && at >= 0) open(next.id, true);
    else {
      setCursorId(null);
      void navigate({ to: "/timeline", replace: true, resetScroll: false });
    }
  };

  // Keyboard: j/k move, / searches, Enter opens, Escape closes; never while typing.
  const onKey = useRef<(e: KeyboardEvent) => void>(() => {});
  useEffect(() => {
    onKey.current = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
      const onControl = e.target instanceof HTMLElement && e.target.closest("button, a, [role=tab]") !== null;
      if (e.key === "j" || e.key === "k") {
        e.preventDefault();
        move(e.key === "j" ? 1 : -1);
      } else if (e.key === "/") {
        e.preventDefault();
        searchRef.current?.focus();
      } else if (e.key === "Enter" && !onControl && selectedId !== null) {
        e.preventDefault();
        open(selectedId);
      } else if (e.key === "Escape" && detailOpen) {
        e.preventDefault();
        close();
      }
    };
  });
  useEffect(() => {
    const handler = (e: KeyboardEvent) => onKey.current(e);
    window.addEventListener("keydown", handler);
    return () => window.removeEventListener("keydown", handler);
  }, []);

  const filtered = hasFilters(filters) || draft.search !== "" || draft.action !== "" || draft.project !== "";
  const noEventsAtAll = events.length === 0 && (!filtered || stats?.total_events === 0);

  let body;
  if (query.isPending) {
    body = <p className="muted pad">Loading events…</p>;
  } else if (query.error && events.length === 0) {
    body = (
      <div className="pad">
        <p className="problem" role="alert">
          {query.error.message}
        </p>
        <button type="button" onClick={() => void query.refetch()}>
          Try again
        </button>
      </div>
    );
  } else if (noEventsAtAll) {
    body = (
      <EmptyState title="No events yet" testId="timeline-empty">
        <p>
          Every webhook Loopline receives appears here, newest first, stored before it is acknowledged.
          {status?.state === "running" && (
            <>
              {" "}
              The receiver is listening on <code>{status.listen}</code>.
            </>
          )}
        </p>
        <p>
          <button type="button" className="link-button" data-testid="timeline-empty-sources" onClick={() => void navigate({ to: "/sources" })}>
            Add a source, then send a test event →
          </button>
        </p>
      </EmptyState>
    );
  } else if (events.length === 0) {
    body = (
      <EmptyState title="No events match these filters" testId="timeline-empty">
        <p>
          <button type="button" className="link-button" data-testid="timeline-clear-filters" onClick={() => setDraft(EMPTY_DRAFT)}>
            Clear filters
          </button>
        </p>
      </EmptyState>
    );
  } else {
    body = (
      <TimelineList
        handle={listRef}
        events={events}
        selectedId={selectedId}
        onRowClick={(id) => open(id)}
        hasNextPage={query.hasNextPage}
        isFetchingNextPage={query.isFetchingNextPage}
        fetchNextPage={() => void query.fetchNextPage()}
      />
    );
  }

  return (
    <section className="timeline-page" aria-labelledby="timeline-title">
      <header className="timeline-header">
        <h1 id="timeline-title">Timeline</h1>
        {stats && (
          <span className="muted" data-testid="timeline-count" title="All stored events, and the database's size on disk">
            {formatCount(stats.total_events)} {stats.total_events === 1 ? "event" : "events"} · {formatBytes(stats.db_size_bytes)}
          </span>
        )}
        <span className="muted keys" aria-hidden="true">
          <kbd>j</kbd>/<kbd>k</kbd> move · <kbd>Enter</kbd> open · <kbd>/</kbd> search
        </span>
      </header>
      <TimelineFilters draft={draft} onChange={setDraft} sources={sources} searchRef={searchRef} />
      <div className={`timeline-body${openId !== null ? " with-detail" : ""}`}>
        <div className="timeline-list-pane">{body}</div>
        {openId !== null && <EventDetail id={openId} onSelect={open} onClose={close} onDeleted={onDeleted} />}
      </div>
    </section>
  );
}
