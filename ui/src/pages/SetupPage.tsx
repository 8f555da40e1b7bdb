import { useState } from "react";
import { useAwsSettings, useLabelStudioUrl } from "../api/credentials";
import { useRules } from "../api/runs";
import { useLabelingChoice, useSetupStatus, useSetupStarted } from "../api/setup";
import { useTunnelStatus } from "../api/tunnel";
import { AwsCredentials } from "../components/AwsCredentials";
import { LabelStudioCredentials } from "../components/CredentialsSection";
import { LabelingSetup } from "../components/LabelingSetup";
import { AutostartToggle } from "../components/AutostartToggle";
import { LoopCheck } from "../components/LoopCheck";
import { LoopRuleSetup } from "../components/LoopRuleSetup";
import { RoleSetup } from "../components/RoleSetup";
import { StorageSetup } from "../components/StorageSetup";
import { TunnelSection } from "../components/TunnelSection";
import { FIRST_RUN_STEPS, firstRunStates, loadSkipped, saveSkipped, type StepState } from "../lib/firstRun";

const STATE_LABEL: Record<StepState | "skipped", string> = { done: "Done", todo: "To do", failed: "Needs attention", skipped: "Skipped" };

function Step({
  n,
  title,
  state,
  current,
  skipped,
  onSkip,
  children,
}: {
  n: number;
  title: string;
  state: StepState;
  current: boolean;
  skipped: boolean;
  onSkip: () => void;
  children: React.ReactNode;
}) {
  const shown = skipped && state !== "done" ? "skipped" : state;
  return (
    <li className={`step step-${state}${current ? " step-current" : ""}`} data-testid={`setup-step-${n}`} data-state={shown} aria-current={current ? "step" : undefined}>
      <span className={`dot ${state === "done" ? "ok" : state === "failed" ? "failed" : "pending"}`} aria-hidden="true" />
      <div>
        <h2>
          {n}. {title} <span className="step-state">({STATE_LABEL[shown]})</span>
          {state !== "done" && (
            <button type="button" className="link-button step-skip" data-testid={`setup-skip-${n}`} onClick={onSkip}>
              {skipped ? "Do it now" : "Skip for now"}
            </button>
          )}
        </h2>
        <div className="muted">{children}</div>
      </div>
    </li>
  );
}

/** The first run: one guided path, each step verified live, resumable from what the engine
 * reports, and each step showing its plan before it acts. */
export function SetupPage() {
  const { data: lsUrl } = useLabelStudioUrl();
  const { data: aws } = useAwsSettings();
  const { data: setup } = useSetupStatus();
  const { data: tunnel } = useTunnelStatus();
  const { data: rules } = useRules();
  const { data: choice } = useLabelingChoice();
  useSetupStarted();
  const [skipped, setSkipped] = useState<number[]>(loadSkipped);
  const states = firstRunStates({ lsUrl, aws, setup: setup ?? [], tunnel, rules: rules ?? [], project: choice?.project ?? null });
  const current = states.findIndex((s, i) => s !== "done" && !skipped.includes(i + 1)) + 1;
  const done = states.filter((s) => s === "done").length;
  const toggleSkip = (n: number) => {
    const next = skipped.includes(n) ? skipped.filter((x) => x !== n) : [...skipped, n];
    setSkipped(next);
    saveSkipped(next);
  };
  const verifiedAt = (setup ?? []).find((s) => s.key === "check.loop" && s.status !== "failed")?.at ?? null;
  const bodies: React.ReactNode[] = [
    <>
      The address you open Label Studio at, and a token from Account &amp; Settings. Checked against the server before it is kept.
      <LabelStudioCredentials />
    </>,
    <>
      Keys or a profile, checked with STS. The credentials stay in your system keychain.
      <AwsCredentials />
    </>,
    <>
      Loopline shows what it will create before it does anything, uploads only what is missing, and checks each step live.
      <StorageSetup />
    </>,
    <>
      The role SageMaker&apos;s jobs run as, and the pipeline that trains on your annotations. Loopline shows the policies, the pipeline&apos;s
      steps and its exact definition before it creates anything.
      <RoleSetup />
    </>,
    <>
      The Label Studio project, the images as tasks, and the annotations written back to the bucket.
      <LabelingSetup />
    </>,
    <>
      Label Studio must reach Loopline from wherever it runs. Loopline verifies the tunnel through its public URL.
      <TunnelSection />
    </>,
    <>
      Label Studio&apos;s webhook at the tunnel URL, and the rule that starts the pipeline every N useful annotations.
      <LoopRuleSetup />
    </>,
    <LoopCheck key="check" verifiedAt={verifiedAt} />,
  ];
  return (
    <section className="page" aria-labelledby="setup-title">
      <header className="page-header">
        <h1 id="setup-title">Setup</h1>
        <p className="muted" data-testid="setup-progress">
          {done === FIRST_RUN_STEPS.length
            ? "Every step is done: the loop is verified."
            : `${done} of ${FIRST_RUN_STEPS.length} done${current > 0 ? ` · next: ${current}. ${FIRST_RUN_STEPS[current - 1]}` : ""}`}
        </p>
      </header>
      <ol className="steps">
        {FIRST_RUN_STEPS.map((title, i) => (
          <Step
            key={title}
            n={i + 1}
            title={title}
            state={states[i]!}
            current={current === i + 1}
            skipped={skipped.includes(i + 1)}
            onSkip={() => toggleSkip(i + 1)}
          >
            {bodies[i]}
          </Step>
        ))}
      </ol>
      <section className="setup-after" aria-labelledby="setup-after-title">
        <h2 id="setup-after-title">After setup</h2>
        <p className="muted">
          Label Studio sends each webhook once. Loopline keeps receiving in the tray when you close its window, and can
          start when you log in.
        </p>
        <AutostartToggle />
      </section>
    </section>
  );
}
