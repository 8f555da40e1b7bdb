import { skipToken, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ApiError, ModelDecision, ModelMetric, ModelVersion } from "../bindings.gen";
import { call } from "./ipc";
import { queryKeys } from "./queryKeys";

/** A version appears when the run's RegisterModel step ends, which no push announces. */
const POLL_MS = 10_000;

/** The version a run registered (`loopline models show --run ID`), or null while there is none. */
export function useRunModel(runId: number | null) {
  return useQuery<ModelVersion | null, ApiError>({
    queryKey: queryKeys.models.run(runId ?? -1),
    queryFn: runId === null ? skipToken : () => call("run_model", { runId }),
    refetchInterval: POLL_MS,
    retry: false,
  });
}

export type Decision = { version: string; decision: ModelDecision; note: string | null };

/** Approve or reject (`loopline models approve|reject`); every version's comparison may change. */
export function useDecideModel() {
  const client = useQueryClient();
  return useMutation<ModelVersion, ApiError, Decision>({
    mutationFn: (d) => call("model_decide", d),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: queryKeys.models.all });
    },
  });
}

/** `0.6250`, and `+0.1250` for a delta: four places tell two close models apart. */
export function metricValue(v: number): string {
  return v.toFixed(4);
}

export function metricDelta(m: ModelMetric): string | null {
  if (m.delta === null) return null;
  const sign = m.delta > 0 ? "+" : m.delta < 0 ? "−" : "±";
  return `${sign}${Math.abs(m.delta).toFixed(4)}`;
}

/** What SageMaker's status means to the person deciding. */
export function statusWords(status: string): string {
  switch (status) {
    case "PendingManualApproval":
      return "Waiting for approval";
    case "Approved":
      return "Approved";
    case "Rejected":
      return "Rejected";
    default:
      return status;
  }
}
