import { useMemo, useRef, useState } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";
import type { AquariumIssue, ExportReport, IssueElement } from "../bindings.gen";
import { imageHost, useAllowHost, useExports, useImageHosts } from "../api/aquarium";
import { minMax } from "../lib/extent";
import { ElementCard } from "./ElementCard";
import { ExportPanel } from "./ExportPanel";

const COLUMNS = 4;
const ROW_HEIGHT = 300;

type Filter = { cls: string; dataset: string; kind: string; minConf: number; maxConf: number; sort: "none" | "asc" | "desc" };
const NO_FILTER: Filter = { cls: "", dataset: "", kind: "", minConf: 0, maxConf: 1, sort: "none" };

/** The element's lowest confidence (what a reviewer sorts by to find the doubtful ones). */
function confidence(e: IssueElement): number | null {
  const c = e.labels.map((l) => l.confidence).filter((x): x is number => x !== null);
  return minMax(c)?.[0] ?? null;
}

function matches(e: IssueElement, f: Filter): boolean {
  if (f.cls && !e.labels.some((l) => l.class === f.cls)) return false;
  if (f.dataset && e.dataset !== f.dataset) return false;
  if (f.kind && e.element_type !== f.kind) return false;
  const c = confidence(e);
  if ((f.minConf > 0 || f.maxConf < 1) && (c === null || c < f.minConf || c > f.maxConf)) return false;
  return true;
}

/** Each element's latest result, in words. */
function results(exports: ExportReport[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of [...(exports ?? [])].reverse()) {
    r.created.forEach((c) => {
      const done = c.task_id !== null ? `created: task ${c.task_id}` : "sent";
      out.set(c.element_id, c.note ? `${done}, ${c.note}` : done);
    });
    r.skipped.forEach((s) => out.set(s.element_id, `skipped: ${s.reason}`));
    r.failed.forEach((f) => out.set(f.element_id, `failed: ${f.message}`));
  }
  return out;
}

