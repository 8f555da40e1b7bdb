import type { EventStatus } from "../bindings.gen";

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

const pad = (n: number) => String(n).padStart(2, "0");

/** Local time, short: "14:03:22" today, "Mar 4 14:03" otherwise. */
export function formatShortTime(ms: number, now: Date = new Date()): string {
  const d = new Date(ms);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (d.toDateString() === now.toDateString()) return time;
  const month = d.toLocaleString("en-US", { month: "short" });
  const year = d.getFullYear() === now.getFullYear() ? "" : ` ${d.getFullYear()}`;
  return `${month} ${d.getDate()}${year} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Local date and time, for facts like "created". */
export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "just now", "5 min ago", "3 h ago", "2 days ago". */
export function formatRelative(ms: number, now: number = Date.now()): string {
  const s = Math.round((now - ms) / 1000);
  if (s < 0) return "in the future";
  if (s < 10) return "just now";
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} days ago`;
}

export type Tone = "ok" | "pending" | "failed";

export const STATUS_TONE: Record<EventStatus, Tone> = {
  processed: "ok",
  duplicate: "pending",
  malformed: "failed",
  rejected: "failed",
};

export const EVENT_STATUSES: EventStatus[] = ["processed", "duplicate", "malformed", "rejected"];

/** "45 s", "4 min 12 s", "1 h 5 min": how long something took; `coarse` drops the seconds past a minute. */
export function formatDuration(ms: number, coarse = false): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 || coarse ? `${m} min` : `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
}
