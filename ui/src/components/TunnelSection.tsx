import { useState, type FormEvent } from "react";
import type { TunnelConfig, TunnelStatus } from "../bindings.gen";
import { SECRET_NAMES } from "../bindings.gen";
import { PROVIDER_LABEL, tunnelSummary, useSetTunnel, useTunnelOff, useTunnelStatus, useTunnelTest } from "../api/tunnel";
import { errorMessage } from "../lib/errors";
import { useToast } from "./Toasts";

type Provider = "cloudflared" | "bore" | "url";
const PROVIDERS: Provider[] = ["cloudflared", "bore", "url"];

/** The fields of every provider, so switching back and forth keeps what was typed. */
type Draft = { provider: Provider; binary: string; server: string; secretName: string; httpsUrl: string; publicUrl: string };

function draftFrom(s: TunnelStatus | undefined): Draft {
  const provider = (s?.provider as Provider | null) ?? "cloudflared";
  return {
    provider: PROVIDERS.includes(provider) ? provider : "cloudflared",
    binary: "",
    server: "",
    secretName: SECRET_NAMES.boreSecret,
    httpsUrl: "",
    publicUrl: "",
  };
}

function configOf(d: Draft): TunnelConfig {
  const opt = (v: string) => (v.trim() === "" ? null : v.trim());
  switch (d.provider) {
    case "cloudflared":
      return { provider: "cloudflared", binary: opt(d.binary), named: null };
    case "bore":
      return { provider: "bore", server: d.server.trim(), secret_name: opt(d.secretName), https_url: opt(d.httpsUrl) };
    case "url":
      return { provider: "url", public_url: d.publicUrl.trim() };
  }
}

function CopyButton({ text, testid }: { text: string; testid: string }) {
  const toast = useToast();
  return (
    <button
      type="button"
      className="link-button"
      data-testid={testid}
      onClick={() =>
        navigator.clipboard?.writeText(text).then(
          () => toast("Copied.", "ok"),
          () => toast("Could not copy; select the address instead.", "failed"),
        )
      }
    >
      Copy
    </button>
  );
}

