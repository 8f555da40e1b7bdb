import { useState, type FormEvent } from "react";
import type { Counter, Overlap, PipelineParam, RetrainRule, Source } from "../bindings.gen";
import { useAddRule } from "../api/retrainActions";
import { COUNTER_NOUN, OVERLAP_OPTIONS, PARAM_PLACEHOLDERS, parseParams } from "../api/runs";
import { errorMessage } from "../lib/errors";
import { SharedProjectNotice } from "./SharedProjectNotice";

const WHOLE = /^\d+$/;

/** The sentence for a number the engine would refuse anyway, said before the round trip. */
function checkNumbers(n: { project: string; every: string; limit: string }): string | null {
  if (!WHOLE.test(n.project)) return "The project number is a whole number, as in Label Studio's address: /projects/7.";
  if (!WHOLE.test(n.every) || Number(n.every) < 1) return "“Every” is a whole number of annotations, 1 or more.";
  if (!WHOLE.test(n.limit)) return "The start time limit is a whole number of minutes.";
  return null;
}

type Props = {
  /** Label Studio sources only: the counters come from their webhooks. */
  sources: Source[];
  onAdded: (rule: RetrainRule) => void;
  onAddSource: () => void;
  /** Prefilled values (the first run knows the project and the pipeline already). */
  initial?: { sourceId?: string; project?: number; pipeline?: string };
};

