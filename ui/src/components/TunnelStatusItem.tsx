import { Link } from "@tanstack/react-router";
import { tunnelSummary, useTunnelStatus } from "../api/tunnel";

const TONE = { reachable: "ok", starting: "pending", unreachable: "failed", stopped: "pending" } as const;

/** The tunnel in the status bar: its state, and why when it is down. */
export function TunnelStatusItem() {
  const { data: status } = useTunnelStatus();
  if (!status) return null;
  return (
    <span className="status-item" data-testid="tunnel-status" data-state={status.state}>
      <span className={`dot ${TONE[status.state]}`} aria-hidden="true" />
      <Link to="/settings" className="link-button">
        Tunnel
      </Link>
      <span title={status.error?.message ?? status.public_url ?? status.note ?? undefined}>{tunnelSummary(status)}</span>
    </span>
  );
}
