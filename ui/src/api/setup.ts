import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type {
  ApiError,
  LabelingChoice,
  LabelingRequest,
  RoleRequest,
  SetupJob,
  SetupReport,
  SetupStep,
  SetupWork,
  StorageLayout,
  StorageRequest,
  UploadProgress,
} from "../bindings.gen";
import { call } from "./ipc";
import { queryKeys } from "./queryKeys";

/** Every setup step as it last ended ("to do" when it never ran). */
export function useSetupStatus() {
  return useQuery<SetupStep[], ApiError>({ queryKey: queryKeys.setupStatus, queryFn: () => call("setup_status") });
}

/** The bucket and prefixes the last storage setup saved. */
export function useStorageLayout() {
  return useQuery<StorageLayout | null, ApiError>({ queryKey: queryKeys.storageLayout, queryFn: () => call("storage_layout") });
}

/** What the storage setup would do; it does nothing. */
export function useStoragePlan() {
  return useMutation<SetupReport, ApiError, StorageRequest>({ mutationFn: (request) => call("setup_storage_plan", { request }) });
}

/** The background storage setup: polled fast while it runs, then left alone. */
export function useStorageJob() {
  return useQuery<SetupJob, ApiError>({
    queryKey: queryKeys.storageJob,
    queryFn: () => call("setup_storage_job"),
    refetchInterval: (q) => (q.state.data?.running ? 300 : false),
  });
}

export function useStartStorageSetup() {
  const client = useQueryClient();
  return useMutation<SetupJob, ApiError, StorageRequest>({
    mutationFn: (request) => call("setup_storage_start", { request }),
    onSuccess: (job) => client.setQueryData(queryKeys.storageJob, job),
  });
}

export function useCancelStorageSetup() {
  const client = useQueryClient();
  return useMutation<SetupJob, ApiError, void>({
    mutationFn: () => call("setup_storage_cancel"),
    onSuccess: (job) => client.setQueryData(queryKeys.storageJob, job),
  });
}

/** Cancel for the work that waits on others (the loop check, the labeling setup, the role's
 * pipeline while IAM spreads the new role): it stops at its next wait and reports what was done. */
export function useCancelSetup(work: SetupWork) {
  return useMutation<boolean, ApiError, void>({ mutationFn: () => call("setup_cancel", { work }) });
}

/** The execution role and its policy, planned: nothing is created. */
export function useRolePlan() {
  return useMutation<SetupReport, ApiError, RoleRequest>({ mutationFn: (request) => call("setup_role_plan", { request }) });
}

export function useSetupRole() {
  const client = useQueryClient();
  return useMutation<SetupReport, ApiError, RoleRequest>({
    mutationFn: (request) => call("setup_role", { request }),
    onSettled: () => {
      void client.invalidateQueries({ queryKey: queryKeys.setupStatus });
      void client.invalidateQueries({ queryKey: queryKeys.chosenPipeline });
    },
  });
}

const MB = 1_000_000;

/** "120 of 500 files · 24.0 of 100.0 MB · 12.5 MB/s · 6 s left" */
export function progressSentence(p: UploadProgress): string {
  const parts = [
    `${p.files_done.toLocaleString("en-US")} of ${p.files_total.toLocaleString("en-US")} files`,
    `${(p.bytes_done / MB).toFixed(1)} of ${(p.bytes_total / MB).toFixed(1)} MB`,
  ];
  if (p.bytes_per_second > 0) parts.push(`${(p.bytes_per_second / MB).toFixed(1)} MB/s`);
  if (p.seconds_left !== null && !p.finished) {
    const s = p.seconds_left;
    parts.push(s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s left` : `${s} s left`);
  }
  return parts.join(" · ");
}

export const STEP_LABEL: Record<SetupStep["status"], string> = {
  planned: "To do",
  unchanged: "Done",
  created: "Created",
  updated: "Updated",
  uploaded: "Uploaded",
  skipped: "Skipped",
  failed: "Failed",
};

/** The Label Studio project, storages and webhook, planned: nothing is created. */
export function useLabelingPlan() {
  return useMutation<SetupReport, ApiError, LabelingRequest>({ mutationFn: (request) => call("setup_labeling_plan", { request }) });
}

export function useSetupLabeling() {
  const client = useQueryClient();
  return useMutation<SetupReport, ApiError, LabelingRequest>({
    mutationFn: (request) => call("setup_labeling", { request }),
    onSettled: () => {
      void client.invalidateQueries({ queryKey: queryKeys.setupStatus });
      void client.invalidateQueries({ queryKey: queryKeys.labelingChoice });
    },
  });
}

/** The project, storages and source the last labeling setup chose. */
export function useLabelingChoice() {
  return useQuery<LabelingChoice | null, ApiError>({ queryKey: queryKeys.labelingChoice, queryFn: () => call("labeling_choice") });
}

/** Step 8: one test annotation through the public URL, end to end, removed after. */
export function useSetupCheck() {
  const client = useQueryClient();
  return useMutation<SetupReport, ApiError, { source: string; project: number }>({
    mutationFn: (args) => call("setup_check", args),
    onSettled: () => {
      void client.invalidateQueries({ queryKey: queryKeys.setupStatus });
      void client.invalidateQueries({ queryKey: queryKeys.rules });
    },
  });
}

/** When Setup was first opened: the first run's clock starts there. */
export function useSetupStarted() {
  return useQuery<number, ApiError>({ queryKey: queryKeys.setupStarted, queryFn: () => call("setup_started"), staleTime: Infinity });
}

/** The pipeline the training setup settled on, for the retrain rule. */
export function useChosenPipelineName() {
  return useQuery<string | null, ApiError>({ queryKey: queryKeys.chosenPipeline, queryFn: () => call("chosen_pipeline_name") });
}
