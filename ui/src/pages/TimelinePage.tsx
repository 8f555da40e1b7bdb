import type { Page } from "../components/Sidebar";
import { EmptyState } from "../components/EmptyState";
import { useReceiverStatus } from "../api/engine";

export function TimelinePage({ onNavigate }: { onNavigate: (page: Page) => void }) {
  const { data: status } = useReceiverStatus();
  return (
    <section className="page" aria-labelledby="timeline-title">
      <header className="page-header">
        <h1 id="timeline-title">Timeline</h1>
      </header>
      <EmptyState title="No events yet" testId="timeline-empty">
        <p>
          Every webhook Loopline receives appears here, newest first, stored before it is acknowledged.
          {status?.state === "running" && (
            <>
              {" "}
              The receiver is listening on <code>{status.listen}</code>.
            </>
          )}
        </p>
        <p>
          <button type="button" className="link-button" onClick={() => onNavigate("setup")}>
            Set up Label Studio →
          </button>
        </p>
      </EmptyState>
    </section>
  );
}
