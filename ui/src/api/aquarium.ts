import { useMutation, useQuery, useQueryClient, skipToken } from "@tanstack/react-query";
import type { ApiError, AquariumIssue, AquariumIssueSummary, ExportPreview, ExportReport, ExportRequest } from "../bindings.gen";
import { call } from "./ipc";
import { queryKeys } from "./queryKeys";

/** Exports are delivered by the background worker (or `loopline serve`): poll while any is pending. */
const POLL_MS = 1500;


export function useIssues() {
  return useQuery<AquariumIssueSummary[], ApiError>({
    queryKey: queryKeys.aquarium.issues,
    queryFn: () => call("aquarium_issues"),
    refetchInterval: 5000,
  });
}

export function useIssue(id: string | null) {
  return useQuery<AquariumIssue, ApiError>({
    queryKey: queryKeys.aquarium.issue(id ?? ""),
    queryFn: id === null ? skipToken : () => call("aquarium_issue", { issueId: id }),
    staleTime: Infinity,
  });
}

export function useExports(id: string | null) {
  return useQuery<ExportReport[], ApiError>({
    queryKey: queryKeys.aquarium.exports(id ?? ""),
    queryFn: id === null ? skipToken : () => call("aquarium_exports", { issueId: id }),
    refetchInterval: (q) => (q.state.data?.some((e) => e.state === "pending") ? POLL_MS : false),
  });
}

export function useImageHosts() {
  return useQuery<string[], ApiError>({ queryKey: queryKeys.aquarium.hosts, queryFn: () => call("image_hosts") });
}

export function useAllowHost() {
  const client = useQueryClient();
  return useMutation<string[], ApiError, { host: string; allow: boolean }>({
    mutationFn: (v) => call("image_host_allow", v),
    onSuccess: (hosts) => client.setQueryData(queryKeys.aquarium.hosts, hosts),
  });
}

/** A thumbnail through the engine (the CSP allows data: images only); only for allowed hosts. */
export function useThumbnail(url: string | null, allowed: boolean) {
  return useQuery<string, ApiError>({
    queryKey: queryKeys.aquarium.thumbnail(url ?? ""),
    queryFn: url !== null && allowed ? () => call("aquarium_thumbnail", { url }) : skipToken,
    staleTime: Infinity,
    gcTime: 60_000,
    retry: false,
  });
}

export function usePreviewExport() {
  return useMutation<ExportPreview, ApiError, ExportRequest>({
    mutationFn: (request) => call("aquarium_export_preview", { request }),
  });
}

export function useExport() {
  const client = useQueryClient();
  return useMutation<ExportReport, ApiError, ExportRequest>({
    mutationFn: (request) => call("aquarium_export", { request }),
    onSuccess: (report) => {
      void client.invalidateQueries({ queryKey: queryKeys.aquarium.exports(report.issue_id) });
      void client.invalidateQueries({ queryKey: queryKeys.aquarium.issues });
    },
  });
}

/** The host an image URL is allowed by (the engine's rule, for the "allow" button). */
export function imageHost(url: string): string | null {
  if (url.startsWith("s3://")) {
    const bucket = url.slice(5).split("/")[0];
    return bucket ? `s3://${bucket}` : null;
  }
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") return null;
    return u.port ? `${u.hostname.toLowerCase()}:${u.port}` : u.hostname.toLowerCase();
  } catch {
    return null;
  }
}