/** Settings → Tunnel: which tunnel brings the internet to the receiver, and whether it does. */
export function TunnelSection() {
  const { data: status, error: statusError } = useTunnelStatus();
  const [draft, setDraft] = useState<Draft | null>(null);
  const d = draft ?? draftFrom(status);
  const set = useSetTunnel();
  const off = useTunnelOff();
  const test = useTunnelTest();
  const edit = (patch: Partial<Draft>) => setDraft({ ...d, ...patch });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    test.reset();
    set.mutate(configOf(d), { onSuccess: () => setDraft(null) });
  };

  return (
    <>
      <h2>Tunnel</h2>
      <p className="muted">
        Label Studio in the cloud and Aquarium reach this laptop through a tunnel. Loopline opens it, proves it reaches the
        receiver, and moves Label Studio&apos;s webhooks when its address changes. Only the hook paths are reachable through it.
      </p>
      {statusError && <p className="problem" role="alert">{errorMessage(statusError)}</p>}
      {status && (
        <div className="tunnel-status" data-testid="tunnel-section-status" data-state={status.state}>
          <p>
            <strong data-testid="tunnel-summary">{tunnelSummary(status)}</strong>
            {status.provider && <> · {PROVIDER_LABEL[status.provider as TunnelConfig["provider"]] ?? status.provider}</>}
            {status.kept_by && <> · kept by {status.kept_by}</>}
          </p>
          {status.public_url && (
            <p>
              Public URL <code data-testid="tunnel-public-url">{status.public_url}</code>{" "}
              <CopyButton text={status.public_url} testid="tunnel-copy-url" />
            </p>
          )}
          {status.verified_at && (
            <p className="muted" data-testid="tunnel-verified-at">
              Last verified {new Date(status.verified_at).toLocaleString()}
            </p>
          )}
          {status.error && (
            <p className="problem" role="alert" data-testid="tunnel-error">
              {status.error.message}
            </p>
          )}
          {status.note && <p className="muted" data-testid="tunnel-note">{status.note}</p>}
          <div className="form-actions">
            <button type="button" data-testid="tunnel-test" disabled={test.isPending || !status.provider} onClick={() => test.mutate()}>
              {test.isPending ? "Testing…" : "Test now"}
            </button>
            {status.provider && (
              <button type="button" data-testid="tunnel-off" disabled={off.isPending} onClick={() => off.mutate()}>
                Turn off
              </button>
            )}
          </div>
          {test.data && (
            <p data-testid="tunnel-test-result" role="status">
              {test.data.reachable
                ? `Reachable from the internet · ${test.data.rtt_ms} ms`
                : (test.data.error?.message ?? "Not reachable.")}
            </p>
          )}
          {test.error && <p className="problem" role="alert">{errorMessage(test.error)}</p>}
          {off.error && <p className="problem" role="alert">{errorMessage(off.error)}</p>}
        </div>
      )}

      <form className="tunnel-form" onSubmit={submit} data-testid="tunnel-form">
        <fieldset>
          <legend>Provider</legend>
          {PROVIDERS.map((p) => (
            <label key={p} className="inline">
              <input
                type="radio"
                name="tunnel-provider"
                data-testid={`tunnel-provider-${p}`}
                checked={d.provider === p}
                onChange={() => edit({ provider: p })}
              />{" "}
              {PROVIDER_LABEL[p]}
            </label>
          ))}
        </fieldset>
        {d.provider === "cloudflared" && (
          <>
            <label htmlFor="tunnel-binary">cloudflared binary</label>
            <input id="tunnel-binary" data-testid="tunnel-binary" placeholder="cloudflared on PATH" value={d.binary} onChange={(e) => edit({ binary: e.target.value })} />
            <p className="muted">
              Not installed? Linux: the package from github.com/cloudflare/cloudflared/releases; macOS: <code>brew install cloudflared</code>;
              Windows: <code>winget install --id Cloudflare.cloudflared</code>. The quick tunnel&apos;s address changes on every start; Loopline
              keeps Label Studio pointed at it.
            </p>
          </>
        )}
        {d.provider === "bore" && (
          <>
            <label htmlFor="tunnel-server">bore server</label>
            <input id="tunnel-server" data-testid="tunnel-server" placeholder="bore.example.org" value={d.server} onChange={(e) => edit({ server: e.target.value })} />
            <label htmlFor="tunnel-secret-name">Secret name</label>
            <input id="tunnel-secret-name" data-testid="tunnel-secret-name" value={d.secretName} onChange={(e) => edit({ secretName: e.target.value })} />
            <label htmlFor="tunnel-https-url">HTTPS URL in front of it</label>
            <input id="tunnel-https-url" data-testid="tunnel-https-url" placeholder="https://hooks.example.org (optional)" value={d.httpsUrl} onChange={(e) => edit({ httpsUrl: e.target.value })} />
            <p className="muted">
              Store the server&apos;s secret under Credentials → Secrets first. bore is plain HTTP: Label Studio is only pointed at a bore server
              on another machine through the HTTPS address of your own reverse proxy.
            </p>
          </>
        )}
        {d.provider === "url" && (
          <>
            <label htmlFor="tunnel-public-url-input">Public URL</label>
            <input id="tunnel-public-url-input" data-testid="tunnel-url-input" placeholder="https://hooks.example.org" value={d.publicUrl} onChange={(e) => edit({ publicUrl: e.target.value })} />
          </>
        )}
        <div className="form-actions">
          <button type="submit" data-testid="tunnel-save" disabled={set.isPending}>
            {set.isPending ? "Saving…" : "Use this tunnel"}
          </button>
        </div>
        {set.error && (
          <p className="problem" role="alert" data-testid="tunnel-save-error">
            {errorMessage(set.error)}
          </p>
        )}
      </form>
    </>
  );
}
