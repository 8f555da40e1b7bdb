import type { CreatedSource } from "../bindings.gen";
import { copyText, errorMessage } from "../lib/errors";
import { useToast } from "./Toasts";

function CopyLine({ label, value, testId }: { label: string; value: string; testId: string }) {
  const toast = useToast();
  return (
    <div className="created-line">
      <span className="created-label">{label}</span>
      <code data-testid={testId}>{value}</code>
      <button
        type="button"
        onClick={() =>
          void copyText(value).then(
            () => toast(`Copied the ${label.toLowerCase()}`),
            (e) => toast(errorMessage(e), "failed"),
          )
        }
      >
        Copy
      </button>
    </div>
  );
}

/** A new source's URL and secret, shown once; dismissing it forgets the secret. */
export function CreatedSourcePanel({ created, rotated, onDismiss }: { created: CreatedSource; rotated: boolean; onDismiss: () => void }) {
  const token = created.token;
  return (
    <section className="created" data-testid="source-created" aria-labelledby="created-title" role="region">
      <h2 id="created-title">
        {rotated ? `New secret for “${created.name}”` : `“${created.name}” is ready`}
      </h2>
      <CopyLine label="Webhook URL" value={created.hook_url} testId="source-created-url" />
      {created.kind === "label-studio" && token !== null && (
        <>
          <CopyLine label="Header" value={`${created.header_name}: ${token}`} testId="source-created-header" />
          <CopyLine label="Token" value={token} testId="source-created-token" />
          <p className="muted">In Label Studio, add a webhook with this URL and this header.</p>
        </>
      )}
      {created.kind === "generic" && (
        <>
          <CopyLine label="Signature header" value={created.header_name} testId="source-created-header" />
          {token !== null && <CopyLine label="Signing secret" value={token} testId="source-created-token" />}
          <p className="muted">The sender signs each webhook with this secret (Standard Webhooks).</p>
        </>
      )}
      {created.kind === "aquarium" && (
        <>
          <CopyLine label="Signature header" value={created.header_name} testId="source-created-header" />
          <p className="muted">Aquarium signs each webhook with the secret you pasted; Loopline checks it.</p>
        </>
      )}
      {token !== null && <p className="once">This token is shown once. Loopline keeps only a digest of it.</p>}
      <button type="button" data-testid="source-created-dismiss" onClick={onDismiss}>
        {token !== null ? "I have copied it" : "Done"}
      </button>
    </section>
  );
}
