import { skipToken, useQuery } from "@tanstack/react-query";
import type { ApiError, DatasetDiff, DatasetManifest, DatasetVersion } from "../bindings.gen";
import { call } from "./ipc";
import { queryKeys } from "./queryKeys";

/** A new version appears when the automation fires, which no push announces. */
const POLL_MS = 5000;

/** One automation's dataset versions, oldest first (`loopline dataset list --automation ID`). */
export function useDatasetVersions(automationId: string) {
  return useQuery<DatasetVersion[], ApiError>({
    queryKey: queryKeys.datasets.list(automationId),
    queryFn: () => call("dataset_list", { automationId }),
    refetchInterval: POLL_MS,
  });
}

/** A version's manifest, read from S3; it never changes once written. */
export function useDatasetManifest(version: string | null) {
  return useQuery<DatasetManifest, ApiError>({
    queryKey: queryKeys.datasets.one(version ?? ""),
    queryFn: version === null ? skipToken : () => call("dataset_show", { version }),
    staleTime: Infinity,
  });
}

export function useDatasetDiff(from: string | null, to: string | null) {
  return useQuery<DatasetDiff, ApiError>({
    queryKey: queryKeys.datasets.diff(from ?? "", to ?? ""),
    queryFn: from === null || to === null ? skipToken : () => call("dataset_diff", { from, to }),
    staleTime: Infinity,
  });
}

/** The automation and version a manifest's URI names: `s3://B/datasets/<automation>/v<n>/manifest.json`. */
export function versionOfManifest(uri: string): { automation: string; version: string } | null {
  const m = /^s3:\/\/[^/]+\/datasets\/([^/]+)\/(v\d+)\/manifest\.json$/.exec(uri);
  return m?.[1] && m[2] ? { automation: m[1], version: m[2] } : null;
}
