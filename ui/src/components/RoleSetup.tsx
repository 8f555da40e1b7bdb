import { useState, type FormEvent } from "react";
import type { RolePolicy, RoleRequest } from "../bindings.gen";
import { useCancelSetup, useRolePlan, useSetupRole, useSetupStatus, useStorageLayout } from "../api/setup";
import { PipelineGraph } from "./PipelineGraph";
import { SetupOutcome } from "./SetupOutcome";

type PipelineMode = "template" | "existing" | "none";

type Draft = {
  region: string;
  mode: "create" | "existing";
  role: string;
  roleArn: string;
  policy: RolePolicy;
  pipelineMode: PipelineMode;
  pipeline: string;
  labels: string;
  trainingInstance: string;
};

const DETAIL_TITLE: Record<string, string> = {
  "iam.role": "the exact trust policy",
  "iam.policy": "the exact policy",
  "sm.pipeline": "the exact pipeline definition",
};

/** Setup → Training: the SageMaker execution role (trust and permission policies shown in
 * full) and the pipeline (its graph and definition shown) before anything is created. */
export function RoleSetup() {
  const { data: layout } = useStorageLayout();
  const { data: status } = useSetupStatus();
  const plan = useRolePlan();
  const apply = useSetupRole();
  const cancel = useCancelSetup("role");
  const [draft, setDraft] = useState<Draft | null>(null);
  const d: Draft = draft ?? {
    region: layout?.region ?? "",
    mode: "create",
    role: "LooplineSageMakerExecution",
    roleArn: "",
    policy: layout && !layout.bucket.includes("sagemaker") ? "scoped" : "managed",
    pipelineMode: "template",
    pipeline: "loopline-segmentation",
    labels: "Beak, Head, Wing, Body",
    trainingInstance: "ml.p3.2xlarge",
  };
  const edit = (patch: Partial<Draft>) => {
    setDraft({ ...d, ...patch });
    plan.reset();
    apply.reset();
  };
  const request: RoleRequest = {
    region: d.region.trim(),
    bucket: layout?.bucket ?? null,
    role: d.mode === "create" ? d.role.trim() || null : null,
    role_arn: d.mode === "existing" ? d.roleArn.trim() : null,
    policy: d.policy,
    pipeline: d.pipelineMode === "none" ? null : d.pipeline.trim() || null,
    labels:
      d.pipelineMode === "template"
        ? d.labels
            .split(",")
            .map((l) => l.trim())
            .filter((l) => l !== "")
        : [],
    training_instance: d.pipelineMode === "template" ? d.trainingInstance.trim() || null : null,
    use_existing_pipeline: d.pipelineMode === "existing",
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    apply.reset();
    plan.mutate(request);
  };
  const shown = apply.data ?? plan.data ?? null;
  const saved = (status ?? []).filter((s) => (s.key.startsWith("iam.") || s.key.startsWith("sm.")) && s.at !== null);
  const pipelineStep = (shown?.steps ?? saved).find((s) => s.key === "sm.pipeline" && s.detail);
  const failure = plan.error ?? apply.error ?? null;

  if (!layout) {
    return <p className="muted">Set up the storage first: the role is given access to that bucket.</p>;
  }
  return (
    <div className="role-setup" data-testid="role-setup">
      <form className="setup-form" onSubmit={submit}>
        <label htmlFor="role-region">Region</label>
        <input id="role-region" data-testid="role-region" value={d.region} onChange={(e) => edit({ region: e.target.value })} />
        <fieldset className="setup-choice">
          <legend>Execution role</legend>
          <label className="inline">
            <input type="radio" name="role-mode" data-testid="role-mode-create" checked={d.mode === "create"} onChange={() => edit({ mode: "create" })} />{" "}
            Create one (or reuse Loopline&apos;s) named
          </label>{" "}
          <input aria-label="Role name" data-testid="role-name" value={d.role} disabled={d.mode !== "create"} onChange={(e) => edit({ role: e.target.value })} />
          <label className="inline">
            <input type="radio" name="role-mode" data-testid="role-mode-existing" checked={d.mode === "existing"} onChange={() => edit({ mode: "existing" })} />{" "}
            Use an existing role (checked, never changed)
          </label>{" "}
          <input
            aria-label="Role ARN"
            data-testid="role-arn"
            placeholder="arn:aws:iam::123456789012:role/…"
            value={d.roleArn}
            disabled={d.mode !== "existing"}
            onChange={(e) => edit({ roleArn: e.target.value })}
          />
        </fieldset>
        {d.mode === "create" && (
          <fieldset className="setup-choice">
            <legend>Permissions</legend>
            <label className="inline">
              <input type="radio" name="role-policy" data-testid="role-policy-managed" checked={d.policy === "managed"} onChange={() => edit({ policy: "managed" })} />{" "}
              AmazonSageMakerFullAccess (simple; reaches buckets named *sagemaker* only)
            </label>
            <label className="inline">
              <input type="radio" name="role-policy" data-testid="role-policy-scoped" checked={d.policy === "scoped"} onChange={() => edit({ policy: "scoped" })} />{" "}
              Scoped to <code>s3://{layout.bucket}</code>, image pulls, job logs and passing this role
            </label>
          </fieldset>
        )}
        <fieldset className="setup-choice">
          <legend>Pipeline</legend>
          <label className="inline">
            <input type="radio" name="pipeline-mode" data-testid="pipeline-mode-template" checked={d.pipelineMode === "template"} onChange={() => edit({ pipelineMode: "template" })} />{" "}
            Build Loopline&apos;s (preprocess → train → clean up) named
          </label>{" "}
          <input aria-label="Pipeline name" data-testid="pipeline-name" value={d.pipeline} disabled={d.pipelineMode === "none"} onChange={(e) => edit({ pipeline: e.target.value })} />
          <label className="inline">
            <input type="radio" name="pipeline-mode" data-testid="pipeline-mode-existing" checked={d.pipelineMode === "existing"} onChange={() => edit({ pipelineMode: "existing" })} />{" "}
            I already have a pipeline: use the one named above as it is
          </label>
          <label className="inline">
            <input type="radio" name="pipeline-mode" data-testid="pipeline-mode-none" checked={d.pipelineMode === "none"} onChange={() => edit({ pipelineMode: "none" })} /> Only the
            role for now
          </label>
        </fieldset>
        {d.pipelineMode === "template" && (
          <>
            <label htmlFor="pipeline-labels">Labels</label>
            <input
              id="pipeline-labels"
              data-testid="pipeline-labels"
              value={d.labels}
              onChange={(e) => edit({ labels: e.target.value })}
              aria-describedby="pipeline-labels-help"
            />
            <p id="pipeline-labels-help" className="muted field-help">
              The classes annotated in Label Studio, in order, separated by commas; background is added as class 0.
            </p>
            <label htmlFor="pipeline-instance">Training instance</label>
            <input id="pipeline-instance" data-testid="pipeline-instance" value={d.trainingInstance} onChange={(e) => edit({ trainingInstance: e.target.value })} />
          </>
        )}
        <div className="form-actions">
          <button type="submit" data-testid="role-plan" disabled={plan.isPending || apply.isPending || request.region === ""}>
            {plan.isPending ? "Checking…" : "Show the plan"}
          </button>
          {plan.data && !apply.data && (
            <button type="button" data-testid="role-create" disabled={apply.isPending} onClick={() => apply.mutate(request)}>
              {apply.isPending ? "Working…" : plan.data.steps.some((s) => s.status === "planned") ? "Create" : "Check again"}
            </button>
          )}
          {apply.isPending && (
            <button type="button" data-testid="role-cancel" disabled={cancel.isPending} onClick={() => cancel.mutate()}>
              Cancel
            </button>
          )}
        </div>
      </form>
      <SetupOutcome id="role" failure={failure} shown={shown} saved={saved} detailTitles={DETAIL_TITLE} folded={["sm.pipeline"]}>
        {pipelineStep?.detail && <PipelineGraph definition={pipelineStep.detail} />}
      </SetupOutcome>
    </div>
  );
}
