import { useEffect, useImperativeHandle, useLayoutEffect, useRef, type Ref } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";
import type { EventSummary } from "../bindings.gen";
import { formatShortTime } from "../lib/format";
import { StatusBadge } from "./StatusBadge";

export const ROW_HEIGHT = 30;
/** Start loading the next page when the last rendered row is this close to the end. */
const PREFETCH_ROWS = 30;

export type TimelineListHandle = { scrollToIndex: (index: number) => void };

function Row({ event, selected, onClick }: { event: EventSummary; selected: boolean; onClick: () => void }) {
  return (
    <div
      role="option"
      id={`event-row-${event.id}`}
      className="row"
      data-testid="timeline-row"
      data-event-id={event.id}
      data-status={event.status}
      aria-selected={selected}
      onClick={onClick}
    >
      <time className="cell-time" dateTime={event.received_at} title={event.received_at}>
        {formatShortTime(event.received_at_ms)}
      </time>
      <span className="cell-source" title={event.source_id}>
        {event.source_name ?? event.source_id}
      </span>
      <code className="cell-action">{event.action ?? "—"}</code>
      <span className="cell-project">
        {event.project_name ?? (event.project_id !== null ? `#${event.project_id}` : "—")}
      </span>
      <span className="cell-summary">{event.summary}</span>
      <span className="cell-status">
        <StatusBadge status={event.status} />
      </span>
    </div>
  );
}

/** The virtualized event list: only the rows on screen exist in the DOM, however many are loaded. */
export function TimelineList({
  events,
  selectedId,
  onRowClick,
  hasNextPage,
  isFetchingNextPage,
  fetchNextPage,
  handle,
}: {
  events: EventSummary[];
  selectedId: number | null;
  onRowClick: (id: number) => void;
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => void;
  handle?: Ref<TimelineListHandle>;
}) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const count = events.length + (hasNextPage ? 1 : 0);
  // eslint-disable-next-line react-hooks/incompatible-library -- TanStack Virtual returns fresh functions by design
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    getItemKey: (i) => events[i]?.id ?? "more",
  });

  useImperativeHandle(handle, () => ({ scrollToIndex: (i) => virtualizer.scrollToIndex(i, { align: "auto" }) }), [virtualizer]);

  // Keep the rows the user is reading in place when newer events are prepended above them.
  const firstId = events[0]?.id;
  const prevFirst = useRef(firstId);
  useLayoutEffect(() => {
    const before = prevFirst.current;
    prevFirst.current = firstId;
    const el = scrollRef.current;
    if (before === undefined || before === firstId || !el || el.scrollTop <= 0) return;
    const shift = events.findIndex((e) => e.id === before);
    if (shift > 0) el.scrollTop += shift * ROW_HEIGHT;
  }, [firstId, events]);

  const items = virtualizer.getVirtualItems();
  const lastIndex = items[items.length - 1]?.index ?? -1;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && lastIndex >= events.length - PREFETCH_ROWS) fetchNextPage();
  }, [lastIndex, events.length, hasNextPage, isFetchingNextPage, fetchNextPage]);

  return (
    <div
      ref={scrollRef}
      className="timeline-scroll"
      data-testid="timeline-list"
      role="listbox"
      aria-label="Events, newest first"
      aria-activedescendant={selectedId !== null ? `event-row-${selectedId}` : undefined}
      tabIndex={0}
    >
      <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
        {items.map((item) => {
          const event = events[item.index];
          return (
            <div
              key={item.key}
              className="row-slot"
              style={{ position: "absolute", top: 0, left: 0, right: 0, height: ROW_HEIGHT, transform: `translateY(${item.start}px)` }}
            >
              {event ? (
                <Row event={event} selected={event.id === selectedId} onClick={() => onRowClick(event.id)} />
              ) : (
                <div className="row row-loading muted">Loading older events…</div>
              )}
            </div>
          );
        })}
      </div>
    </div>
  );
}
