import { useNavigate } from "@tanstack/react-router";
import type { SetupStep } from "../bindings.gen";
import { useReceiverStatus } from "../api/engine";
import { useSetupStatus } from "../api/setup";
import { useSources } from "../api/sources";
import { RoleSetup } from "../components/RoleSetup";
import { StorageSetup } from "../components/StorageSetup";

type StepState = "done" | "todo" | "failed";

function Step({ n, title, state, children }: { n: number; title: string; state: StepState; children: React.ReactNode }) {
  const label = state === "done" ? "Done" : state === "failed" ? "Needs attention" : "To do";
  return (
    <li className={`step step-${state}`} data-testid={`setup-step-${n}`}>
      <span className={`dot ${state === "done" ? "ok" : state === "failed" ? "failed" : "pending"}`} aria-hidden="true" />
      <div>
        <h2>
          {n}. {title} <span className="step-state">({label})</span>
        </h2>
        <div className="muted">{children}</div>
      </div>
    </li>
  );
}

/** A storage step in its wanted state; the images step may be left out on purpose. */
const storageDone = (s: SetupStep) =>
  ["unchanged", "created", "updated", "uploaded"].includes(s.status) || (s.key === "s3.images" && s.status === "skipped");

/** The first-run checklist: what the loop needs, in the order to do it. */
export function SetupPage() {
  const navigate = useNavigate();
  const { data: status } = useReceiverStatus();
  const { data: sources } = useSources();
  const { data: setup } = useSetupStatus();
  const storage = (setup ?? []).filter((s) => s.key.startsWith("s3."));
  const training = (setup ?? []).filter((s) => s.key.startsWith("iam.") || s.key.startsWith("sm."));
  // The quota check is a warning the user may knowingly accept; the role and the pipeline decide.
  const roleState: StepState = training.some((s) => s.status === "failed" && s.key !== "sm.quota")
    ? "failed"
    : training.some((s) => s.key === "iam.role" && storageDone(s)) && training.some((s) => s.key === "sm.pipeline" && storageDone(s))
      ? "done"
      : "todo";
  const storageState: StepState = storage.some((s) => s.status === "failed")
    ? "failed"
    : storage.length > 0 && storage.every(storageDone)
      ? "done"
      : "todo";
  const hasSource = (sources?.length ?? 0) > 0;
  const receiverState: StepState = status?.state === "running" ? "done" : status?.state === "failed" ? "failed" : "todo";
  return (
    <section className="page" aria-labelledby="setup-title">
      <header className="page-header">
        <h1 id="setup-title">Setup</h1>
      </header>
      <ol className="steps">
        <Step n={1} title="Start the receiver" state={receiverState}>
          {status?.state === "running" ? (
            <>
              Listening on <code>{status.listen}</code>, on this machine only.
            </>
          ) : status?.error ? (
            <>
              {status.error.message}{" "}
              <button type="button" className="link-button" onClick={() => void navigate({ to: "/settings" })}>
                Change the address →
              </button>
            </>
          ) : (
            "Starting…"
          )}
        </Step>
        <Step n={2} title="Add a source for Label Studio" state={hasSource ? "done" : "todo"}>
          Loopline gives the source its own URL and secret header for Label Studio to send webhooks to.{" "}
          <button type="button" className="link-button" onClick={() => void navigate({ to: "/sources" })}>
            {hasSource ? "Manage sources →" : "Add a source →"}
          </button>
        </Step>
        <Step n={3} title="Connect Label Studio and AWS" state="todo">
          Credentials are kept in your system keychain and checked the moment you enter them.{" "}
          <button type="button" className="link-button" onClick={() => void navigate({ to: "/settings" })}>
            Credentials →
          </button>
        </Step>
        <Step n={4} title="Storage: the S3 bucket and your images" state={storageState}>
          Loopline shows what it will create before it does anything, uploads only what is missing, and checks each step live.
          <StorageSetup />
        </Step>
        <Step n={5} title="Training: the SageMaker role and pipeline" state={roleState}>
          The role SageMaker&apos;s jobs run as, and the pipeline that trains on your annotations. Loopline shows the policies, the
          pipeline&apos;s steps and its exact definition before it creates anything.
          <RoleSetup />
        </Step>
      </ol>
    </section>
  );
}
