import type { EventStatus } from "../bindings.gen";

/** The timeline's filters. A module of its own so the query keys and the timeline hooks can both
 * use it without importing each other. */
export type Filters = {
  source_id: string | null;
  action: string | null;
  status: EventStatus | null;
  project_id: number | null;
  search: string | null;
};

export const NO_FILTERS: Filters = { source_id: null, action: null, status: null, project_id: null, search: null };

export const hasFilters = (f: Filters) => Object.values(f).some((v) => v !== null);
