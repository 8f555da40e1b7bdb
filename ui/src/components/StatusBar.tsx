import type { ReceiverStatus } from "../bindings.gen";
import { useReceiverStatus } from "../api/engine";
import { useMoveReceiver } from "../api/receiverActions";
import { RetrainStatus } from "./RetrainStatus";
import { SetupStatusItem } from "./SetupStatusItem";
import { TunnelStatusItem } from "./TunnelStatusItem";

const STATE_LABEL: Record<ReceiverStatus["state"], string> = {
  running: "listening on",
  starting: "starting on",
  stopped: "stopped",
  failed: "not running",
};

const STATE_TONE: Record<ReceiverStatus["state"], "ok" | "pending" | "failed"> = {
  running: "ok",
  starting: "pending",
  stopped: "pending",
  failed: "failed",
};

/** The bottom bar: the receiver's address and state, live from the engine. */
export function StatusBar() {
  const { data: status, error } = useReceiverStatus();
  const { mutate: move, error: moveError, isPending: busy } = useMoveReceiver();

  return (
    <footer className="statusbar" data-testid="statusbar">
      <span className="status-item" data-testid="receiver-status" data-state={status?.state ?? "unknown"}>
        <span className={`dot ${status ? STATE_TONE[status.state] : "pending"}`} aria-hidden="true" />
        <span>Receiver</span>
        {status && (
          <>
            <span>{STATE_LABEL[status.state]}</span>
            {status.state !== "stopped" && (
              <code className="address" data-testid="receiver-address">
                {status.listen}
              </code>
            )}
          </>
        )}
        {!status && error && <span>unavailable</span>}
      </span>
      {status?.state === "failed" && status.error && (
        <span className="status-item status-problem" role="alert" data-testid="receiver-error">
          {status.error.message}
          {status.suggested_listen && (
            <button
              type="button"
              className="link-button"
              disabled={busy}
              data-testid="receiver-use-suggested"
              onClick={() => move(status.suggested_listen!)}
            >
              Use {status.suggested_listen}
            </button>
          )}
        </span>
      )}
      <TunnelStatusItem />
      <SetupStatusItem />
      <RetrainStatus />
      {moveError && (
        <span className="status-item status-problem" role="alert">
          {moveError.message}
        </span>
      )}
    </footer>
  );
}
