import type { ApiError, SetupReport, SetupStep } from "../bindings.gen";
import { errorMessage } from "../lib/errors";
import { SetupSteps } from "./StorageSetup";

type Props = {
  /** The testid prefix: `<id>-plan-steps`, `<id>-result-steps`, `<id>-detail-<key>`, … */
  id: string;
  failure: ApiError | null;
  /** The plan or the outcome just shown; `null` shows what the engine kept. */
  shown: SetupReport | null;
  saved: SetupStep[];
  /** What each step's detail is ("the exact policy"), by step key. */
  detailTitles: Record<string, string>;
  /** Details that stay folded even in a plan (long documents drawn otherwise). */
  folded?: string[];
  /** Drawn after the steps (the pipeline graph). */
  children?: React.ReactNode;
};

/** A setup section's answer: the failure in words, then the plan or what was done, with the
 * exact documents behind each step; or, before anything ran, what exists. */
export function SetupOutcome({ id, failure, shown, saved, detailTitles, folded = [], children }: Props) {
  return (
    <>
      {failure && (
        <p className="problem" role="alert" data-testid={`${id}-error`}>
          {errorMessage(failure)}
        </p>
      )}
      {shown ? (
        <>
          <h3>{shown.planned ? "The plan (nothing done yet)" : "What was done"}</h3>
          <SetupSteps steps={shown.steps} testid={shown.planned ? `${id}-plan-steps` : `${id}-result-steps`} />
          {children}
          {shown.steps
            .filter((s) => s.detail)
            .map((s) => (
              <details key={s.key} open={shown.planned && !folded.includes(s.key)}>
                <summary>
                  {s.title}: {detailTitles[s.key] ?? "details"}
                </summary>
                <pre className="policy" data-testid={`${id}-detail-${s.key}`}>
                  {s.detail}
                </pre>
              </details>
            ))}
        </>
      ) : (
        saved.length > 0 && (
          <>
            <h3>As it stands</h3>
            <SetupSteps steps={saved} testid={`${id}-status-steps`} />
            {children}
          </>
        )
      )}
    </>
  );
}
