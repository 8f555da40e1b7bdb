import { useState } from "react";
import type { CreatedSource } from "../bindings.gen";
import { useSources } from "../api/sources";
import { CreatedSourcePanel } from "../components/CreatedSourcePanel";
import { EmptyState } from "../components/EmptyState";
import { SourceForm } from "../components/SourceForm";
import { SourceRow } from "../components/SourceRow";

export function SourcesPage() {
  const { data: sources, error, isPending } = useSources();
  // The only place a new token lives; dismissing the panel drops it.
  const [created, setCreated] = useState<{ source: CreatedSource; rotated: boolean } | null>(null);

  return (
    <section className="page" aria-labelledby="sources-title">
      <header className="page-header">
        <h1 id="sources-title">Sources</h1>
      </header>
      {created && (
        <CreatedSourcePanel created={created.source} rotated={created.rotated} onDismiss={() => setCreated(null)} />
      )}
      {error && (
        <p className="problem" role="alert">
          {error.message}
        </p>
      )}
      {isPending && !error && <p className="muted">Loading sources…</p>}
      {sources && sources.length === 0 && (
        <EmptyState title="No sources yet" testId="sources-empty">
          <p>
            A source is one sender Loopline accepts webhooks from: a Label Studio project, an Aquarium
            project, or any service that signs its webhooks. Each source gets its own URL and secret.
          </p>
          <p>Add one with the form below, then send it a test event.</p>
        </EmptyState>
      )}
      {sources && sources.length > 0 && (
        <ul className="sources" aria-label="Sources">
          {sources.map((s) => (
            <SourceRow key={s.id} source={s} onRotated={(c) => setCreated({ source: c, rotated: true })} />
          ))}
        </ul>
      )}
      <SourceForm onCreated={(c) => setCreated({ source: c, rotated: false })} />
    </section>
  );
}
