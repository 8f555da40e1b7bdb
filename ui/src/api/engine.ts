import { useEffect } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
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
