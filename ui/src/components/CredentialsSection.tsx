import { useState, type FormEvent } from "react";
import { SUGGESTED_SECRETS, type LabelStudioIdentity } from "../bindings.gen";
import { connectedSentence, useLabelStudioUrl, useSecrets } from "../api/credentials";
import { useConnectLabelStudio, useDeleteSecret, useSetSecret, useVerifyLabelStudio } from "../api/credentialActions";
import { errorMessage } from "../lib/errors";
import { AwsCredentials } from "./AwsCredentials";
import { useToast } from "./Toasts";

/** Names other parts of Loopline look up, offered while typing a new secret's name (from core). */
const WELL_KNOWN_SECRETS = SUGGESTED_SECRETS;

type Outcome = { state: "ok"; identity: LabelStudioIdentity } | { state: "failed"; message: string } | null;

/** The Label Studio address and token: verified against the server before anything is stored. */
export function LabelStudioCredentials() {
  const { data: storedUrl, error: urlError } = useLabelStudioUrl();
  const [urlDraft, setUrlDraft] = useState<string | null>(null);
  // The token lives only in this input: a stored token never comes back from the engine.
  const [token, setToken] = useState("");
  const url = urlDraft ?? storedUrl ?? "";
  const connected = typeof storedUrl === "string" && storedUrl !== "";

  const connect = useConnectLabelStudio({
    onSuccess: () => {
      setToken("");
      setUrlDraft(null);
    },
  });
  const check = useVerifyLabelStudio();
  const busy = connect.isPending || check.isPending;
  // Each start resets the other, so at most one of them holds an outcome.
  const latest = connect.isIdle ? check : connect;
  const outcome: Outcome =
    latest.status === "success"
      ? { state: "ok", identity: latest.data }
      : latest.status === "error"
        ? { state: "failed", message: errorMessage(latest.error) }
        : null;

  const save = (e: FormEvent) => {
    e.preventDefault();
    check.reset();
    connect.mutate({ url: url.trim(), token });
  };

  const verify = () => {
    connect.reset();
    check.mutate();
  };

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
  const toast = useToast();
  const { data: secrets, error: listError } = useSecrets();
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const [confirming, setConfirming] = useState<string | null>(null);

  const store = useSetSecret({
    onSuccess: (saved) => {
      setValue("");
      toast(`Saved the secret ${saved.name}.`, "ok");
    },
  });
  const erase = useDeleteSecret({
    onSuccess: (_, target) => {
      setConfirming(null);
      toast(`Deleted the secret ${target}.`, "ok");
    },
  });
  const busy = store.isPending || erase.isPending;
  const failed = store.error ?? erase.error;
  const shownError = (failed ? errorMessage(failed) : null) ?? listError?.message ?? null;

  const save = (e: FormEvent) => {
    e.preventDefault();
    erase.reset();
    store.mutate({ name: name.trim(), value });
  };

  const remove = (target: string) => {
    store.reset();
    erase.mutate(target);
  };

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
                        onClick={() => remove(s.name)}
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
      <form className="secret-form" onSubmit={save}>
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
