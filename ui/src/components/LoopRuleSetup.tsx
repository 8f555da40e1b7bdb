import { useQueryClient } from "@tanstack/react-query";
import { useRegisterHook } from "../api/retrainActions";
import { useRules } from "../api/runs";
import { useChosenPipelineName, useLabelingChoice, useSetupStatus } from "../api/setup";
import { queryKeys } from "../api/queryKeys";
import { useAddSource } from "../api/sourceActions";
import { useSources } from "../api/sources";
import { useTunnelStatus } from "../api/tunnel";
import { errorMessage } from "../lib/errors";
import { RuleForm } from "./RuleForm";
import { SetupSteps } from "./StorageSetup";

/** Setup → Retrain rule: a Label Studio source, its webhook on the project at the tunnel's
 * verified URL, and the rule "every N useful annotations, start the pipeline". */
export function LoopRuleSetup() {
  const client = useQueryClient();
  const { data: choice } = useLabelingChoice();
  const { data: sources } = useSources();
  const { data: tunnel } = useTunnelStatus();
  const { data: rules } = useRules();
  const { data: pipeline } = useChosenPipelineName();
  const { data: status } = useSetupStatus();
  const addSource = useAddSource();
  const hook = useRegisterHook();
  const lsSources = (sources ?? []).filter((s) => s.kind === "label-studio");
  const source = lsSources.find((s) => s.id === choice?.source) ?? lsSources[0];
  const webhook = (status ?? []).find((s) => s.key === "ls.webhook" && s.at !== null && s.status !== "skipped");
  const projectRules = (rules ?? []).filter((r) => r.project_id === choice?.project);

  if (!choice) return <p className="muted">Set up the labeling project first: the rule counts its annotations.</p>;
  const reachable = tunnel?.state === "reachable" && tunnel.public_url;
  return (
    <div className="loop-rule-setup" data-testid="loop-rule-setup">
      {!source ? (
        <p>
          Label Studio&apos;s webhooks come to a Loopline source.{" "}
          <button type="button" data-testid="loop-add-source" disabled={addSource.isPending} onClick={() => addSource.mutate({ kind: "label-studio", name: "Label Studio", secret: null })}>
            {addSource.isPending ? "Adding…" : "Add the Label Studio source"}
          </button>
        </p>
      ) : (
        <p>
          Webhook from project {choice.project} to the source <strong>{source.name}</strong>:{" "}
          {reachable ? (
            <button
              type="button"
              data-testid="loop-register-hook"
              disabled={hook.isPending}
              onClick={() =>
                hook.mutate(
                  { sourceId: source.id, projectId: choice.project, publicUrl: tunnel.public_url! },
                  { onSettled: () => void client.invalidateQueries({ queryKey: queryKeys.setupStatus }) },
                )
              }
            >
              {hook.isPending ? "Registering…" : webhook ? "Check the webhook again" : `Register it at ${tunnel.public_url}`}
            </button>
          ) : (
            <span className="problem">the tunnel is not verified yet (step 6), so Label Studio could not reach Loopline.</span>
          )}
        </p>
      )}
      {addSource.error && (
        <p className="problem" role="alert">
          {errorMessage(addSource.error)}
        </p>
      )}
      {hook.error && (
        <p className="problem" role="alert" data-testid="loop-hook-error">
          {errorMessage(hook.error)}
        </p>
      )}
      {webhook && <SetupSteps steps={[webhook]} testid="loop-webhook-step" />}
      {projectRules.length > 0 ? (
        <ul className="setup-steps" data-testid="loop-rules">
          {projectRules.map((r) => (
            <li key={r.id} data-status="unchanged">
              <span className="dot ok" aria-hidden="true" />
              <div>
                <strong>Every {r.every}</strong> → <code>{r.pipeline}</code>
                {r.dry_run ? " (dry run)" : ""}
                <div className="muted">{r.progress}</div>
              </div>
            </li>
          ))}
        </ul>
      ) : (
        source && (
          <RuleForm
            sources={lsSources}
            initial={{ sourceId: source.id, project: choice.project, pipeline: pipeline ?? "" }}
            onAdded={() => void client.invalidateQueries({ queryKey: queryKeys.rules })}
            onAddSource={() => addSource.mutate({ kind: "label-studio", name: "Label Studio", secret: null })}
          />
        )
      )}
    </div>
  );
}
