import { useEffect, useRef } from "react";
import { keepPreviousData, useInfiniteQuery, useQuery, useQueryClient, type InfiniteData, type QueryClient, skipToken } from "@tanstack/react-query";
import type {
  ApiError,
  EventDetail,
  EventPage,
  EventQuery,
  EventSummary,
  TimelineChanged,
  TimelineStats,
} from "../bindings.gen";
import { call } from "./ipc";
import { subscribeForEffect } from "./effects";
import { queryKeys } from "./queryKeys";
import type { Filters } from "./timelineFilters";

export const PAGE_SIZE = 100;
/** More new events than this in one push: start over at the top instead of prepending. */
const LIVE_LIMIT = 500;

export { NO_FILTERS, hasFilters, type Filters } from "./timelineFilters";

type Pages = InfiniteData<EventPage, number | null>;

export function toQuery(f: Filters, before_id: number | null, after_id: number | null = null, limit = PAGE_SIZE): EventQuery {
  return { ...f, before_id, after_id, limit };
}

/** Newest first, 100 at a time, older pages by keyset (`before_id`) as the list scrolls. */
export function useEvents(filters: Filters) {
  return useInfiniteQuery<EventPage, ApiError, Pages, ReturnType<typeof queryKeys.events.list>, number | null>({
    queryKey: queryKeys.events.list(filters),
    queryFn: ({ pageParam }) => call("events_list", { query: toQuery(filters, pageParam) }),
    initialPageParam: null,
    getNextPageParam: (last) => last.next_before_id,
    // A new filter keeps the old rows on screen until its first page arrives: no flash of "Loading".
    placeholderData: keepPreviousData,
  });
}

export function useTimelineStats() {
  return useQuery<TimelineStats, ApiError>({ queryKey: queryKeys.stats, queryFn: () => call("timeline_stats") });
}

export function useEventDetail(id: number | null) {
  return useQuery<EventDetail, ApiError>({
    queryKey: queryKeys.event.one(id ?? -1),
    // skipToken: no id, no call (and the id is typed as present inside the call).
    queryFn: id === null ? skipToken : () => call("event_show", { id }),
  });
}

function prepend(old: Pages | undefined, events: EventSummary[]): Pages | undefined {
  const first = old?.pages[0];
  if (!old || !first) return old;
  const known = new Set(first.events.map((e) => e.id));
  const fresh = events.filter((e) => !known.has(e.id));
  if (fresh.length === 0) return old;
  return { ...old, pages: [{ ...first, events: [...fresh, ...first.events] }, ...old.pages.slice(1)] };
}

/** Removes one event from every loaded list at once, so a delete does not wait for a refetch. */
export function dropEvent(client: QueryClient, id: number) {
  client.setQueriesData<Pages>({ queryKey: queryKeys.events.all }, (old) =>
    old ? { ...old, pages: old.pages.map((p) => ({ ...p, events: p.events.filter((e) => e.id !== id) })) } : old,
  );
}

/**
 * Keeps the open list live from the engine's `timeline-changed` pushes: new events are fetched
 * with `after_id` and prepended in one update; a new `revision` (deletes, replays, retention)
 * refetches the loaded pages.
 */
export function useTimelineLive(filters: Filters) {
  const client = useQueryClient();
  const filtersRef = useRef(filters);
  useEffect(() => {
    filtersRef.current = filters;
  }, [filters]);

  useEffect(() => {
    let revision: number | null = null;
    let running = false;
    let again = false;
    let cancelled = false;

    const pullNewer = async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          const f = filtersRef.current;
          const key = queryKeys.events.list(f);
          const data = client.getQueryData<Pages>(key);
          const newest = data?.pages[0]?.events[0]?.id;
          if (newest === undefined) {
            await client.invalidateQueries({ queryKey: key });
            continue;
          }
          const page = await call("events_list", { query: toQuery(f, null, newest, LIVE_LIMIT) });
          if (cancelled) return;
          if (page.events.length >= LIVE_LIMIT) await client.resetQueries({ queryKey: key });
          else if (page.events.length > 0) client.setQueryData<Pages>(key, (old) => prepend(old, page.events));
        } while (again && !cancelled);
      } catch {
        // The next push, or the next refetch, catches up.
      } finally {
        running = false;
      }
    };

    const stop = subscribeForEffect<TimelineChanged>("timeline-changed", (change) => {
      void client.invalidateQueries({ queryKey: queryKeys.stats });
      const revised = revision !== null && change.revision !== revision;
      revision = change.revision;
      if (revised) {
        void client.invalidateQueries({ queryKey: queryKeys.events.all });
        void client.invalidateQueries({ queryKey: queryKeys.event.all });
        void client.invalidateQueries({ queryKey: queryKeys.sources });
      } else {
        void pullNewer();
      }
    });
    return () => {
      cancelled = true;
      stop();
    };
  }, [client]);
}
