import { Link, useRouterState } from "@tanstack/react-router";

/** Any address no route knows, such as a stale bookmark: say so and offer the way back. */
export function NotFoundPage() {
  const path = useRouterState({ select: (s) => s.location.pathname });
  return (
    <section className="page" aria-labelledby="not-found-title" data-testid="not-found">
      <header className="page-header">
        <h1 id="not-found-title">Page not found</h1>
      </header>
      <p>
        There is no page at <code>{path}</code>.
      </p>
      <p>
        <Link to="/timeline" data-testid="not-found-home">
          Back to the timeline
        </Link>
      </p>
    </section>
  );
}
