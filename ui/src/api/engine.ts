import { useEffect, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { ApiError, AppInfo, ReceiverStatus } from "../bindings.gen";
import { call } from "./ipc";
import { subscribeForEffect } from "./effects";

export const receiverKey = ["receiver-status"] as const;

/** The receiver's state: fetched once, then kept live by the engine's pushed events. */
export function useReceiverStatus() {
  const client = useQueryClient();
  const query = useQuery<ReceiverStatus, ApiError>({
    queryKey: receiverKey,
    queryFn: () => call("receiver_status"),
  });
  useEffect(
    () => subscribeForEffect<ReceiverStatus>("receiver-status", (status) => client.setQueryData(receiverKey, status)),
    [client],
  );
  return query;
}

export function useAppInfo() {
  return useQuery<AppInfo, ApiError>({ queryKey: ["app-info"], queryFn: () => call("app_info") });
}

export function useEngineStartupError() {
  return useQuery<ApiError | null, ApiError>({
    queryKey: ["engine-status"],
    queryFn: () => call("engine_status"),
  });
}

/** Moves the receiver to another address; the new status arrives through the event too. */
export function useMoveReceiver() {
  const client = useQueryClient();
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const move = async (listen: string) => {
    setBusy(true);
    setError(null);
    try {
      const status = await call("receiver_start", { listen });
      client.setQueryData(receiverKey, status);
      void client.invalidateQueries({ queryKey: ["app-info"] });
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return { move, error, busy };
}
