import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ApiError, DeletedHookPolicy, TunnelConfig, TunnelStatus, TunnelTest } from "../bindings.gen";
import { call } from "./ipc";
import { queryKeys } from "./queryKeys";

/** The keeper (this app, or a `loopline serve` on the same data) writes its state as it
 * changes; a poll every two seconds shows it without a push channel per process. */
export function useTunnelStatus() {
  return useQuery<TunnelStatus, ApiError>({
    queryKey: queryKeys.tunnel,
    queryFn: () => call("tunnel_status"),
    refetchInterval: 2000,
  });
}

export function useSetTunnel() {
  const client = useQueryClient();
  return useMutation<TunnelStatus, ApiError, TunnelConfig>({
    mutationFn: (config) => call("tunnel_set", { config }),
    onSuccess: (status) => client.setQueryData(queryKeys.tunnel, status),
  });
}

export function useTunnelOff() {
  const client = useQueryClient();
  return useMutation<TunnelStatus, ApiError, void>({
    mutationFn: () => call("tunnel_off"),
    onSuccess: (status) => client.setQueryData(queryKeys.tunnel, status),
  });
}

export function useTunnelTest() {
  return useMutation<TunnelTest, ApiError, void>({ mutationFn: () => call("tunnel_test") });
}

/** What Loopline does when its webhook was deleted in Label Studio. */
export function useDeletedHookPolicy() {
  return useQuery<DeletedHookPolicy, ApiError>({
    queryKey: queryKeys.deletedHookPolicy,
    queryFn: () => call("deleted_hook_policy"),
  });
}

export function useSetDeletedHookPolicy() {
  const client = useQueryClient();
  return useMutation<DeletedHookPolicy, ApiError, DeletedHookPolicy>({
    mutationFn: (policy) => call("deleted_hook_policy_set", { policy }),
    onSuccess: (policy) => client.setQueryData(queryKeys.deletedHookPolicy, policy),
  });
}

/** One line for the status bar and the section's header. */
export function tunnelSummary(s: TunnelStatus): string {
  switch (s.state) {
    case "reachable":
      return s.rtt_ms === null ? "Reachable from the internet" : `Reachable from the internet · ${s.rtt_ms} ms`;
    case "starting":
      return "Starting…";
    case "unreachable":
      return "Unreachable";
    case "stopped":
      return s.provider ? "Stopped" : "Off";
  }
}

export const PROVIDER_LABEL: Record<TunnelConfig["provider"], string> = {
  cloudflared: "Cloudflare quick tunnel (no account)",
  bore: "My bore server",
  url: "My own URL (reverse proxy, Tailscale Funnel, VPN)",
  ngrok: "ngrok",
};
