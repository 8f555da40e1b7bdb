import { useEffect } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ApiError, AppInfo, ReceiverStatus } from "../bindings.gen";
import { call } from "./ipc";
import { subscribeForEffect } from "./effects";
import { queryKeys } from "./queryKeys";

/** The receiver's state: fetched once, then kept live by the engine's pushed events. */
export function useReceiverStatus() {
  const client = useQueryClient();
  const query = useQuery<ReceiverStatus, ApiError>({
    queryKey: queryKeys.receiver,
    queryFn: () => call("receiver_status"),
  });
  useEffect(
    () => subscribeForEffect<ReceiverStatus>("receiver-status", (status) => client.setQueryData(queryKeys.receiver, status)),
    [client],
  );
  return query;
}

export function useAppInfo() {
  return useQuery<AppInfo, ApiError>({ queryKey: queryKeys.appInfo, queryFn: () => call("app_info") });
}

export function useEngineStartupError() {
  return useQuery<ApiError | null, ApiError>({
    queryKey: queryKeys.engineStatus,
    queryFn: () => call("engine_status"),
  });
}

/** The engine error screen's "Try again" (`engine_retry`) and "Use another folder"
 * (`engine_open_data_dir`): on success every screen reloads on the engine now running. */
export function useReopenEngine() {
  const client = useQueryClient();
  return useMutation<AppInfo, ApiError, { dataDir: string } | null>({
    mutationFn: (to) => (to ? call("engine_open_data_dir", to) : call("engine_retry")),
    onSuccess: () => client.invalidateQueries(),
  });
}
