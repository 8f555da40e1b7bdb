import { useState, type FormEvent } from "react";
import type { LabelTemplate, LabelingRequest, StorageCredentials } from "../bindings.gen";
import { useCancelSetup, useLabelingChoice, useLabelingPlan, useSetupLabeling, useSetupStatus, useStorageLayout } from "../api/setup";
import { SetupOutcome } from "./SetupOutcome";

type Draft = {
  title: string;
  project: string;
  template: LabelTemplate;
  labels: string;
  credentials: StorageCredentials;
  keyId: string;
  secretName: string;
};

const DETAIL_TITLE: Record<string, string> = {
  "ls.project": "the exact labeling config",
  "ls.credentials": "the exact IAM policy",
};

/** The request this form stands for. The webhook is registered with the retrain rule, once
 * the tunnel is verified. */
export function labelingRequest(d: Draft): LabelingRequest {
  const project = d.project.trim();
  return {
    project_title: d.title.trim(),
    project: /^\d+$/.test(project) ? Number(project) : null,
    template: d.template,
    label_config: null,
    labels: d.labels
      .split(",")
      .map((l) => l.trim())
      .filter((l) => l !== ""),
    bucket: null,
    region: null,
    images_prefix: null,
    annotations_prefix: null,
    storage_credentials: d.credentials,
    access_key_id: d.credentials === "keys" ? d.keyId.trim() || null : null,
    secret_key_secret: d.credentials === "keys" ? d.secretName.trim() || null : null,
    source: null,
    public_url: null,
  };
}

/** Setup → Labeling project: the Label Studio project, its storages (images in, annotations
 * out) and the AWS credentials Label Studio uses, shown before anything is created. */
export function LabelingSetup() {
  const { data: layout } = useStorageLayout();
  const { data: status } = useSetupStatus();
  const { data: choice } = useLabelingChoice();
  const plan = useLabelingPlan();
  const apply = useSetupLabeling();
  const cancel = useCancelSetup("labeling");
  const [draft, setDraft] = useState<Draft | null>(null);
  const d: Draft = draft ?? {
    title: choice?.title ?? "Birds",
    project: choice ? String(choice.project) : "",
    template: "semantic-segmentation-polygons",
    labels: "",
    credentials: "scoped-user",
    keyId: "",
    secretName: "ls-storage-secret-key",
  };
  const edit = (patch: Partial<Draft>) => {
    setDraft({ ...d, ...patch });
    plan.reset();
    apply.reset();
  };
  const request = labelingRequest(d);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    apply.reset();
    plan.mutate(request);
  };
  const shown = apply.data ?? plan.data ?? null;
  const saved = (status ?? []).filter((s) => s.key.startsWith("ls.") && s.at !== null);
  const failure = plan.error ?? apply.error ?? null;

  if (!layout) {
    return <p className="muted">Set up the storage first: Label Studio reads the images from that bucket.</p>;
  }
  return (
    <div className="labeling-setup" data-testid="labeling-setup">
      <form className="setup-form" onSubmit={submit}>
        <label htmlFor="labeling-title">Project title</label>
        <input id="labeling-title" data-testid="labeling-title" value={d.title} onChange={(e) => edit({ title: e.target.value })} />
        <label htmlFor="labeling-project">Or project id</label>
        <input
          id="labeling-project"
          data-testid="labeling-project"
          inputMode="numeric"
          placeholder="an existing project, from its URL: /projects/7"
          value={d.project}
          onChange={(e) => edit({ project: e.target.value })}
        />
        <label htmlFor="labeling-template">Template</label>
        <select id="labeling-template" data-testid="labeling-template" value={d.template} onChange={(e) => edit({ template: e.target.value as LabelTemplate })}>
          <option value="semantic-segmentation-polygons">Semantic segmentation with polygons</option>
          <option value="bounding-boxes">Object detection with bounding boxes</option>
        </select>
        <label htmlFor="labeling-labels">Labels</label>
        <input
          id="labeling-labels"
          data-testid="labeling-labels"
          placeholder="the pipeline's labels"
          value={d.labels}
          onChange={(e) => edit({ labels: e.target.value })}
        />
        <fieldset className="setup-choice">
          <legend>AWS credentials Label Studio uses for s3://{layout.bucket}</legend>
          <label className="inline">
            <input type="radio" name="labeling-creds" data-testid="labeling-creds-scoped" checked={d.credentials === "scoped-user"} onChange={() => edit({ credentials: "scoped-user" })} />{" "}
            A dedicated IAM user for <code>{layout.images}/</code> (read) and <code>{layout.annotations}/</code> (write) only. Its key goes to Label Studio
            once; Loopline never keeps it.
          </label>
          <label className="inline">
            <input type="radio" name="labeling-creds" data-testid="labeling-creds-keys" checked={d.credentials === "keys"} onChange={() => edit({ credentials: "keys" })} /> Keys I
            give: the access key id, and the secret key stored under a name in Settings › Credentials
          </label>
          <label className="inline">
            <input type="radio" name="labeling-creds" data-testid="labeling-creds-none" checked={d.credentials === "none"} onChange={() => edit({ credentials: "none" })} /> None:
            Label Studio runs on AWS with its own role
          </label>
        </fieldset>
        {d.credentials === "keys" && (
          <>
            <label htmlFor="labeling-key-id">Access key id</label>
            <input id="labeling-key-id" data-testid="labeling-key-id" value={d.keyId} onChange={(e) => edit({ keyId: e.target.value })} />
            <label htmlFor="labeling-secret-name">Secret key (stored as)</label>
            <input id="labeling-secret-name" data-testid="labeling-secret-name" value={d.secretName} onChange={(e) => edit({ secretName: e.target.value })} />
          </>
        )}
        <div className="form-actions">
          <button type="submit" data-testid="labeling-plan" disabled={plan.isPending || apply.isPending || (request.project_title.length < 3 && request.project === null)}>
            {plan.isPending ? "Checking…" : "Show the plan"}
          </button>
          {plan.data && !apply.data && (
            <button type="button" data-testid="labeling-create" disabled={apply.isPending} onClick={() => apply.mutate(request)}>
              {apply.isPending ? "Working… (syncing images into tasks)" : plan.data.steps.some((s) => s.status === "planned") ? "Create" : "Check again"}
            </button>
          )}
          {apply.isPending && (
            <button type="button" data-testid="labeling-cancel" disabled={cancel.isPending} onClick={() => cancel.mutate()}>
              Cancel
            </button>
          )}
        </div>
      </form>
      <SetupOutcome id="labeling" failure={failure} shown={shown} saved={saved} detailTitles={DETAIL_TITLE} />
    </div>
  );
}
