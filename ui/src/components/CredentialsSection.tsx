import { useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { SUGGESTED_SECRETS, type LabelStudioIdentity } from "../bindings.gen";
import {
  awsSettingsKey,
  connectedSentence,
  labelStudioUrlKey,
  secretsKey,
  useLabelStudioUrl,
  useSecrets,
} from "../api/credentials";
import { call } from "../api/ipc";
import { errorMessage } from "../lib/errors";
import { AwsCredentials } from "./AwsCredentials";
import { useToast } from "./Toasts";

/** Names other parts of Loopline look up, offered while typing a new secret's name (from core). */
const WELL_KNOWN_SECRETS = SUGGESTED_SECRETS;

type Outcome = { state: "ok"; identity: LabelStudioIdentity } | { state: "failed"; message: string } | null;

/** The Label Studio address and token: verified against the server before anything is stored. */
function LabelStudioCredentials() {
  const client = useQueryClient();
  const { data: storedUrl, error: urlError } = useLabelStudioUrl();
  const [urlDraft, setUrlDraft] = useState<string | null>(null);
  // The token lives only in this input: a stored token never comes back from the engine.
  const [token, setToken] = useState("");
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const url = urlDraft ?? storedUrl ?? "";
  const connected = typeof storedUrl === "string" && storedUrl !== "";

  const run = async (request: () => Promise<LabelStudioIdentity>, saving: boolean) => {
    setBusy(true);
    setOutcome(null);
    try {
      const identity = await request();
      setOutcome({ state: "ok", identity });
      if (saving) {
        setToken("");
        setUrlDraft(null);
        client.setQueryData(labelStudioUrlKey, identity.url);
        void client.invalidateQueries({ queryKey: secretsKey });
      }
    } catch (err) {
      setOutcome({ state: "failed", message: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };

  const save = (e: FormEvent) => {
    e.preventDefault();
    void run(() => call("label_studio_connect", { url: url.trim(), token }), true);
  };

  const verify = () => void run(() => call("label_studio_verify"), false);

  return (
    <>
      <h3>Label Studio</h3>
      <form className="credentials-form" onSubmit={save}>
        <label htmlFor="credentials-ls-url">Address</label>
        <input
          id="credentials-ls-url"
          data-testid="credentials-ls-url"
          inputMode="url"
          placeholder="http://localhost:8080"
          value={url}
          onChange={(e) => setUrlDraft(e.target.value)}
          spellCheck={false}
          autoComplete="off"
        />
        <label htmlFor="credentials-ls-token">Token</label>
        <span className="field-with-hint">
          <input
            id="credentials-ls-token"
            data-testid="credentials-ls-token"
            type="password"
            placeholder={connected ? "stored; type a new one to replace it" : ""}
            value={token}
            onChange={(e) => setToken(e.target.value)}
            spellCheck={false}
            autoComplete="new-password"
            aria-describedby="credentials-ls-token-hint"
          />
          <span id="credentials-ls-token-hint" className="muted hint">
            A legacy token or a Personal Access Token from Account &amp; Settings in Label Studio.
          </span>
        </span>
        <span />
        <span className="toolbar">
          <button type="submit" data-testid="credentials-ls-save" disabled={busy || url.trim() === "" || token.trim() === ""}>
            Verify and save
          </button>
          {connected && (
            <button type="button" data-testid="credentials-ls-verify" disabled={busy} onClick={verify}>
              Verify
            </button>
          )}
          {busy && (
            <span className="muted" data-testid="credentials-ls-checking">
              Checking…
            </span>
          )}
        </span>
      </form>
      {urlError && <p className="problem">{urlError.message}</p>}
      {outcome && (
        <p className="credentials-status" data-testid="credentials-ls-status" data-state={outcome.state}>
          {outcome.state === "ok" ? (
            <>
              <span className="check ok" aria-hidden="true">
                ✓
              </span>
              <span>{connectedSentence(outcome.identity)}</span>
            </>
          ) : (
            <>
              <span className="check failed" aria-hidden="true">
                ✕
              </span>
              <span className="problem" role="alert" data-testid="credentials-ls-error">
                {outcome.message}
              </span>
            </>
          )}
        </p>
      )}
    </>
  );
}

/** Secrets kept in the OS keychain (or read from the environment), by name and hint only. */
function StoredSecrets() {
  const client = useQueryClient();
  const toast = useToast();
  const { data: secrets, error: listError } = useSecrets();
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const [confirming, setConfirming] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const refresh = () => client.invalidateQueries({ queryKey: secretsKey });

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const saved = await call("secret_set", { name: name.trim(), value });
      setValue("");
      await refresh();
      toast(`Saved the secret ${saved.name}.`, "ok");
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const remove = async (target: string) => {
    setBusy(true);
    setError(null);
    try {
      await call("secret_delete", { name: target });
      setConfirming(null);
      await refresh();
      void client.invalidateQueries({ queryKey: labelStudioUrlKey });
      // AWS keys are listed here too; deleting one changes what the AWS part shows.
      void client.invalidateQueries({ queryKey: awsSettingsKey });
      toast(`Deleted the secret ${target}.`, "ok");
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const shownError = error ?? listError?.message ?? null;

  return (
    <>
      <h3>Stored secrets</h3>
      {secrets && secrets.length === 0 && <p className="muted">No secrets are stored yet.</p>}
      {secrets && secrets.length > 0 && (
        <table className="secrets" data-testid="secrets-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Value</th>
              <th scope="col">Store</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {secrets.map((s) => (
              <tr key={s.name} data-testid="secret-row" data-name={s.name}>
                <td>
                  <code>{s.name}</code>
                </td>
                <td className="muted">{s.hint ?? "—"}</td>
                <td>{s.store}</td>
                <td className="secret-actions">
                  {confirming === s.name ? (
                    <span className="confirm">
                      Delete {s.name}?
                      <button
                        type="button"
                        className="danger"
                        data-testid="secret-delete-confirm"
                        disabled={busy}
                        onClick={() => void remove(s.name)}
                      >
                        Delete
                      </button>
                      <button type="button" disabled={busy} onClick={() => setConfirming(null)}>
                        Cancel
                      </button>
                    </span>
                  ) : (
                    <button type="button" data-testid="secret-delete" disabled={busy} onClick={() => setConfirming(s.name)}>
                      Delete
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="secret-form" onSubmit={(e) => void save(e)}>
        <div className="field">
          <label htmlFor="secret-name">Name</label>
          <input
            id="secret-name"
            data-testid="secret-name"
            list="secret-names"
            value={name}
            onChange={(e) => setName(e.target.value)}
            spellCheck={false}
            autoComplete="off"
          />
          <datalist id="secret-names">
            {WELL_KNOWN_SECRETS.map(([known, description]) => (
              <option key={known} value={known}>
                {description}
              </option>
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor="secret-value">Value</label>
          <input
            id="secret-value"
            data-testid="secret-value"
            type="password"
            value={value}
            onChange={(e) => setValue(e.target.value)}
            spellCheck={false}
            autoComplete="new-password"
          />
        </div>
        <button type="submit" data-testid="secret-save" disabled={busy || name.trim() === "" || value === ""}>
          Save
        </button>
      </form>
      <p className="muted">Saving under an existing name replaces its value. Values are never shown again.</p>
      {shownError && (
        <p className="problem" role="alert" data-testid="secrets-error">
          {shownError}
        </p>
      )}
    </>
  );
}

/** Settings › Credentials: the Label Studio connection, AWS access and the other stored secrets. */
export function CredentialsSection() {
  return (
    <section className="credentials" aria-labelledby="credentials-title">
      <h2 id="credentials-title">Credentials</h2>
      <LabelStudioCredentials />
      <AwsCredentials />
      <StoredSecrets />
    </section>
  );
}
