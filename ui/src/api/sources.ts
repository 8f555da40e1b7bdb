import { useQuery } from "@tanstack/react-query";
import type { ApiError, Source } from "../bindings.gen";
import { call } from "./ipc";
import { queryKeys } from "./queryKeys";

export function useSources() {
  return useQuery<Source[], ApiError>({ queryKey: queryKeys.sources, queryFn: () => call("sources_list") });
}

export const KIND_LABEL: Record<Source["kind"], string> = {
  "label-studio": "Label Studio",
  aquarium: "Aquarium",
  generic: "Generic (Standard Webhooks)",
};

/** Grace periods offered when rotating, in seconds. */
export const GRACE_OPTIONS: { seconds: number; label: string }[] = [
  { seconds: 0, label: "None: the old secret stops now" },
  { seconds: 3600, label: "1 hour" },
  { seconds: 86400, label: "24 hours" },
  { seconds: 604800, label: "7 days" },
];
