import { useState } from "react";
import { useNavigate, useParams } from "@tanstack/react-router";
import { EmptyState } from "../components/EmptyState";
import { HookForm } from "../components/HookForm";
import { RuleCard } from "../components/RuleCard";
import { RuleChart } from "../components/RuleChart";
import { RunDetail } from "../components/RunDetail";
import { RunsTable } from "../components/RunsTable";
import { useToast } from "../components/Toasts";
import { useRuleHistory, useRules, useRuns, useRunsLive } from "../api/runs";
import { useSources } from "../api/sources";
import { useAutomations, useConditionFields } from "../api/automations";
import { AutomationBuilder } from "../components/AutomationBuilder";
import { AutomationCard } from "../components/AutomationCard";
import { AutomationDeliveries } from "../components/AutomationDeliveries";
import { useNow } from "../lib/useNow";

/**
 * Automations: each a trigger and an action, with their progress and deliveries, and the
 * builder; the start-a-pipeline ones are the retrain rules, whose deliveries are the runs.
 */
export function AutomationsPage() {
  const navigate = useNavigate();
  // The open run or automation lives in the address (/automations/runs/7,
  // /automations/auto_…), so a reload or the back button keeps it.
  const params = useParams({ strict: false });
  const runId = params.runId ?? null;
  const automationId = params.automationId ?? null;
  const automations = useAutomations();
  const fields = useConditionFields();
  const toast = useToast();
  const rules = useRules();
  const runs = useRuns();
  const { data: sources = [] } = useSources();
  useRunsLive();
  const now = useNow(15_000);

  const [chosenRule, setChosenRule] = useState<string | null>(null);
  const ruleList = rules.data ?? [];
  const selectedRule = ruleList.find((r) => r.id === chosenRule) ?? ruleList[0];
  const history = useRuleHistory(selectedRule?.id ?? null);
  const runList = runs.data ?? [];
  const labelStudio = sources.filter((s) => s.kind === "label-studio");
  const sourceName = (id: string) => sources.find((s) => s.id === id)?.name;

  const openRun = (id: number) => {
    if (id !== runId) void navigate({ to: "/automations/runs/$runId", params: { runId: id }, resetScroll: false });
  };

  // One builder adds every kind, the retrain rules too ("Start a SageMaker pipeline").
  const forms = <HookForm sources={labelStudio} />;
  const empty = rules.data?.length === 0;

  // Start-a-pipeline automations are the retrain rules, shown below with their chart and runs.
  const automationList = (automations.data ?? []).filter((a) => a.action.kind !== "start_pipeline");
  const openAutomation = (id: string) => {
    if (id !== automationId) void navigate({ to: "/automations/$automationId", params: { automationId: id }, resetScroll: false });
  };

  return (
    <section className="page runs-page" aria-labelledby="automations-title">
      <header className="page-header">
        <h1 id="automations-title">Automations</h1>
      </header>

      <section aria-labelledby="automation-list-title">
        <h2 id="automation-list-title">Forward, notify and dataset versions</h2>
        {automations.error && (
          <p className="problem" role="alert">
            {automations.error.message}
          </p>
        )}
        {automations.isPending && !automations.error && <p className="muted">Loading automations…</p>}
        {automations.data && automationList.length === 0 && (
          <EmptyState title="No automations yet" testId="automations-empty">
            <p>
              An automation reacts to events: forward each new annotation to your database, or notify the team when a
              project is created. Build one below; the preview says how often it would have fired on the last 50 matching
              events.
            </p>
          </EmptyState>
        )}
        {(automationList.length > 0 || automationId !== null) && (
          <div className={`runs-body${automationId !== null ? " with-detail" : ""}`}>
            <ul className="rules automation-list" aria-label="Automations">
              {automationList.map((a) => (
                <AutomationCard
                  key={a.id}
                  automation={a}
                  sourceName={sourceName(a.trigger.source_id)}
                  selected={a.id === automationId}
                  onSelect={() => openAutomation(a.id)}
                />
              ))}
            </ul>
            {automationId !== null && (
              <AutomationDeliveries id={automationId} onClose={() => void navigate({ to: "/automations", resetScroll: false })} />
            )}
          </div>
        )}
        {fields.error && (
          <p className="problem" role="alert">
            {fields.error.message}
          </p>
        )}
        <AutomationBuilder
          sources={sources}
          fields={fields.data ?? []}
          automations={automations.data ?? []}
          onAdded={(a) => {
            toast(`Automation added: ${a.name}`, "ok");
            // A start-pipeline automation is a retrain rule: its card, chart and runs are below.
            if (a.action.kind === "start_pipeline") setChosenRule(a.id);
            else openAutomation(a.id);
          }}
        />
      </section>

      <section aria-labelledby="rules-title">
        <h2 id="rules-title">Start a pipeline: retrain rules</h2>
        {rules.error && (
          <p className="problem" role="alert">
            {rules.error.message}
          </p>
        )}
        {rules.isPending && !rules.error && <p className="muted">Loading rules…</p>}
        {empty && (
          <EmptyState title="No retrain rules yet" testId="rules-empty">
            <p>
              A rule watches a Label Studio project's annotation count and starts a SageMaker pipeline each time the
              count passes the next multiple of N: every 16 useful annotations, say. Each start appears below as a run,
              watched until it succeeds or fails.
            </p>
            <p>
              Build one above: choose “Start a SageMaker pipeline (retrain)” under “Then”. Tick “Dry run” to see when it
              would start without calling AWS.
            </p>
          </EmptyState>
        )}
        {ruleList.length > 0 && (
          <ul className="rules" aria-label="Retrain rules">
            {ruleList.map((rule) => (
              <RuleCard
                key={rule.id}
                rule={rule}
                sourceName={sourceName(rule.source_id)}
                selected={rule.id === selectedRule?.id}
                onSelect={() => setChosenRule(rule.id)}
              />
            ))}
          </ul>
        )}
      </section>

      {empty && forms}

      {selectedRule && (
        <section aria-labelledby="chart-title">
          <h2 id="chart-title">
            Progress of <code>{selectedRule.pipeline}</code>
          </h2>
          {history.error && (
            <p className="problem" role="alert">
              {history.error.message}
            </p>
          )}
          {history.data ? <RuleChart history={history.data} now={now} /> : !history.error && <p className="muted">Loading the chart…</p>}
        </section>
      )}

      <section aria-labelledby="runs-list-title">
        <h2 id="runs-list-title">Runs</h2>
        {runs.error && (
          <p className="problem" role="alert">
            {runs.error.message}
          </p>
        )}
        {runs.isPending && !runs.error && <p className="muted">Loading runs…</p>}
        {runs.data?.length === 0 && (
          <p className="muted" data-testid="runs-empty">
            No runs yet. A run appears here when a rule's count passes its next multiple.
          </p>
        )}
        {(runList.length > 0 || runId !== null) && (
          <div className={`runs-body${runId !== null ? " with-detail" : ""}`}>
            {runList.length > 0 && (
              <div className="runs-list-pane">
                <RunsTable runs={runList} selectedId={runId} now={now} onSelect={openRun} />
              </div>
            )}
            {/* A run beyond the first page (a link, a bookmark) is fetched by id: run_show. */}
            {runId !== null && (
              <RunDetail
                id={runId}
                fromList={runList.find((r) => r.id === runId)}
                now={now}
                onClose={() => void navigate({ to: "/automations", resetScroll: false })}
              />
            )}
          </div>
        )}
      </section>

      {!empty && forms}
    </section>
  );
}
