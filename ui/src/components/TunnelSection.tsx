import { useState, type FormEvent } from "react";
import type { TunnelConfig, TunnelStatus } from "../bindings.gen";
import { SECRET_NAMES } from "../bindings.gen";
import {
  PROVIDER_LABEL,
  tunnelSummary,
  useDeletedHookPolicy,
  useSetDeletedHookPolicy,
  useSetTunnel,
  useTunnelOff,
  useTunnelStatus,
  useTunnelTest,
} from "../api/tunnel";
import { errorMessage } from "../lib/errors";
import { useToast } from "./Toasts";

type Provider = TunnelConfig["provider"];
const PROVIDERS: Provider[] = ["cloudflared", "ngrok", "bore", "url"];

/** The fields of every provider, so switching back and forth keeps what was typed. */
type Draft = {
  provider: Provider;
  binary: string;
  named: boolean;
  tokenSecret: string;
  hostname: string;
  authtokenSecret: string;
  domain: string;
  server: string;
  secretName: string;
  httpsUrl: string;
  publicUrl: string;
};

/** The saved provider; with none saved, the quick tunnel when cloudflared is installed and
 * otherwise no choice made for the user (the section lays the choices out instead). */
function draftFrom(s: TunnelStatus | undefined): Draft {
  const saved = s?.provider as Provider | null | undefined;
  const provider = saved && PROVIDERS.includes(saved) ? saved : "cloudflared";
  return {
    provider,
    binary: "",
    named: false,
    tokenSecret: SECRET_NAMES.cloudflareTunnelToken,
    hostname: "",
    authtokenSecret: SECRET_NAMES.ngrokAuthtoken,
    domain: "",
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
      return {
        provider: "cloudflared",
        binary: opt(d.binary),
        named: d.named ? { token_secret: d.tokenSecret.trim(), hostname: d.hostname.trim() } : null,
      };
    case "ngrok":
      return { provider: "ngrok", authtoken_secret: d.authtokenSecret.trim(), domain: opt(d.domain) };
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

      {status && !status.provider && <TunnelChoices cloudflared={status.cloudflared_found} />}

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
            <label className="inline">
              <input type="checkbox" data-testid="tunnel-named" checked={d.named} onChange={(e) => edit({ named: e.target.checked })} /> A named
              tunnel on my Cloudflare account (a fixed hostname)
            </label>
            {d.named && (
              <>
                <label htmlFor="tunnel-hostname">Public hostname</label>
                <input id="tunnel-hostname" data-testid="tunnel-hostname" placeholder="hooks.example.org" value={d.hostname} onChange={(e) => edit({ hostname: e.target.value })} />
                <label htmlFor="tunnel-token-secret">Token secret name</label>
                <input id="tunnel-token-secret" data-testid="tunnel-token-secret" value={d.tokenSecret} onChange={(e) => edit({ tokenSecret: e.target.value })} />
              </>
            )}
            <p className="muted">
              {d.named
                ? "Store the tunnel token from the Cloudflare dashboard under Credentials → Secrets first; cloudflared gets it in its environment, never on its command line."
                : "The quick tunnel's address changes on every start; Loopline keeps Label Studio pointed at it."}{" "}
              Not installed? Linux: the package from github.com/cloudflare/cloudflared/releases; macOS: <code>brew install cloudflared</code>;
              Windows: <code>winget install --id Cloudflare.cloudflared</code>.
            </p>
          </>
        )}
        {d.provider === "ngrok" && (
          <>
            <label htmlFor="tunnel-authtoken-secret">Authtoken secret name</label>
            <input
              id="tunnel-authtoken-secret"
              data-testid="tunnel-authtoken-secret"
              value={d.authtokenSecret}
              onChange={(e) => edit({ authtokenSecret: e.target.value })}
            />
            <label htmlFor="tunnel-domain">Domain</label>
            <input id="tunnel-domain" data-testid="tunnel-domain" placeholder="my-name.ngrok-free.app (optional)" value={d.domain} onChange={(e) => edit({ domain: e.target.value })} />
            <p className="muted">
              Store your authtoken (dashboard.ngrok.com → Your Authtoken) under Credentials → Secrets first. With your free static domain the
              address survives restarts; without one it changes on every start and Loopline moves Label Studio&apos;s webhooks.
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
      <DeletedHookChoice />
    </>
  );
}

/** When the tunnel's address changes Loopline moves its Label Studio webhooks; this says
 * what it does with one that someone deleted in Label Studio. */
function DeletedHookChoice() {
  const { data: policy } = useDeletedHookPolicy();
  const set = useSetDeletedHookPolicy();
  if (!policy) return null;
  return (
    <div className="form-row">
      <label htmlFor="deleted-hook-policy">If Loopline&apos;s webhook is deleted in Label Studio</label>
      <select
        id="deleted-hook-policy"
        data-testid="deleted-hook-policy"
        value={policy}
        disabled={set.isPending}
        onChange={(e) => set.mutate(e.target.value as typeof policy)}
      >
        <option value="recreate">register it again</option>
        <option value="report">leave it deleted and tell me</option>
      </select>
      {set.error && <p className="problem" role="alert">{errorMessage(set.error)}</p>}
    </div>
  );
}

/** With no tunnel chosen yet: every choice in one place, so nobody has to read docs first. */
function TunnelChoices({ cloudflared }: { cloudflared: string | null }) {
  return (
    <div className="tunnel-choices" data-testid="tunnel-choices">
      {cloudflared ? (
        <p>
          <strong>cloudflared is installed</strong> (<code>{cloudflared}</code>): the Cloudflare quick tunnel below needs no account. Choose
          &ldquo;Use this tunnel&rdquo;.
        </p>
      ) : (
        <>
          <p>
            <strong>Pick how the internet reaches this laptop.</strong>
          </p>
          <ul>
            <li>
              <strong>Cloudflare quick tunnel</strong>: free, no account. Install <code>cloudflared</code> first: Linux, the package from
              github.com/cloudflare/cloudflared/releases; macOS, <code>brew install cloudflared</code>; Windows,{" "}
              <code>winget install --id Cloudflare.cloudflared</code>.
            </li>
            <li>
              <strong>ngrok</strong>: your ngrok account&apos;s authtoken; a free static domain keeps the address fixed.
            </li>
            <li>
              <strong>My bore server</strong>: a <code>bore server</code> you run, with an HTTPS proxy in front of it.
            </li>
            <li>
              <strong>My own URL</strong>: a reverse proxy, Tailscale Funnel or a VPN you already have.
            </li>
          </ul>
        </>
      )}
    </div>
  );
}
