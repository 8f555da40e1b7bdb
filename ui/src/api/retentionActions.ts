import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { ApiError, RetentionPolicy, TimelineStats } from "../bindings.gen";
import type { AfterSuccess } from "./afterSuccess";
import { call } from "./ipc";
import { queryKeys } from "./queryKeys";

/** Applies a retention policy now; older events are gone, so every loaded list refetches. */
export function useSetRetention({ onSuccess }: AfterSuccess<TimelineStats, RetentionPolicy> = {}) {
  const client = useQueryClient();
  return useMutation<TimelineStats, ApiError, RetentionPolicy>({
    mutationFn: (policy) => call("retention_set", { policy }),
    onSuccess: (stats, policy) => {
      client.setQueryData(queryKeys.stats, stats);
      onSuccess?.(stats, policy);
      void client.invalidateQueries({ queryKey: queryKeys.events.all });
    },
  });
}
