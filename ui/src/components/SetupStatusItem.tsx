import { useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import type { AwsSettings } from "../bindings.gen";
import { useLabelStudioUrl } from "../api/credentials";
import { queryKeys } from "../api/queryKeys";
import { useRules } from "../api/runs";
import { useLabelingChoice, useSetupStatus } from "../api/setup";
import { useTunnelStatus } from "../api/tunnel";
import { FIRST_RUN_STEPS, firstRunStates } from "../lib/firstRun";

/** The status bar's reminder of what the first run still needs; gone once all is done. */
export function SetupStatusItem() {
  const { data: lsUrl } = useLabelStudioUrl();
  // What Settings or Setup last read; the status bar does not ask the keychain itself.
  const aws = useQueryClient().getQueryData<AwsSettings>(queryKeys.awsSettings);
  const { data: setup } = useSetupStatus();
  const { data: tunnel } = useTunnelStatus();
  const { data: rules } = useRules();
  const { data: choice } = useLabelingChoice();
  if (!setup) return null;
  const states = firstRunStates({ lsUrl, aws, setup, tunnel, rules: rules ?? [], project: choice?.project ?? null });
  const left = states.filter((s) => s !== "done").length;
  if (left === 0) return null;
  const failed = states.includes("failed");
  return (
    <span className="status-item" data-testid="setup-left">
      <span className={`dot ${failed ? "failed" : "pending"}`} aria-hidden="true" />
      <Link to="/setup" className="link-button">
        Setup
      </Link>
      <span>
        {left} of {FIRST_RUN_STEPS.length} steps left
      </span>
    </span>
  );
}
