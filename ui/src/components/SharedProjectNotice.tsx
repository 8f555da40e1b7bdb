import type { ApiError } from "../bindings.gen";

type Props = {
  /** The engine's `shared_project` refusal: it names the other Loopline's webhook. */
  error: ApiError;
  busy: boolean;
  onGoOn: () => void;
  onCancel: () => void;
  /** `automation-shared` gives automation-shared, automation-shared-go-on, automation-shared-cancel. */
  testId: string;
};

/** Another Loopline counts this project: each would start the pipeline. The user decides. */
export function SharedProjectNotice({ error, busy, onGoOn, onCancel, testId }: Props) {
  return (
    <div className="problem shared-project" role="alertdialog" aria-labelledby={`${testId}-title`} data-testid={testId}>
      <p id={`${testId}-title`}>
        <strong>Another Loopline counts this project.</strong> {error.message}
      </p>
      <div className="toolbar">
        <button type="button" data-testid={`${testId}-go-on`} disabled={busy} onClick={onGoOn}>
          Add it anyway
        </button>
        <button type="button" className="secondary" data-testid={`${testId}-cancel`} onClick={onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}
