import type { Automation, Overlap } from "../bindings.gen";
import { OVERLAP_OPTIONS, PARAM_PLACEHOLDERS } from "../api/runs";

export type StartPipelineDraft = {
  pipeline: string;
  params: string;
  overlap: Overlap;
  /** A dataset-version automation's id, or "" for none. */
  dataset: string;
  limitMinutes: string;
};

export const EMPTY_START_PIPELINE: StartPipelineDraft = {
  pipeline: "",
  params: "",
  overlap: "coalesce",
  dataset: "",
  limitMinutes: "15",
};

type Props = {
  draft: StartPipelineDraft;
  /** The dataset-version automations of the chosen source and project: what a run may train on. */
  datasets: Automation[];
  onChange: (patch: Partial<StartPipelineDraft>) => void;
};

/** The start-a-pipeline action: the retrain rule's fields, and the dataset version its runs train on. */
export function StartPipelineFields({ draft, datasets, onChange }: Props) {
  const explanation = OVERLAP_OPTIONS.find((o) => o.value === draft.overlap)?.explanation;
  return (
    <>
      <label htmlFor="auto-pipeline">Pipeline name or ARN</label>
      <input
        id="auto-pipeline"
        data-testid="auto-pipeline"
        className="mono"
        placeholder="retrain-birds"
        autoComplete="off"
        spellCheck={false}
        value={draft.pipeline}
        onChange={(e) => onChange({ pipeline: e.target.value })}
      />

      <label htmlFor="auto-params">Parameters</label>
      <span className="field-with-hint">
        <textarea
          id="auto-params"
          data-testid="auto-params"
          className="mono"
          rows={2}
          spellCheck={false}
          placeholder={"TrainingCount={count}"}
          value={draft.params}
          onChange={(e) => onChange({ params: e.target.value })}
        />
        <span className="hint muted">One NAME=VALUE a line. Values may use {PARAM_PLACEHOLDERS.join(", ")}.</span>
      </span>

      <label htmlFor="auto-dataset">Train on</label>
      <span className="field-with-hint">
        <select id="auto-dataset" data-testid="auto-dataset" value={draft.dataset} onChange={(e) => onChange({ dataset: e.target.value })}>
          <option value="">what is in the bucket when the run starts</option>
          {datasets.map((a) => (
            <option key={a.id} value={a.id}>
              the newest dataset version of “{a.name}”
            </option>
          ))}
        </select>
        <span className="hint muted">
          {datasets.length === 0
            ? "A dataset-version automation on this project freezes what a run trains on; add one to choose it here."
            : "Passed to the pipeline as DatasetManifest: preprocessing reads exactly the version's objects."}
        </span>
      </span>

      <label htmlFor="auto-overlap">While a run executes</label>
      <span className="field-with-hint">
        <select id="auto-overlap" data-testid="auto-overlap" value={draft.overlap} onChange={(e) => onChange({ overlap: e.target.value as Overlap })}>
          {OVERLAP_OPTIONS.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
        <span className="hint muted">{explanation}</span>
      </span>

      <label htmlFor="auto-start-limit">Start time limit (minutes)</label>
      <input
        id="auto-start-limit"
        data-testid="auto-start-limit"
        className="short"
        inputMode="numeric"
        value={draft.limitMinutes}
        onChange={(e) => onChange({ limitMinutes: e.target.value })}
      />
    </>
  );
}
