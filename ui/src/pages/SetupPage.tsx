import { useNavigate } from "@tanstack/react-router";
import { useReceiverStatus } from "../api/engine";
import { useSources } from "../api/sources";

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

/** The first-run checklist: what the loop needs, in the order to do it. */
export function SetupPage() {
  const navigate = useNavigate();
  const { data: status } = useReceiverStatus();
  const { data: sources } = useSources();
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
          Credentials are kept in your system keychain and checked the moment you enter them.
        </Step>
      </ol>
    </section>
  );
}