/** "Every N annotations on project P, start pipeline X with these parameters." */
export function RuleForm({ sources, onAdded, onAddSource, initial }: Props) {
  const [sourceId, setSourceId] = useState(initial?.sourceId ?? "");
  const [project, setProject] = useState(initial?.project !== undefined ? String(initial.project) : "");
  const [every, setEvery] = useState("16");
  const [pipeline, setPipeline] = useState(initial?.pipeline ?? "");
  const [params, setParams] = useState("");
  const [counter, setCounter] = useState<Counter>("useful");
  const [overlap, setOverlap] = useState<Overlap>("coalesce");
  const [dryRun, setDryRun] = useState(false);
  const [limitMinutes, setLimitMinutes] = useState("15");
  // Asked for only when the engine could not read the project's count from Label Studio.
  const [startCount, setStartCount] = useState("");
  const [askCount, setAskCount] = useState(false);
  // A problem found before anything is sent; the engine's refusals come from the mutation.
  const [invalid, setInvalid] = useState<string | null>(null);
  const add = useAddRule({
    onSuccess: (rule) => {
      setPipeline("");
      setParams("");
      setAskCount(false);
      setStartCount("");
      onAdded(rule);
    },
  });

  const busy = add.isPending;
  const error = invalid ?? (add.error && add.error.code !== "shared_project" ? errorMessage(add.error) : null);

  const source = sources.find((s) => s.id === sourceId) ?? sources[0];
  const ready = source !== undefined && project.trim() !== "" && every.trim() !== "" && pipeline.trim() !== "";
  const explanation = OVERLAP_OPTIONS.find((o) => o.value === overlap)?.explanation;

  const shared = add.error?.code === "shared_project" ? add.error : null;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    send(false);
  };

  const send = (evenIfShared: boolean) => {
    if (!ready) return;
    setInvalid(null);
    add.reset();
    const numbers = { project: project.trim(), every: every.trim(), limit: limitMinutes.trim() };
    const problem = checkNumbers(numbers);
    if (problem) {
      setInvalid(problem);
      return;
    }
    if (askCount && !WHOLE.test(startCount.trim())) {
      setInvalid("Give the project's annotation count now, a whole number (0 for a new project), so the rule does not fire on older annotations.");
      return;
    }
    let parsed: PipelineParam[];
    try {
      parsed = parseParams(params);
    } catch (err) {
      setInvalid(errorMessage(err));
      return;
    }
    add.mutate({
      rule: {
        source_id: source.id,
        project_id: Number(numbers.project),
        every: Number(numbers.every),
        pipeline: pipeline.trim(),
        params: parsed,
        counter,
        overlap,
        dry_run: dryRun,
        start_time_limit_secs: Number(numbers.limit) * 60,
        start_count: askCount ? Number(startCount.trim()) : null,
        ...(evenIfShared ? { even_if_shared: true } : {}),
      },
    }, {
      onError: (err) => {
        if (err.code === "start_count_unknown") setAskCount(true);
      },
    });
  };

  return (
    <form className="rule-form" aria-labelledby="rule-form-title" data-testid="rule-form" onSubmit={submit}>
      <h2 id="rule-form-title">Add a rule</h2>
      {sources.length === 0 && (
        <p className="note" data-testid="rule-no-source">
          Rules count annotations from a Label Studio source.{" "}
          <button type="button" className="link-button" onClick={onAddSource}>
            Add a Label Studio source first →
          </button>
        </p>
      )}
      <div className="form-grid">
        <label htmlFor="rule-source">Source</label>
        <select id="rule-source" data-testid="rule-source" value={source?.id ?? ""} disabled={sources.length === 0} onChange={(e) => setSourceId(e.target.value)}>
          {sources.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>

        <label htmlFor="rule-project">Project number</label>
        <input id="rule-project" data-testid="rule-project" inputMode="numeric" placeholder="7" autoComplete="off" value={project} onChange={(e) => setProject(e.target.value)} />

        <label htmlFor="rule-every">Every</label>
        <span className="inline-field">
          <input id="rule-every" data-testid="rule-every" inputMode="numeric" className="short" value={every} onChange={(e) => setEvery(e.target.value)} />
          <label htmlFor="rule-counter" className="visually-hidden">
            Counter
          </label>
          <select id="rule-counter" data-testid="rule-counter" value={counter} onChange={(e) => setCounter(e.target.value as Counter)}>
            <option value="useful">{COUNTER_NOUN.useful} (skipped ones do not count)</option>
            <option value="total">{COUNTER_NOUN.total} (all of them)</option>
          </select>
        </span>

        <label htmlFor="rule-pipeline">Pipeline name or ARN</label>
        <input
          id="rule-pipeline"
          data-testid="rule-pipeline"
          className="mono"
          placeholder="retrain-birds"
          autoComplete="off"
          spellCheck={false}
          value={pipeline}
          onChange={(e) => setPipeline(e.target.value)}
        />

        <label htmlFor="rule-params">Parameters</label>
        <span className="field-with-hint">
          <textarea
            id="rule-params"
            data-testid="rule-params"
            className="mono"
            rows={3}
            spellCheck={false}
            placeholder={"TrainingCount={count}\nProjectId={project_id}"}
            aria-describedby="rule-params-hint"
            value={params}
            onChange={(e) => setParams(e.target.value)}
          />
          <span id="rule-params-hint" className="hint muted">
            One NAME=VALUE a line. Values may use {PARAM_PLACEHOLDERS.join(", ")}.
          </span>
        </span>

        <label htmlFor="rule-overlap">While a run executes</label>
        <span className="field-with-hint">
          <select id="rule-overlap" data-testid="rule-overlap" value={overlap} aria-describedby="rule-overlap-hint" onChange={(e) => setOverlap(e.target.value as Overlap)}>
            {OVERLAP_OPTIONS.map((o) => (
              <option key={o.value} value={o.value} title={o.explanation}>
                {o.label}
              </option>
            ))}
          </select>
          <span id="rule-overlap-hint" className="hint muted">
            {explanation}
          </span>
        </span>

        <label htmlFor="rule-start-limit">Start time limit (minutes)</label>
        <span className="field-with-hint">
          <input
            id="rule-start-limit"
            data-testid="rule-start-limit"
            inputMode="numeric"
            className="short"
            aria-describedby="rule-start-limit-hint"
            value={limitMinutes}
            onChange={(e) => setLimitMinutes(e.target.value)}
          />
          <span id="rule-start-limit-hint" className="hint muted">
            How long Loopline keeps retrying to start a run before showing it as failed.
          </span>
        </span>

        {askCount && (
          <>
            <label htmlFor="rule-start-count">Annotations in the project now</label>
            <span className="field-with-hint">
              <input
                id="rule-start-count"
                data-testid="rule-start-count"
                inputMode="numeric"
                className="short"
                aria-describedby="rule-start-count-hint"
                value={startCount}
                onChange={(e) => setStartCount(e.target.value)}
              />
              <span id="rule-start-count-hint" className="hint muted">
                Label Studio could not be asked. The rule counts from this number, so older annotations never start a run.
              </span>
            </span>
          </>
        )}

        <span />
        <label className="checkbox">
          <input type="checkbox" data-testid="rule-dry-run" checked={dryRun} onChange={(e) => setDryRun(e.target.checked)} />
          Dry run: record “would start” instead of calling AWS
        </label>

        <span />
        <span>
          <button type="submit" data-testid="rule-add" disabled={busy || !ready}>
            {busy ? "Adding…" : "Add rule"}
          </button>
        </span>
      </div>
      {error && (
        <p className="problem" role="alert" data-testid="rule-error">
          {error}
        </p>
      )}
      {shared && <SharedProjectNotice error={shared} busy={busy} onGoOn={() => send(true)} onCancel={() => add.reset()} testId="rule-shared" />}
    </form>
  );
}
