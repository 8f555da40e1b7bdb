import { useEffect, useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { queryKeys } from "../api/queryKeys";
import type { SetupStep, StorageRequest } from "../bindings.gen";
import { useAwsSettings } from "../api/credentials";
import {
  STEP_LABEL,
  progressSentence,
  useCancelStorageSetup,
  useSetupStatus,
  useStartStorageSetup,
  useStorageJob,
  useStorageLayout,
  useStoragePlan,
} from "../api/setup";
import { errorMessage } from "../lib/errors";

type Draft = { bucket: string; region: string; imagesDir: string; images: string; annotations: string; scripts: string; model: string };

const dotOf = (s: SetupStep["status"]) => (s === "failed" ? "failed" : s === "planned" || s === "skipped" ? "pending" : "ok");

export function SetupSteps({ steps, testid }: { steps: SetupStep[]; testid: string }) {
  return (
    <ul className="setup-steps" data-testid={testid}>
      {steps.map((s) => (
        <li key={s.key} data-testid={`step-${s.key}`} data-status={s.status}>
          <span className={`dot ${dotOf(s.status)}`} aria-hidden="true" />
          <div>
            <strong>{s.title}</strong> <span className="step-state">{STEP_LABEL[s.status]}</span>
            {s.resource && (
              <>
                {" "}
                <code>{s.resource}</code>
              </>
            )}
            <div className={s.status === "failed" ? "problem" : "muted"}>{s.summary}</div>
          </div>
        </li>
      ))}
    </ul>
  );
}

/** Setup → Storage: the bucket, its layout and the images, planned before anything is done. */
export function StorageSetup() {
  const { data: layout } = useStorageLayout();
  const { data: aws } = useAwsSettings();
  const { data: status } = useSetupStatus();
  const { data: job } = useStorageJob();
  const plan = useStoragePlan();
  const start = useStartStorageSetup();
  const cancel = useCancelStorageSetup();
  const [draft, setDraft] = useState<Draft | null>(null);
  const d: Draft = draft ?? {
    bucket: layout?.bucket ?? "",
    region: layout?.region ?? aws?.region ?? "",
    imagesDir: "",
    images: layout?.images ?? "bird-images",
    annotations: layout?.annotations ?? "annotations",
    scripts: layout?.scripts ?? "script",
    model: layout?.model ?? "model",
  };
  const edit = (patch: Partial<Draft>) => {
    setDraft({ ...d, ...patch });
    plan.reset();
  };
  const request: StorageRequest = {
    bucket: d.bucket.trim(),
    region: d.region.trim(),
    images_dir: d.imagesDir.trim() === "" ? null : d.imagesDir.trim(),
    images_prefix: d.images,
    annotations_prefix: d.annotations,
    scripts_prefix: d.scripts,
    model_prefix: d.model,
  };
  const running = job?.running ?? false;
  const client = useQueryClient();
  // When a run ends, the steps' saved state and the layout changed behind the queries.
  useEffect(() => {
    if (!running && job?.report) {
      void client.invalidateQueries({ queryKey: queryKeys.setupStatus });
      void client.invalidateQueries({ queryKey: queryKeys.storageLayout });
    }
  }, [running, job?.report, client]);
  const submitPlan = (e: FormEvent) => {
    e.preventDefault();
    start.reset();
    plan.mutate(request);
  };
  const storageSteps = (status ?? []).filter((s) => s.key.startsWith("s3."));
  const finished = !running && job?.report ? job.report : null;
  const shown = running ? null : (finished ?? plan.data ?? null);
  const failure = plan.error ?? start.error ?? (!running ? job?.error : null) ?? null;
  const planHasWork = plan.data?.steps.some((s) => s.status === "planned") ?? false;

  return (
    <div className="storage-setup" data-testid="storage-setup">
      <form className="setup-form" onSubmit={submitPlan}>
        <label htmlFor="storage-bucket">Bucket</label>
        <input
          id="storage-bucket"
          data-testid="storage-bucket"
          placeholder="sagemaker-birds-yourname"
          value={d.bucket}
          onChange={(e) => edit({ bucket: e.target.value })}
          spellCheck={false}
        />
        <label htmlFor="storage-region">Region</label>
        <input id="storage-region" data-testid="storage-region" placeholder="eu-west-1" value={d.region} onChange={(e) => edit({ region: e.target.value })} />
        <label htmlFor="storage-images-dir">Images folder</label>
        <input
          id="storage-images-dir"
          data-testid="storage-images-dir"
          placeholder="/home/you/birds (optional)"
          value={d.imagesDir}
          onChange={(e) => edit({ imagesDir: e.target.value })}
          spellCheck={false}
        />
        <details className="setup-advanced">
          <summary>Prefixes in the bucket</summary>
          <div className="setup-advanced-fields">
          <label htmlFor="storage-prefix-images">Images</label>
          <input id="storage-prefix-images" data-testid="storage-prefix-images" value={d.images} onChange={(e) => edit({ images: e.target.value })} />
          <label htmlFor="storage-prefix-annotations">Annotations</label>
          <input id="storage-prefix-annotations" value={d.annotations} onChange={(e) => edit({ annotations: e.target.value })} />
          <label htmlFor="storage-prefix-scripts">Scripts</label>
          <input id="storage-prefix-scripts" value={d.scripts} onChange={(e) => edit({ scripts: e.target.value })} />
          <label htmlFor="storage-prefix-model">Model output</label>
          <input id="storage-prefix-model" value={d.model} onChange={(e) => edit({ model: e.target.value })} />
          </div>
        </details>
        <p className="muted">
          A name starting with <code>sagemaker-</code> lets the managed SageMaker policy reach the bucket. The bucket stays private.
        </p>
        <div className="form-actions">
          <button type="submit" data-testid="storage-plan" disabled={plan.isPending || running || request.bucket === "" || request.region === ""}>
            {plan.isPending ? "Checking…" : "Show the plan"}
          </button>
          {plan.data && (
            <button
              type="button"
              data-testid="storage-create"
              disabled={start.isPending || running}
              onClick={() => start.mutate(request, { onSuccess: () => plan.reset() })}
            >
              {planHasWork ? "Create" : "Check again"}
            </button>
          )}
        </div>
      </form>
      {failure && (
        <p className="problem" role="alert" data-testid="storage-error">
          {errorMessage(failure)}
        </p>
      )}
      {running && (
        <div className="upload-progress" data-testid="storage-progress" role="status">
          <div
            className="progress-track"
            role="progressbar"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={job?.progress && job.progress.bytes_total > 0 ? Math.round((100 * job.progress.bytes_done) / job.progress.bytes_total) : 0}
          >
            <div
              className="progress-fill"
              style={{ width: `${job?.progress && job.progress.bytes_total > 0 ? (100 * job.progress.bytes_done) / job.progress.bytes_total : 0}%` }}
            />
          </div>
          <p className="progress-sentence" data-testid="storage-progress-text">
            {job?.progress ? progressSentence(job.progress) : "Checking the bucket…"}
          </p>
          <button type="button" data-testid="storage-cancel" disabled={cancel.isPending} onClick={() => cancel.mutate()}>
            Cancel
          </button>
        </div>
      )}
      {shown ? (
        <>
          <h3>{shown.planned ? "The plan (nothing done yet)" : "What was done"}</h3>
          <SetupSteps steps={shown.steps} testid={shown.planned ? "storage-plan-steps" : "storage-result-steps"} />
        </>
      ) : (
        !running &&
        storageSteps.some((s) => s.at !== null) && (
          <>
            <h3>As it stands</h3>
            <SetupSteps steps={storageSteps} testid="storage-status-steps" />
          </>
        )
      )}
    </div>
  );
}
