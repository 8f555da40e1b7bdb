import { useState } from "react";
import type { JsonValue } from "../bindings.gen";
import { copyText, errorMessage } from "../lib/errors";
import { useToast } from "./Toasts";

export const MASK = "••••••";
/** Containers deeper than this start collapsed; their children render only once opened. */
const OPEN_DEPTH = 1;
/** Long arrays and objects show this many children at a time. */
const CHUNK = 200;

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function childPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  const part = IDENT.test(key) ? key : `[${JSON.stringify(key)}]`;
  if (parent === "" || part.startsWith("[")) return `${parent}${part}`;
  return `${parent}.${part}`;
}

type Container = JsonValue[] | { [key: string]: JsonValue };
const isContainer = (v: JsonValue): v is Container => v !== null && typeof v === "object";

function entries(v: Container): [string | number, JsonValue][] {
  return Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
}

function preview(v: Container): string {
  const n = Array.isArray(v) ? v.length : Object.keys(v).length;
  return Array.isArray(v) ? `[${n} ${n === 1 ? "item" : "items"}]` : `{${n} ${n === 1 ? "key" : "keys"}}`;
}

function Scalar({ value, redacted }: { value: JsonValue; redacted: boolean }) {
  if (redacted) {
    return (
      <span className="json-value json-redacted" data-redacted="true" title="Masked by Loopline: a secret field">
        {MASK}
      </span>
    );
  }
  const kind = value === null ? "null" : typeof value;
  return <span className={`json-value json-${kind}`}>{typeof value === "string" ? JSON.stringify(value) : String(value)}</span>;
}

function Node({
  name,
  value,
  path,
  depth,
  redacted,
}: {
  name: string | number | null;
  value: JsonValue;
  path: string;
  depth: number;
  redacted: Set<string>;
}) {
  const toast = useToast();
  const container = isContainer(value);
  const [open, setOpen] = useState(container && depth <= OPEN_DEPTH);
  const [shown, setShown] = useState(CHUNK);
  const masked = !container && (value === MASK || redacted.has(path));

  const copy = (text: string, what: string) =>
    copyText(text).then(
      () => toast(`Copied ${what}`),
      (e) => toast(errorMessage(e), "failed"),
    );
  const copyValue = () => copy(typeof value === "string" ? value : JSON.stringify(value, null, 2), "value");

  const kids = container && open ? entries(value) : [];
  return (
    <li className="json-node" data-testid="json-node" data-path={path} role="treeitem" aria-expanded={container ? open : undefined}>
      <div className="json-line">
        {container ? (
          <button type="button" className="json-toggle" aria-label={open ? `Collapse ${path || "root"}` : `Expand ${path || "root"}`} onClick={() => setOpen(!open)}>
            {open ? "▾" : "▸"}
          </button>
        ) : (
          <span className="json-toggle-space" aria-hidden="true" />
        )}
        {name !== null && <span className="json-key">{name}</span>}
        {name !== null && <span className="json-colon">:</span>}
        {container ? <span className="json-preview">{preview(value)}</span> : <Scalar value={value} redacted={masked} />}
        <span className="json-actions">
          <button type="button" className="link-button" data-testid="json-copy-value" onClick={() => void copyValue()}>
            copy value
          </button>
          {path !== "" && (
            <button type="button" className="link-button" data-testid="json-copy-path" onClick={() => void copy(path, `path ${path}`)}>
              copy path
            </button>
          )}
        </span>
      </div>
      {kids.length > 0 && (
        <ul role="group">
          {kids.slice(0, shown).map(([k, v]) => (
            <Node key={k} name={k} value={v} path={childPath(path, k)} depth={depth + 1} redacted={redacted} />
          ))}
          {kids.length > shown && (
            <li>
              <button type="button" className="link-button json-more" onClick={() => setShown(shown + CHUNK)}>
                Show {Math.min(CHUNK, kids.length - shown)} more of {kids.length - shown}
              </button>
            </li>
          )}
        </ul>
      )}
    </li>
  );
}

/** A JSON value as a tree: lazy expand, copy value and copy path on every node. */
export function JsonTree({ value, redactedPaths = [] }: { value: JsonValue; redactedPaths?: string[] }) {
  const redacted = new Set(redactedPaths);
  const top = isContainer(value) ? entries(value) : null;
  return (
    <ul className="json-tree" data-testid="json-tree" role="tree" aria-label="Payload">
      {top
        ? top.map(([k, v]) => <Node key={k} name={k} value={v} path={childPath("", k)} depth={1} redacted={redacted} />)
        : <Node name={null} value={value} path="" depth={0} redacted={redacted} />}
    </ul>
  );
}
