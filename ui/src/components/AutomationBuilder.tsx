import { useMemo, useState, type FormEvent } from "react";
import { Link } from "@tanstack/react-router";
import type { ApiError, Automation, AutomationAction, AutomationRequest, ConditionField, Counter, FireMode, Source } from "../bindings.gen";
import { TRIGGER_ACTIONS, useAddAutomation, useAutomationPreview } from "../api/automations";
import { COUNTER_NOUN, parseParams } from "../api/runs";
import { errorMessage } from "../lib/errors";
import { ConditionRows, toCondition, type ConditionDraft } from "./ConditionRows";
import { EMPTY_START_PIPELINE, StartPipelineFields, type StartPipelineDraft } from "./StartPipelineFields";
import { SharedProjectNotice } from "./SharedProjectNotice";

type Props = {
  sources: Source[];
  fields: ConditionField[];
  /** The automations there are: a start-a-pipeline one may train on a dataset-version one's versions. */
  automations: Automation[];
  onAdded: (a: Automation) => void;
};

type Draft = {
  name: string;
  sourceId: string;
  actions: string[];
  project: string;
  conditions: ConditionDraft[];
  fire: "each" | "every";
  every: string;
  counter: Counter;
  kind: AutomationAction["kind"];
  url: string;
  secretName: string;
  bodyTemplate: string;
  desktop: boolean;
  slackSecret: string;
  message: string;
  bucket: string;
  prefix: string;
  region: string;
  keep: string;
  start: StartPipelineDraft;
  /** Asked for only when the engine could not read the project's count from Label Studio. */
  startCount: string;
  dryRun: boolean;
};

const EMPTY: Draft = {
  name: "",
  sourceId: "",
  actions: ["ANNOTATION_CREATED"],
  project: "",
  conditions: [],
  fire: "each",
  every: "16",
  counter: "useful",
  kind: "forward",
  url: "",
  secretName: "",
  bodyTemplate: "",
  desktop: true,
  slackSecret: "",
  message: "",
  bucket: "",
  prefix: "",
  region: "",
  keep: "10",
  start: EMPTY_START_PIPELINE,
  startCount: "",
  dryRun: false,
};

const optional = (s: string) => (s.trim() === "" ? null : s.trim());

/** Parameters as typed; a line the engine would refuse is left out of the preview, and refused at save. */
function paramsOrNone(text: string) {
  try {
    return parseParams(text);
  } catch {
    return [];
  }
}

/** The request the form says. Numbers that do not parse go as they are, for the engine to refuse in words. */
function toRequest(d: Draft, sourceId: string, fields: ConditionField[]): AutomationRequest {
  const project = d.project.trim();
  // A start-a-pipeline automation counts the project's annotations: always every N.
  const each = d.fire === "each" && d.kind !== "start_pipeline";
  const fire: FireMode = each ? { mode: "each" } : { mode: "every", n: Number(d.every.trim() || "0"), counter: d.counter };
  const action: AutomationAction =
    d.kind === "start_pipeline"
      ? {
          kind: "start_pipeline",
          pipeline: d.start.pipeline.trim(),
          params: paramsOrNone(d.start.params),
          overlap: d.start.overlap,
          start_time_limit_secs: Number(d.start.limitMinutes.trim() || "0") * 60,
          ...(d.start.dataset !== "" ? { dataset: d.start.dataset } : {}),
        }
      : d.kind === "forward"
      ? { kind: "forward", url: d.url.trim(), secret_name: optional(d.secretName), body_template: d.bodyTemplate.trim() === "" ? null : d.bodyTemplate }
      : d.kind === "notify"
        ? { kind: "notify", desktop: d.desktop, slack_url_secret: optional(d.slackSecret), message: d.message }
        : { kind: "dataset_version", bucket: d.bucket.trim(), prefix: optional(d.prefix), region: optional(d.region), keep: Number(d.keep.trim() || "0") };
  return {
    name: d.name.trim(),
    trigger: {
      source_id: sourceId,
      actions: d.actions,
      project_id: project === "" || !/^\d+$/.test(project) ? null : Number(project),
      conditions: d.conditions.map((c) => toCondition(c, fields)),
      fire,
    },
    action,
    dry_run: d.dryRun,
    ...(/^\d+$/.test(d.startCount.trim()) ? { start_count: Number(d.startCount.trim()) } : {}),
  };
}

