import type { RetrainRule } from "../bindings.gen";
import { progressOf } from "../api/runs";

/** The bar and the engine's own sentence: "12 of 16 useful annotations toward the next retrain (at 16)". */
export function RuleProgress({ rule }: { rule: RetrainRule }) {
  const { into, every } = progressOf(rule);
  const sentenceId = `rule-progress-${rule.id}`;
  return (
    <div className="rule-progress">
      <div
        className="progress-track"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={every}
        aria-valuenow={into}
        aria-labelledby={sentenceId}
        data-testid="rule-progress-bar"
        data-rule-id={rule.id}
      >
        <div className="progress-fill" style={{ width: `${(into / every) * 100}%` }} />
      </div>
      <p id={sentenceId} className="progress-sentence" data-testid="rule-progress" data-rule-id={rule.id}>
        {rule.progress}
      </p>
    </div>
  );
}
