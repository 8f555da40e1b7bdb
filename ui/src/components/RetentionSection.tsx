import { useState, type FormEvent } from "react";
import type { RetentionPolicy } from "../bindings.gen";
import { useSetRetention } from "../api/retentionActions";
import { useTimelineStats } from "../api/timeline";
import { errorMessage } from "../lib/errors";
import { formatBytes, formatCount } from "../lib/format";
import { useToast } from "./Toasts";

const toText = (n: number | null | undefined) => (n === null || n === undefined ? "" : String(n));

function parseLimit(text: string, what: string): number | null {
  const t = text.trim();
  if (t === "") return null;
  if (!/^\d+$/.test(t) || Number(t) < 1) throw new Error(`${what} must be a whole number of at least 1, or empty for no limit.`);
  return Number(t);
}

/** How long the timeline keeps events, and how big it is now. */
export function RetentionSection() {
  const toast = useToast();
  const { data: stats, error: statsError } = useTimelineStats();
  const [days, setDays] = useState<string | null>(null);
  const [count, setCount] = useState<string | null>(null);
  // A limit that is not a number, found before anything is sent.
  const [invalid, setInvalid] = useState<string | null>(null);
  const apply = useSetRetention({
    onSuccess: (next) => {
      setDays(null);
      setCount(null);
      toast(`Retention applied. ${formatCount(next.total_events)} events kept.`, "ok");
    },
  });
  const busy = apply.isPending;
  const error = invalid ?? (apply.error ? errorMessage(apply.error) : null);
  const daysText = days ?? toText(stats?.retention.max_days);
  const countText = count ?? toText(stats?.retention.max_events);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setInvalid(null);
    apply.reset();
    let policy: RetentionPolicy;
    try {
      policy = { max_days: parseLimit(daysText, "Days"), max_events: parseLimit(countText, "Events") };
    } catch (err) {
      setInvalid(errorMessage(err));
      return;
    }
    apply.mutate(policy);
  };

  return (
    <>
      <h2>Timeline</h2>
      <form className="retention" onSubmit={submit}>
        <label htmlFor="retention-days">Keep events for</label>
        <span className="inline">
          <input
            id="retention-days"
            data-testid="retention-days"
            type="number"
            min={1}
            step={1}
            inputMode="numeric"
            placeholder="no limit"
            value={daysText}
            onChange={(e) => setDays(e.target.value)}
          />{" "}
          days
        </span>
        <label htmlFor="retention-events">Keep the newest</label>
        <span className="inline">
          <input
            id="retention-events"
            data-testid="retention-events"
            type="number"
            min={1}
            step={1}
            inputMode="numeric"
            placeholder="no limit"
            value={countText}
            onChange={(e) => setCount(e.target.value)}
          />{" "}
          events
        </span>
        <span />
        <span>
          <button type="submit" data-testid="retention-apply" disabled={busy}>
            Apply
          </button>
        </span>
      </form>
      <p className="muted">Leave a field empty for no limit. Older events are deleted when you apply, and from then on.</p>
      {error && (
        <p className="problem" role="alert" data-testid="retention-error">
          {error}
        </p>
      )}
      {statsError && <p className="problem">{statsError.message}</p>}
      {stats && (
        <dl className="facts">
          <dt>Stored events</dt>
          <dd data-testid="timeline-total">{formatCount(stats.total_events)}</dd>
          <dt>Database size</dt>
          <dd data-testid="timeline-db-size">{formatBytes(stats.db_size_bytes)}</dd>
        </dl>
      )}
    </>
  );
}