function ErrorLine({ error, testId }: { error: ApiError; testId: string }) {
  return (
    <p className="problem" role="alert" data-testid={testId} data-code={error.code}>
      <code>{error.code}</code>: {error.message}
    </p>
  );
}

/** Which events, under which conditions, how often, and what to do; previewed as it is typed. */
export function AutomationBuilder({ sources, fields, automations, onAdded }: Props) {
  const [d, setD] = useState<Draft>(EMPTY);
  const set = (patch: Partial<Draft>) => setD((old) => ({ ...old, ...patch }));
  const sourceId = sources.some((s) => s.id === d.sourceId) ? d.sourceId : (sources[0]?.id ?? "");
  const request = useMemo(() => toRequest(d, sourceId, fields), [d, sourceId, fields]);
  const previewable = sourceId !== "" && d.actions.length > 0;
  const preview = useAutomationPreview(previewable ? request : null);
  const add = useAddAutomation({
    onSuccess: (created) => {
      // Only a saved automation clears the form; a refusal keeps every field as typed.
      setD(EMPTY);
      onAdded(created);
    },
  });
  const badProject = d.project.trim() !== "" && !/^\d+$/.test(d.project.trim());
  // Refusals the user answers in the form: another Loopline on the project, an unknown count.
  const [invalid, setInvalid] = useState<string | null>(null);
  const shared = add.error?.code === "shared_project" ? add.error : null;
  const askCount = add.error?.code === "start_count_unknown" || d.startCount !== "";
  const datasets = automations.filter(
    (a) => a.action.kind === "dataset_version" && a.trigger.source_id === sourceId && String(a.trigger.project_id ?? "") === d.project.trim(),
  );

  const toggleAction = (a: string) =>
    set({ actions: d.actions.includes(a) ? d.actions.filter((x) => x !== a) : [...d.actions, a] });

  const save = (evenIfShared: boolean) => {
    setInvalid(null);
    if (d.kind === "start_pipeline") {
      try {
        parseParams(d.start.params);
      } catch (err) {
        setInvalid(errorMessage(err));
        return;
      }
    }
    add.mutate(evenIfShared ? { ...request, even_if_shared: true } : request);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save(false);
  };

  return (
    <form className="rule-form automation-form" aria-labelledby="automation-form-title" data-testid="automation-form" onSubmit={submit}>
      <h2 id="automation-form-title">Add an automation</h2>
      <div className="form-grid">
        <label htmlFor="auto-name">Name</label>
        <input id="auto-name" data-testid="auto-name" placeholder="Annotations to our database" autoComplete="off" value={d.name} onChange={(e) => set({ name: e.target.value })} />

        <label htmlFor="auto-source">Source</label>
        <select id="auto-source" data-testid="auto-source" value={sourceId} disabled={sources.length === 0} onChange={(e) => set({ sourceId: e.target.value })}>
          {sources.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name} ({s.kind})
            </option>
          ))}
        </select>

        <span className="form-label" id="auto-actions-label">
          On
        </span>
        <fieldset className="action-picks" aria-labelledby="auto-actions-label" data-testid="auto-actions">
          {TRIGGER_ACTIONS.map((a) => (
            <label key={a} className="checkbox mono">
              <input type="checkbox" checked={d.actions.includes(a)} onChange={() => toggleAction(a)} />
              {a}
            </label>
          ))}
        </fieldset>

        <label htmlFor="auto-project">Project (optional)</label>
        <span className="field-with-hint">
          <input id="auto-project" data-testid="auto-project" className="short" inputMode="numeric" placeholder="any" autoComplete="off" value={d.project} onChange={(e) => set({ project: e.target.value })} />
          {badProject && <span className="hint problem">The project is a whole number, as in Label Studio's address: /projects/7.</span>}
        </span>

        <span className="form-label">Conditions</span>
        <ConditionRows rows={d.conditions} fields={fields} onChange={(conditions) => set({ conditions })} />

        <span className="form-label">Fires</span>
        <span className="inline-field">
          <label className="checkbox">
            <input
              type="radio"
              name="auto-fire"
              data-testid="auto-fire-each"
              disabled={d.kind === "start_pipeline"}
              checked={d.fire === "each" && d.kind !== "start_pipeline"}
              onChange={() => set({ fire: "each" })}
            />
            for each matching event
          </label>
          <label className="checkbox">
            <input
              type="radio"
              name="auto-fire"
              data-testid="auto-fire-every"
              checked={d.fire === "every" || d.kind === "start_pipeline"}
              onChange={() => set({ fire: "every" })}
            />
            every
          </label>
          <label htmlFor="auto-every" className="visually-hidden">
            Every N
          </label>
          <input id="auto-every" data-testid="auto-every" className="short" inputMode="numeric" disabled={d.fire !== "every" && d.kind !== "start_pipeline"} value={d.every} onChange={(e) => set({ every: e.target.value })} />
          <label htmlFor="auto-counter" className="visually-hidden">
            Counter
          </label>
          <select id="auto-counter" data-testid="auto-counter" disabled={d.fire !== "every" && d.kind !== "start_pipeline"} value={d.counter} onChange={(e) => set({ counter: e.target.value as Counter })}>
            <option value="useful">{COUNTER_NOUN.useful}</option>
            <option value="total">{COUNTER_NOUN.total}</option>
          </select>
        </span>

        <label htmlFor="auto-kind">Then</label>
        <select id="auto-kind" data-testid="auto-kind" value={d.kind} onChange={(e) => set({ kind: e.target.value as AutomationAction["kind"] })}>
          <option value="forward">Forward the event to a URL</option>
          <option value="notify">Notify (desktop, Slack)</option>
          <option value="dataset_version">Freeze a dataset version (S3 manifest)</option>
          <option value="start_pipeline">Start a SageMaker pipeline (retrain)</option>
        </select>

        {d.kind === "start_pipeline" ? (
          <StartPipelineFields draft={d.start} datasets={datasets} onChange={(patch) => set({ start: { ...d.start, ...patch } })} />
        ) : d.kind === "forward" ? (
          <>
            <label htmlFor="auto-url">URL</label>
            <input id="auto-url" data-testid="auto-url" className="mono" placeholder="https://example.com/hooks/annotations" autoComplete="off" spellCheck={false} value={d.url} onChange={(e) => set({ url: e.target.value })} />
            <label htmlFor="auto-secret">Signing secret name</label>
            <span className="field-with-hint">
              <input id="auto-secret" data-testid="auto-secret" className="mono" placeholder="optional, e.g. forward-db" autoComplete="off" spellCheck={false} value={d.secretName} onChange={(e) => set({ secretName: e.target.value })} />
              <span className="hint muted">A keychain secret (whsec_…) set in Settings or with `loopline secret set`; unsigned without one.</span>
            </span>
            <label htmlFor="auto-template">Body template</label>
            <span className="field-with-hint">
              <textarea id="auto-template" data-testid="auto-template" className="mono" rows={3} spellCheck={false} placeholder="optional: the original body when empty" value={d.bodyTemplate} onChange={(e) => set({ bodyTemplate: e.target.value })} />
            </span>
          </>
        ) : d.kind === "dataset_version" ? (
          <>
            <label htmlFor="auto-bucket">Bucket</label>
            <input id="auto-bucket" data-testid="auto-bucket" className="mono" placeholder="the bucket Setup created" autoComplete="off" spellCheck={false} value={d.bucket} onChange={(e) => set({ bucket: e.target.value })} />
            <label htmlFor="auto-prefix">Annotations prefix</label>
            <span className="field-with-hint">
              <input id="auto-prefix" data-testid="auto-prefix" className="mono" placeholder="optional: Setup's, or annotations" autoComplete="off" spellCheck={false} value={d.prefix} onChange={(e) => set({ prefix: e.target.value })} />
              <span className="hint muted">Each version lists the objects here with their ETags and writes s3://bucket/datasets/…/vN/manifest.json.</span>
            </span>
            <label htmlFor="auto-region">Region</label>
            <input id="auto-region" data-testid="auto-region" className="mono short" placeholder="optional for Setup's bucket" autoComplete="off" spellCheck={false} value={d.region} onChange={(e) => set({ region: e.target.value })} />
            <label htmlFor="auto-keep">Keep the last</label>
            <span className="field-with-hint">
              <input id="auto-keep" data-testid="auto-keep" className="short" inputMode="numeric" value={d.keep} onChange={(e) => set({ keep: e.target.value })} />
              <span className="hint muted">versions; older manifests are deleted, the annotations never are.</span>
            </span>
          </>
        ) : (
          <>
            <span className="form-label">Where</span>
            <label className="checkbox">
              <input type="checkbox" data-testid="auto-desktop" checked={d.desktop} onChange={(e) => set({ desktop: e.target.checked })} />
              desktop notification
            </label>
            <label htmlFor="auto-slack">Slack URL secret name</label>
            <input id="auto-slack" data-testid="auto-slack" className="mono" placeholder="optional, e.g. slack-labeling" autoComplete="off" spellCheck={false} value={d.slackSecret} onChange={(e) => set({ slackSecret: e.target.value })} />
            <label htmlFor="auto-message">Message</label>
            <span className="field-with-hint">
              <input id="auto-message" data-testid="auto-message" placeholder="New project '{project.title}' is ready for labeling" autoComplete="off" value={d.message} onChange={(e) => set({ message: e.target.value })} />
              <span className="hint muted">Fields in braces are filled from the event: {"{project.title}"}, {"{annotation.id}"}, …</span>
            </span>
          </>
        )}

        {askCount && (
          <>
            <label htmlFor="auto-start-count">Annotations in the project now</label>
            <span className="field-with-hint">
              <input id="auto-start-count" data-testid="auto-start-count" className="short" inputMode="numeric" value={d.startCount} onChange={(e) => set({ startCount: e.target.value })} />
              <span className="hint muted">Label Studio could not be asked. Counting starts from this number, so older annotations never fire it.</span>
            </span>
          </>
        )}

        <span />
        <label className="checkbox">
          <input type="checkbox" data-testid="auto-dry-run" checked={d.dryRun} onChange={(e) => set({ dryRun: e.target.checked })} />
          Dry run (record “would fire”, send nothing)
        </label>
      </div>

      <section className="automation-preview" aria-label="Preview" aria-live="polite" data-testid="automation-preview">
        {!previewable && <p className="muted">Choose a source and at least one action to see how often it would have fired.</p>}
        {previewable && preview.error && <ErrorLine error={preview.error} testId="automation-preview-error" />}
        {previewable && !preview.error && preview.data && (
          <>
            <p data-testid="automation-preview-sentence" data-would-fire={preview.data.would_fire.length}>
              {preview.data.sentence}
            </p>
            {preview.data.would_fire.length > 0 && (
              <p className="preview-events muted">
                Events:{" "}
                {preview.data.would_fire.map((id, i) => (
                  <span key={id}>
                    {i > 0 && ", "}
                    <Link to="/timeline/$eventId" params={{ eventId: id }} data-testid="automation-preview-event">
                      #{id}
                    </Link>
                  </span>
                ))}
              </p>
            )}
          </>
        )}
        {previewable && !preview.error && !preview.data && <p className="muted">Looking at the last 50 matching events…</p>}
      </section>

      <div className="toolbar">
        <button type="submit" data-testid="automation-save" disabled={add.isPending || sources.length === 0}>
          {add.isPending ? "Saving…" : "Save automation"}
        </button>
      </div>
      {invalid && (
        <p className="problem" role="alert" data-testid="automation-save-error">
          {invalid}
        </p>
      )}
      {shared ? (
        <SharedProjectNotice error={shared} busy={add.isPending} onGoOn={() => save(true)} onCancel={() => add.reset()} testId="automation-shared" />
      ) : (
        add.error && <ErrorLine error={add.error} testId="automation-save-error" />
      )}
    </form>
  );
}
