import { skipToken, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ApiError, Automation, AutomationDetail, AutomationPreview, AutomationRequest, ConditionField } from "../bindings.gen";
import { COMMON_ACTIONS } from "../components/TimelineFilters";
import type { AfterSuccess } from "./afterSuccess";
import { useDebounced } from "../lib/useDebounced";
import { call } from "./ipc";
import { queryKeys } from "./queryKeys";

/** The CLI or `loopline serve` may fire or change automations without a push reaching us. */
const POLL_MS = 5000;

/** What a trigger can react to: Label Studio's actions, Aquarium's, and Loopline's own. */
export const TRIGGER_ACTIONS = [...COMMON_ACTIONS, "run.ended"];

export function useAutomations() {
  return useQuery<Automation[], ApiError>({
    queryKey: queryKeys.automations,
    queryFn: () => call("automation_list"),
    refetchInterval: POLL_MS,
  });
}

export function useAutomationDetail(id: string | null) {
  return useQuery<AutomationDetail, ApiError>({
    queryKey: queryKeys.automation.one(id ?? ""),
    queryFn: id === null ? skipToken : () => call("automation_detail", { id }),
    refetchInterval: POLL_MS,
  });
}

/** The fields a condition may name; fixed for a build, so fetched once. */
export function useConditionFields() {
  return useQuery<ConditionField[], ApiError>({
    queryKey: queryKeys.automationFields,
    queryFn: () => call("automation_fields"),
    staleTime: Infinity,
  });
}

/**
 * The live preview: asked again only once the trigger has settled and really changed (the
 * name and the action do not change what would have fired).
 */
export function useAutomationPreview(request: AutomationRequest | null) {
  const settled = useDebounced(request, 400);
  const key = settled === null ? null : JSON.stringify(settled.trigger);
  return useQuery<AutomationPreview, ApiError>({
    queryKey: queryKeys.automationPreview(key ?? ""),
    queryFn: settled === null ? skipToken : () => call("automation_preview", { request: settled }),
    // The last answer stays while the next is asked, so the sentence does not flicker.
    placeholderData: (previous) => previous,
    // A new event can change the answer; the form is usually open for a while.
    refetchInterval: POLL_MS,
  });
}

function useRefreshAutomations() {
  const client = useQueryClient();
  return async () => {
    await client.invalidateQueries({ queryKey: queryKeys.automations });
    await client.invalidateQueries({ queryKey: queryKeys.automation.all });
    // Start-a-pipeline automations are the retrain rules: pausing one changes its card there.
    await client.invalidateQueries({ queryKey: queryKeys.rules });
  };
}

export function useAddAutomation({ onSuccess }: AfterSuccess<Automation, AutomationRequest> = {}) {
  const refresh = useRefreshAutomations();
  return useMutation<Automation, ApiError, AutomationRequest>({
    mutationFn: (request) => call("automation_add", { request }),
    onSuccess: async (created, request) => {
      onSuccess?.(created, request);
      await refresh();
    },
  });
}

export function usePauseAutomation() {
  const refresh = useRefreshAutomations();
  return useMutation<Automation, ApiError, { id: string; paused: boolean }>({
    mutationFn: ({ id, paused }) => call(paused ? "automation_pause" : "automation_resume", { id }),
    onSuccess: refresh,
  });
}

/** Stays pending until the list is refetched, so the removed card never comes back to life. */
export function useRemoveAutomation({ onSuccess }: AfterSuccess<null, string> = {}) {
  const refresh = useRefreshAutomations();
  return useMutation<null, ApiError, string>({
    mutationFn: (id) => call("automation_remove", { id }),
    onSuccess: async (result, id) => {
      onSuccess?.(result, id);
      await refresh();
    },
  });
}

/** "fired 3 times"; for every N also where the counter is: "12 of 16 toward the next". */
export function automationProgress(a: Automation): string {
  const fired = a.fired === 0 ? "not fired yet" : a.fired === 1 ? "fired once" : `fired ${a.fired} times`;
  if (a.trigger.fire.mode === "each") return fired;
  const { n } = a.trigger.fire;
  if (a.count === null) return `${fired} · the project's count arrives with its next event`;
  const into = a.count - a.fired_bucket * n;
  const within = Math.min(Math.max(into, 0), n);
  return `${fired} · ${within} of ${n} toward the next (at ${(a.fired_bucket + 1) * n})`;
}
