import { useEffect, useRef } from "react";
import type { Run, RunStatus } from "../bindings.gen";

/** Statuses from which an outcome is worth a desktop notification. */
const WATCHED: ReadonlySet<RunStatus> = new Set(["pending", "held", "starting", "executing", "stopping"]);
const OUTCOMES: ReadonlySet<RunStatus> = new Set(["succeeded", "failed"]);

let permission: Promise<boolean> | null = null;

/** Asks once per session; a refusal, or a webview without the API, just means no notifications. */
function allowed(): Promise<boolean> {
  const api = typeof window !== "undefined" ? window.Notification : undefined;
  if (!api) return Promise.resolve(false);
  if (api.permission === "granted") return Promise.resolve(true);
  if (api.permission === "denied") return Promise.resolve(false);
  permission ??= Promise.resolve()
    .then(() => api.requestPermission())
    .then((answer) => answer === "granted")
    .catch(() => false);
  return permission;
}

function notify(run: Run) {
  void allowed().then((ok) => {
    if (!ok) return;
    try {
      new window.Notification(`Retrain run ${run.id} ${run.status}`, {
        body: `${run.pipeline}, triggered at ${run.count} annotations`,
        tag: `loopline-run-${run.id}`,
      });
    } catch {
      // Some webviews only allow notifications from a service worker; the page still shows the outcome.
    }
  });
}

/**
 * A desktop notification when a run this page has seen unfinished ends as succeeded or failed.
 * Runs first seen already finished never notify, so opening the page is quiet.
 */
export function useRunNotifications(runs: Run[] | undefined) {
  const seen = useRef(new Map<number, RunStatus>());
  useEffect(() => {
    if (!runs) return;
    for (const run of runs) {
      const before = seen.current.get(run.id);
      seen.current.set(run.id, run.status);
      if (before === undefined) {
        // Ask while something is under way, not only at the moment it ends.
        if (WATCHED.has(run.status)) void allowed();
        continue;
      }
      if (WATCHED.has(before) && OUTCOMES.has(run.status)) notify(run);
    }
  }, [runs]);
}

/** For tests: forget the cached answer to the permission question. */
export function resetNotificationPermission() {
  permission = null;
}
