import { useState } from "react";
import { Link } from "@tanstack/react-router";
import type { DatasetDiff, DatasetManifest, DatasetVersion } from "../bindings.gen";
import { useDatasetDiff, useDatasetManifest, useDatasetVersions } from "../api/datasets";
import { formatDateTime } from "../lib/format";

/** `AUTOMATION/vN`: unambiguous even when several automations make versions. */
const qualified = (v: DatasetVersion) => `${v.automation_id}/${v.version}`;

function Manifest({ m }: { m: DatasetManifest }) {
  const labels = Object.entries(m.labels);
  return (
    <div className="dataset-manifest" data-testid="dataset-manifest">
      <p className="muted">
        {m.objects.length} annotation object{m.objects.length === 1 ? "" : "s"} under <code>s3://{m.bucket}/{m.prefix}</code>
        {m.cancelled > 0 && ` · ${m.cancelled} cancelled`}
        {m.unreadable.length > 0 && ` · ${m.unreadable.length} unreadable`}
        {m.project && (
          <>
            {" · "}project {m.project.id}, label config <code title={m.project.label_config_sha256}>{m.project.label_config_sha256.slice(0, 12)}</code>
          </>
        )}
      </p>
      {labels.length > 0 && (
        <table className="compact-table" data-testid="dataset-labels">
          <thead>
            <tr>
              <th>Label</th>
              <th className="num">Regions</th>
            </tr>
          </thead>
          <tbody>
            {labels.map(([label, n]) => (
              <tr key={label}>
                <td>{label}</td>
                <td className="num">{n}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function KeyList({ sign, keys, testId }: { sign: string; keys: string[]; testId: string }) {
  if (keys.length === 0) return null;
  return (
    <ul className="mono dataset-keys" data-testid={testId}>
      {keys.map((k) => (
        <li key={k}>
          {sign} {k}
        </li>
      ))}
    </ul>
  );
}

function Diff({ d }: { d: DatasetDiff }) {
  return (
    <div className="dataset-diff" data-testid="dataset-diff">
      <p data-testid="dataset-diff-sentence">
        {d.from} → {d.to}: {d.added.length} added, {d.changed.length} changed, {d.removed.length} removed
      </p>
      <KeyList sign="+" keys={d.added} testId="dataset-added" />
      <KeyList sign="~" keys={d.changed} testId="dataset-changed" />
      <KeyList sign="−" keys={d.removed} testId="dataset-removed" />
      <table className="compact-table" data-testid="dataset-diff-labels">
        <thead>
          <tr>
            <th>Label</th>
            <th className="num">{d.from}</th>
            <th className="num">{d.to}</th>
          </tr>
        </thead>
        <tbody>
          {d.labels.map((l) => (
            <tr key={l.label}>
              <td>{l.label}</td>
              <td className="num">{l.from}</td>
              <td className="num">{l.to}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * A dataset-version automation's versions, newest first: one opens its manifest, and "compare
 * with the one before" shows what changed, as `loopline dataset show|diff` do.
 */
export function DatasetVersions({ automationId }: { automationId: string }) {
  const { data, error } = useDatasetVersions(automationId);
  const [open, setOpen] = useState<string | null>(null);
  const [against, setAgainst] = useState<string | null>(null);
  const manifest = useDatasetManifest(open);
  const diff = useDatasetDiff(against, open);
  if (error)
    return (
      <p className="problem" role="alert">
        <code>{error.code}</code>: {error.message}
      </p>
    );
  if (!data) return <p className="muted">Reading the dataset versions…</p>;
  if (data.length === 0)
    return (
      <p className="muted" data-testid="datasets-empty">
        No dataset versions yet. One is written each time this automation fires.
      </p>
    );
  const newestFirst = [...data].reverse();
  return (
    <ul className="deliveries" data-testid="dataset-versions">
      {newestFirst.map((v, i) => {
        const name = qualified(v);
        const before = newestFirst.slice(i + 1).find((o) => o.kept);
        const isOpen = open === name;
        return (
          <li key={name} className="delivery" data-testid="dataset-version" data-version={v.version} data-kept={v.kept}>
            <div className="delivery-head">
              <button
                type="button"
                className="link-button"
                disabled={!v.kept}
                aria-expanded={isOpen}
                onClick={() => {
                  setOpen(isOpen ? null : name);
                  setAgainst(null);
                }}
              >
                {v.version}
              </button>
              <span className="muted">{formatDateTime(v.created_at)}</span>
              <Link to="/timeline/$eventId" params={{ eventId: v.event_id }}>
                event #{v.event_id}
              </Link>
              {v.kept ? <code className="muted">{v.uri}</code> : <span className="muted">deleted: older than the versions kept</span>}
            </div>
            {isOpen && manifest.error && (
              <p className="problem" role="alert">
                <code>{manifest.error.code}</code>: {manifest.error.message}
              </p>
            )}
            {isOpen && manifest.data && <Manifest m={manifest.data} />}
            {isOpen && before && (
              <button type="button" className="link-button" data-testid="dataset-compare" onClick={() => setAgainst(qualified(before))}>
                Compare with {before.version}
              </button>
            )}
            {isOpen && against && diff.error && (
              <p className="problem" role="alert">
                <code>{diff.error.code}</code>: {diff.error.message}
              </p>
            )}
            {isOpen && against && diff.data && <Diff d={diff.data} />}
          </li>
        );
      })}
    </ul>
  );
}
