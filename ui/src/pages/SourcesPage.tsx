import { EmptyState } from "../components/EmptyState";

export function SourcesPage() {
  return (
    <section className="page" aria-labelledby="sources-title">
      <header className="page-header">
        <h1 id="sources-title">Sources</h1>
      </header>
      <EmptyState title="No sources yet" testId="sources-empty">
        <p>
          A source is one sender Loopline accepts webhooks from: a Label Studio project, an Aquarium
          project, or any service that signs its webhooks. Each source gets its own URL and secret.
        </p>
      </EmptyState>
    </section>
  );
}
