import { useAutostart, useSetAutostart } from "../api/companion";
import { errorMessage } from "../lib/errors";

/** "Start Loopline when I log in": in Settings and at the end of Setup. Off by default. */
export function AutostartToggle() {
  const { data: status, error: readError } = useAutostart();
  const set = useSetAutostart();
  const error = set.error ?? readError;
  return (
    <div className="companion-option">
      <label>
        <input
          type="checkbox"
          data-testid="autostart-toggle"
          checked={status?.enabled ?? false}
          disabled={!status || set.isPending}
          onChange={(e) => set.mutate(e.target.checked)}
        />{" "}
        Start Loopline when I log in, in the tray, without a window
      </label>
      {status?.enabled && status.entry && (
        <p className="muted" data-testid="autostart-entry">
          Login entry: <code>{status.entry}</code>
        </p>
      )}
      {error && (
        <p className="problem" role="alert" data-testid="autostart-error">
          {errorMessage(error)}
        </p>
      )}
    </div>
  );
}
