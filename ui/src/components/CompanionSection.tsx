import type { CloseAction, CompanionPrefs, NotificationPrefs } from "../bindings.gen";
import { useCompanionPrefs, useQuitApp, useSetCompanionPrefs } from "../api/companion";
import { errorMessage } from "../lib/errors";
import { AutostartToggle } from "./AutostartToggle";

const NOTICES: { key: keyof NotificationPrefs; label: string }[] = [
  { key: "run_ended", label: "A retrain run ended" },
  { key: "aquarium_issue", label: "An Aquarium issue arrived" },
  { key: "webhook_off", label: "Label Studio turned Loopline's webhook off or deleted it" },
  { key: "tunnel_down", label: "The tunnel has been down for more than a minute" },
  { key: "loop_check_failed", label: "The loop check failed" },
  { key: "catch_up", label: "A catch-up found annotations whose webhooks never arrived" },
  { key: "automation", label: "A notify automation fired (its desktop notice)" },
];

/** Loopline as a companion: what closing the window does, start at login, notifications. */
export function CompanionSection() {
  const { data: prefs, error: readError } = useCompanionPrefs();
  const save = useSetCompanionPrefs();
  const quit = useQuitApp();
  const error = save.error ?? readError ?? quit.error;
  const update = (next: Partial<CompanionPrefs>) => prefs && save.mutate({ ...prefs, ...next });

  return (
    <>
      <h2>Running in the background</h2>
      <fieldset className="companion-option" disabled={!prefs || save.isPending}>
        <legend>When I close the window</legend>
        {(
          [
            ["keep_receiving", "Keep receiving in the tray (webhooks, the tunnel and runs go on)"],
            ["quit", "Quit Loopline"],
          ] as [CloseAction, string][]
        ).map(([value, label]) => (
          <label key={value}>
            <input
              type="radio"
              name="on-close"
              value={value}
              data-testid={`on-close-${value}`}
              checked={prefs?.on_close === value}
              onChange={() => update({ on_close: value })}
            />{" "}
            {label}
          </label>
        ))}
      </fieldset>
      <AutostartToggle />
      <fieldset className="companion-option" disabled={!prefs || save.isPending}>
        <legend>Notify me when</legend>
        {NOTICES.map(({ key, label }) => (
          <label key={key}>
            <input
              type="checkbox"
              data-testid={`notify-${key}`}
              checked={prefs?.notify[key] ?? true}
              onChange={(e) => prefs && update({ notify: { ...prefs.notify, [key]: e.target.checked } })}
            />{" "}
            {label}
          </label>
        ))}
      </fieldset>
      <p className="muted">
        A burst makes one notification and one summary, not one per event. Quitting is always safe: work in progress
        resumes at the next start.{" "}
        <button type="button" className="link-button" data-testid="quit-app" onClick={() => quit.mutate()}>
          Quit Loopline
        </button>
      </p>
      {error && (
        <p className="problem" role="alert" data-testid="companion-error">
          {errorMessage(error)}
        </p>
      )}
    </>
  );
}