export function IssueReview({ issue, issueId }: { issue: AquariumIssue; issueId: string }) {
  const [filter, setFilter] = useState<Filter>(NO_FILTER);
  const [deselected, setDeselected] = useState<Set<string>>(new Set());
  const hosts = useImageHosts();
  const allow = useAllowHost();
  const exports = useExports(issueId);
  const byElement = useMemo(() => results(exports.data), [exports.data]);

  const classes = useMemo(() => [...new Set(issue.elements.flatMap((e) => e.labels.map((l) => l.class)))].sort(), [issue]);
  const datasets = useMemo(() => [...new Set(issue.elements.map((e) => e.dataset).filter((d): d is string => !!d))].sort(), [issue]);
  const imageHosts = useMemo(
    () => [...new Set(issue.elements.map((e) => imageHost(e.preview_url ?? e.image_url ?? "")).filter((h): h is string => !!h))],
    [issue],
  );
  const allowed = new Set(hosts.data ?? []);
  const shown = useMemo(() => {
    const list = issue.elements.filter((e) => matches(e, filter));
    if (filter.sort !== "none") {
      const dir = filter.sort === "asc" ? 1 : -1;
      list.sort((a, b) => dir * ((confidence(a) ?? 2) - (confidence(b) ?? 2)));
    }
    return list;
  }, [issue, filter]);
  const chosen = issue.elements.filter((e) => !deselected.has(e.element_id)).map((e) => e.element_id);

  const toggle = (id: string) =>
    setDeselected((d) => {
      const n = new Set(d);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  const setMany = (ids: string[], on: boolean) =>
    setDeselected((d) => {
      const n = new Set(d);
      ids.forEach((id) => (on ? n.delete(id) : n.add(id)));
      return n;
    });

  const scroller = useRef<HTMLDivElement>(null);
  const rows = Math.ceil(shown.length / COLUMNS);
  // eslint-disable-next-line react-hooks/incompatible-library -- TanStack Virtual returns fresh functions by design
  const virtual = useVirtualizer({ count: rows, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 2 });

  return (
    <div className="issue-review">
      <div className="issue-filters" role="group" aria-label="Filters">
        <select aria-label="Class" value={filter.cls} onChange={(e) => setFilter({ ...filter, cls: e.target.value })}>
          <option value="">All classes</option>
          {classes.map((c) => <option key={c}>{c}</option>)}
        </select>
        <select aria-label="Dataset" value={filter.dataset} onChange={(e) => setFilter({ ...filter, dataset: e.target.value })}>
          <option value="">All datasets</option>
          {datasets.map((d) => <option key={d}>{d}</option>)}
        </select>
        <select aria-label="Element type" value={filter.kind} onChange={(e) => setFilter({ ...filter, kind: e.target.value })}>
          <option value="">Frames and crops</option>
          <option value="frame">Frames</option>
          <option value="crop">Crops</option>
        </select>
        <label>
          Confidence {filter.minConf.toFixed(2)}–{filter.maxConf.toFixed(2)}
          <input type="range" min={0} max={1} step={0.05} value={filter.minConf} aria-label="Minimum confidence" onChange={(e) => setFilter({ ...filter, minConf: Number(e.target.value) })} />
          <input type="range" min={0} max={1} step={0.05} value={filter.maxConf} aria-label="Maximum confidence" onChange={(e) => setFilter({ ...filter, maxConf: Number(e.target.value) })} />
        </label>
        <select aria-label="Sort" value={filter.sort} onChange={(e) => setFilter({ ...filter, sort: e.target.value as Filter["sort"] })}>
          <option value="none">Issue order</option>
          <option value="asc">Least confident first</option>
          <option value="desc">Most confident first</option>
        </select>
        <button type="button" onClick={() => setMany(shown.map((e) => e.element_id), true)} data-testid="select-shown">Select shown</button>
        <button type="button" onClick={() => setMany(shown.map((e) => e.element_id), false)} data-testid="deselect-shown">Deselect shown</button>
        <button type="button" onClick={() => setDeselected(new Set())}>Select all</button>
        <span className="muted" data-testid="selection-count">{chosen.length} of {issue.elements.length} selected · {shown.length} shown</span>
      </div>

      {imageHosts.filter((h) => !allowed.has(h)).map((h) => (
        <p key={h} className="host-consent">
          Images come from <code>{h}</code>. Loopline loads nothing from a host until you allow it.{" "}
          <button type="button" onClick={() => allow.mutate({ host: h, allow: true })} data-testid="allow-host">Load images from {h}</button>
        </p>
      ))}

      <div className="issue-grid" ref={scroller} data-testid="issue-grid">
        <div style={{ height: virtual.getTotalSize(), position: "relative" }}>
          {virtual.getVirtualItems().map((row) => (
            <div key={row.key} className="issue-row" style={{ position: "absolute", top: 0, left: 0, right: 0, transform: `translateY(${row.start}px)`, height: ROW_HEIGHT }}>
              {shown.slice(row.index * COLUMNS, row.index * COLUMNS + COLUMNS).map((e) => {
                const host = imageHost(e.preview_url ?? e.image_url ?? "");
                return (
                  <ElementCard
                    key={e.element_id}
                    element={e}
                    selected={!deselected.has(e.element_id)}
                    onToggle={() => toggle(e.element_id)}
                    allowed={host !== null && allowed.has(host)}
                    result={byElement.get(e.element_id)}
                  />
                );
              })}
            </div>
          ))}
        </div>
      </div>
      {issue.skipped.length > 0 && (
        <details>
          <summary>{issue.skipped.length} element(s) could not be read</summary>
          <ul>{issue.skipped.map((s, i) => <li key={i}>{s.element_id ?? "(no id)"}: {s.reason}</li>)}</ul>
        </details>
      )}
      <ExportPanel issueId={issueId} chosen={chosen} total={issue.elements.length} exports={exports.data ?? []} onRetry={(ids) => setDeselected(new Set(issue.elements.map((e) => e.element_id).filter((id) => !ids.includes(id))))} />
    </div>
  );
}
