import type { ApiError } from "../bindings.gen";

/** Shown instead of every page when the engine could not open its data directory. */
export function EngineError({ error }: { error: ApiError }) {
  return (
    <section className="page" data-testid="engine-error">
      <h1>Loopline could not start</h1>
      <p className="problem" role="alert">
        {error.message}
      </p>
      <p className="muted">
        Error code <code>{error.code}</code>. After fixing it, restart Loopline.
      </p>
    </section>
  );
}
