import type { Ref } from "react";
import type { EventStatus, Source } from "../bindings.gen";
import { EVENT_STATUSES } from "../lib/format";

export const COMMON_ACTIONS = [
  "ANNOTATION_CREATED",
  "ANNOTATIONS_CREATED",
  "ANNOTATION_UPDATED",
  "ANNOTATIONS_DELETED",
  "TASKS_CREATED",
  "TASKS_DELETED",
  "PROJECT_CREATED",
  "PROJECT_UPDATED",
  "PROJECT_DELETED",
  "issue-exported",
];

/** What the user has typed or picked; text fields reach the query after a short pause. */
export type FilterDraft = {
  source_id: string;
  status: EventStatus | "";
  action: string;
  project: string;
  search: string;
};

export const EMPTY_DRAFT: FilterDraft = { source_id: "", status: "", action: "", project: "", search: "" };

export function TimelineFilters({
  draft,
  onChange,
  sources,
  searchRef,
}: {
  draft: FilterDraft;
  onChange: (draft: FilterDraft) => void;
  sources: Source[];
  searchRef: Ref<HTMLInputElement>;
}) {
  const set = <K extends keyof FilterDraft>(key: K, value: FilterDraft[K]) => onChange({ ...draft, [key]: value });
  return (
    <form className="filters" role="search" aria-label="Filter events" onSubmit={(e) => e.preventDefault()}>
      <input
        ref={searchRef}
        type="search"
        className="filter-search"
        data-testid="timeline-search"
        aria-label="Search payloads"
        placeholder="Search payloads  /"
        value={draft.search}
        onChange={(e) => set("search", e.target.value)}
        spellCheck={false}
        autoComplete="off"
      />
      <select
        data-testid="timeline-filter-source"
        aria-label="Source"
        value={draft.source_id}
        onChange={(e) => set("source_id", e.target.value)}
      >
        <option value="">All sources</option>
        {sources.map((s) => (
          <option key={s.id} value={s.id}>
            {s.name}
          </option>
        ))}
      </select>
      <input
        data-testid="timeline-filter-action"
        aria-label="Action"
        placeholder="Any action"
        list="timeline-actions"
        value={draft.action}
        onChange={(e) => set("action", e.target.value)}
        spellCheck={false}
        autoComplete="off"
      />
      <datalist id="timeline-actions">
        {COMMON_ACTIONS.map((a) => (
          <option key={a} value={a} />
        ))}
      </datalist>
      <select
        data-testid="timeline-filter-status"
        aria-label="Status"
        value={draft.status}
        onChange={(e) => set("status", e.target.value as FilterDraft["status"])}
      >
        <option value="">Any status</option>
        {EVENT_STATUSES.map((s) => (
          <option key={s} value={s}>
            {s}
          </option>
        ))}
      </select>
      <input
        data-testid="timeline-filter-project"
        aria-label="Project id"
        placeholder="Project id"
        type="number"
        min={0}
        step={1}
        inputMode="numeric"
        className="filter-project"
        value={draft.project}
        onChange={(e) => set("project", e.target.value)}
      />
    </form>
  );
}
