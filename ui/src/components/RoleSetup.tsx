import { useState, type FormEvent } from "react";
import type { RolePolicy, RoleRequest } from "../bindings.gen";
import { useRolePlan, useSetupRole, useSetupStatus, useStorageLayout } from "../api/setup";
import { errorMessage } from "../lib/errors";
import { SetupSteps } from "./StorageSetup";

type Draft = { region: string; mode: "create" | "existing"; role: string; roleArn: string; policy: RolePolicy };

/** Setup → Training, first part: the SageMaker execution role, its trust and permission
 * policies shown in full before anything is created. */
export function RoleSetup() {
  const { data: layout } = useStorageLayout();
  const { data: status } = useSetupStatus();
  const plan = useRolePlan();
  const apply = useSetupRole();
  const [draft, setDraft] = useState<Draft | null>(null);
  const d: Draft = draft ?? {
    region: layout?.region ?? "",
    mode: "create",
    role: "LooplineSageMakerExecution",
    roleArn: "",
    policy: layout && !layout.bucket.includes("sagemaker") ? "scoped" : "managed",
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
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    apply.reset();
    plan.mutate(request);
  };
  const shown = apply.data ?? plan.data ?? null;
  const saved = (status ?? []).filter((s) => s.key.startsWith("iam.") && s.at !== null);
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
        <div className="form-actions">
          <button type="submit" data-testid="role-plan" disabled={plan.isPending || apply.isPending || request.region === ""}>
            {plan.isPending ? "Checking…" : "Show the plan"}
          </button>
          {plan.data && !apply.data && (
            <button type="button" data-testid="role-create" disabled={apply.isPending} onClick={() => apply.mutate(request)}>
              {apply.isPending ? "Working…" : plan.data.steps.some((s) => s.status === "planned") ? "Create" : "Check again"}
            </button>
          )}
        </div>
      </form>
      {failure && (
        <p className="problem" role="alert" data-testid="role-error">
          {errorMessage(failure)}
        </p>
      )}
      {shown ? (
        <>
          <h3>{shown.planned ? "The plan (nothing done yet)" : "What was done"}</h3>
          <SetupSteps steps={shown.steps} testid={shown.planned ? "role-plan-steps" : "role-result-steps"} />
          {shown.steps
            .filter((s) => s.detail)
            .map((s) => (
              <details key={s.key} open={shown.planned}>
                <summary>{s.title}: the exact policy</summary>
                <pre className="policy" data-testid={`role-detail-${s.key}`}>
                  {s.detail}
                </pre>
              </details>
            ))}
        </>
      ) : (
        saved.length > 0 && (
          <>
            <h3>As it stands</h3>
            <SetupSteps steps={saved} testid="role-status-steps" />
          </>
        )
      )}
    </div>
  );
}
