import { useState, type FormEvent } from "react";
import { useAppInfo, useReceiverStatus } from "../api/engine";
import { useMoveReceiver } from "../api/receiverActions";
import { AboutSection } from "../components/AboutSection";
import { CompanionSection } from "../components/CompanionSection";
import { CredentialsSection } from "../components/CredentialsSection";
import { RetentionSection } from "../components/RetentionSection";
import { TunnelSection } from "../components/TunnelSection";
import { formatBytes } from "../lib/format";

export function SettingsPage() {
  const { data: status } = useReceiverStatus();
  const { data: info, error: infoError } = useAppInfo();
  const { mutate: move, error, isPending: busy } = useMoveReceiver();
  const [draft, setDraft] = useState<string | null>(null);
  const listen = draft ?? status?.listen ?? "";

  const submit = (e: FormEvent) => {
    e.preventDefault();
    // Either way the field goes back to the receiver's address, as the status bar shows it.
    move(listen, { onSettled: () => setDraft(null) });
  };

  return (
    <section className="page" aria-labelledby="settings-title">
      <header className="page-header">
        <h1 id="settings-title">Settings</h1>
      </header>

      <h2>Receiver</h2>
      <form className="form-row" onSubmit={submit}>
        <label htmlFor="listen">Listen address</label>
        <input
          id="listen"
          data-testid="settings-listen"
          value={listen}
          onChange={(e) => setDraft(e.target.value)}
          spellCheck={false}
          autoComplete="off"
        />
        <button type="submit" disabled={busy || listen.trim() === ""} data-testid="settings-listen-apply">
          Apply
        </button>
      </form>
      <p className="muted">
        Loopline listens on this machine only (127.0.0.1). A tunnel brings Label Studio to it.
      </p>
      {error && (
        <p className="problem" role="alert" data-testid="settings-listen-error">
          {error.message}
        </p>
      )}

      <CompanionSection />

      <TunnelSection />

      <CredentialsSection />

      <RetentionSection />

      <h2>Data</h2>
      {infoError && <p className="problem">{infoError.message}</p>}
      {info && (
        <dl className="facts" data-testid="settings-data">
          <dt>Data folder</dt>
          <dd>
            <code>{info.data_dir}</code>
          </dd>
          <dt>Database</dt>
          <dd>
            <code>{info.db_path}</code>
          </dd>
          <dt>Size</dt>
          <dd>{formatBytes(info.db_size_bytes)}</dd>
          <dt>Schema</dt>
          <dd>version {info.schema_version}</dd>
          <dt>Loopline</dt>
          <dd>{info.version}</dd>
        </dl>
      )}
      <AboutSection />
    </section>
  );
}
