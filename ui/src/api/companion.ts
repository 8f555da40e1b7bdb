import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ApiError, AutostartStatus, CompanionPrefs } from "../bindings.gen";
import { call } from "./ipc";
import { queryKeys } from "./queryKeys";

/** What closing the window does, and which notifications are on (`loopline settings show`). */
export function useCompanionPrefs() {
  return useQuery<CompanionPrefs, ApiError>({ queryKey: queryKeys.companionPrefs, queryFn: () => call("companion_prefs") });
}

/** `loopline settings set`: the whole settings object, as it should be stored. */
export function useSetCompanionPrefs() {
  const client = useQueryClient();
  return useMutation<CompanionPrefs, ApiError, CompanionPrefs>({
    mutationFn: (prefs) => call("companion_prefs_set", { prefs }),
    onSuccess: (prefs) => client.setQueryData(queryKeys.companionPrefs, prefs),
  });
}

/** Whether Loopline starts at login (`loopline autostart status`). */
export function useAutostart() {
  return useQuery<AutostartStatus, ApiError>({ queryKey: queryKeys.autostart, queryFn: () => call("autostart_status") });
}

export function useSetAutostart() {
  const client = useQueryClient();
  return useMutation<AutostartStatus, ApiError, boolean>({
    mutationFn: (enabled) => call("autostart_set", { enabled }),
    onSuccess: (status) => client.setQueryData(queryKeys.autostart, status),
  });
}

/** Quit Loopline: its outbox is durable, so work in flight resumes at the next start. */
export function useQuitApp() {
  return useMutation<null, ApiError, void>({ mutationFn: () => call("app_quit") });
}
