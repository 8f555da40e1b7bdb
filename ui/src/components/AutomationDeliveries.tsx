import { Link } from "@tanstack/react-router";
import type { AutomationDelivery, DeliveryStatus } from "../bindings.gen";
import { useAutomationDetail } from "../api/automations";
import { formatDateTime } from "../lib/format";
import { actionSentence } from "./AutomationCard";
import { DatasetVersions } from "./DatasetVersions";

const STATUS: Record<DeliveryStatus, { word: string; tone: "ok" | "pending" | "failed" | "neutral" }> = {
  pending: { word: "pending", tone: "pending" },
  delivered: { word: "delivered", tone: "ok" },
  failed: { word: "failed", tone: "failed" },
  would_fire: { word: "would fire (dry run)", tone: "neutral" },
};

function Delivery({ d }: { d: AutomationDelivery }) {
  const s = STATUS[d.status];
  return (
    <li className="delivery" data-testid="automation-delivery" data-status={d.status} data-event-id={d.event_id}>
      <div className="delivery-head">
        <span className={`status status-${s.tone}`} data-testid="delivery-status">
          <span className={`dot ${s.tone}`} aria-hidden="true" />
          {s.word}
        </span>
        <Link to="/timeline/$eventId" params={{ eventId: d.event_id }} data-testid="delivery-event">
          event #{d.event_id}
        </Link>
        <span className="muted">
          {d.attempts} attempt{d.attempts === 1 ? "" : "s"}
          {d.http_status !== null && (
            <>
              {" · "}
              <span data-testid="delivery-http">HTTP {d.http_status}</span>
            </>
          )}
        </span>
        <span className="muted">
          decided {formatDateTime(d.decided_at)}
          {d.delivered_at && ` · delivered ${formatDateTime(d.delivered_at)}`}
        </span>
      </div>
      {d.error && <p className="problem">{d.error}</p>}
      {d.response !== null && d.response !== "" && (
        <details open>
          <summary className="muted">The target's answer</summary>
          <pre className="mono delivery-response" data-testid="delivery-response">
            {d.response}
          </pre>
        </details>
      )}
    </li>
  );
}

/** An automation's last 50 deliveries, newest first, each with what its target answered. */
export function AutomationDeliveries({ id, onClose }: { id: string; onClose: () => void }) {
  const { data, error } = useAutomationDetail(id);
  return (
    <aside className="run-detail" data-testid="automation-detail" aria-labelledby="automation-detail-title">
      <header className="detail-header">
        <h2 id="automation-detail-title">{data ? data.automation.name : "Automation"}</h2>
        <button type="button" className="link-button" onClick={onClose}>
          Close
        </button>
      </header>
      {error && (
        <p className="problem" role="alert">
          {error.message}
        </p>
      )}
      {data && (
        <>
          <p className="muted">
            <code>{data.automation.id}</code> · {actionSentence(data.automation.action)}
          </p>
          {data.automation.action.kind === "dataset_version" && (
            <>
              <h3>Dataset versions</h3>
              <DatasetVersions automationId={data.automation.id} />
            </>
          )}
          <h3>Deliveries</h3>
          {data.deliveries.length === 0 ? (
            <p className="muted" data-testid="deliveries-empty">
              No deliveries yet. One appears here each time a matching event fires it.
            </p>
          ) : (
            <ul className="deliveries" data-testid="automation-deliveries">
              {data.deliveries.map((d) => (
                <Delivery key={`${d.event_id}-${d.decided_at}`} d={d} />
              ))}
            </ul>
          )}
        </>
      )}
    </aside>
  );
}
