import { useState, type FormEvent } from "react";
import type { AwsIdentity } from "../bindings.gen";
import { awsConnectedSentence, awsSettingsSentence, useAwsSettings } from "../api/credentials";
import { useConnectAwsKeys, useConnectAwsProfile, useDisconnectAws, useVerifyAws } from "../api/credentialActions";
import { errorMessage } from "../lib/errors";

type Mode = "keys" | "profile";
type Outcome = { state: "ok"; identity: AwsIdentity } | { state: "failed"; message: string } | null;

const REGIONS: [string, string][] = [
  ["us-east-1", "US East (N. Virginia)"],
  ["us-east-2", "US East (Ohio)"],
  ["us-west-1", "US West (N. California)"],
  ["us-west-2", "US West (Oregon)"],
  ["eu-west-1", "Europe (Ireland)"],
  ["eu-west-2", "Europe (London)"],
  ["eu-central-1", "Europe (Frankfurt)"],
  ["ap-southeast-1", "Asia Pacific (Singapore)"],
  ["ap-southeast-2", "Asia Pacific (Sydney)"],
  ["ap-northeast-1", "Asia Pacific (Tokyo)"],
  ["ap-south-1", "Asia Pacific (Mumbai)"],
  ["ca-central-1", "Canada (Central)"],
  ["sa-east-1", "South America (São Paulo)"],
];

const noSpaces = { spellCheck: false, autoComplete: "off", autoCapitalize: "off" } as const;

/** AWS access: an access key (kept in the keychain) or a named profile, verified with STS before it is stored. */
export function AwsCredentials() {
  const { data: settings, error: settingsError } = useAwsSettings();
  const [modeDraft, setModeDraft] = useState<Mode | null>(null);
  const [keyId, setKeyId] = useState("");
  // The secret and the session token live only in these inputs: stored ones never come back.
  const [secret, setSecret] = useState("");
  const [sessionToken, setSessionToken] = useState("");
  const [keysRegionDraft, setKeysRegionDraft] = useState<string | null>(null);
  const [profileDraft, setProfileDraft] = useState<string | null>(null);
  const [profileRegionDraft, setProfileRegionDraft] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);

  const storedProfile = settings?.mode === "profile";
  const mode: Mode = modeDraft ?? (storedProfile ? "profile" : "keys");
  const keysRegion = keysRegionDraft ?? settings?.region ?? "";
  const profile = profileDraft ?? settings?.profile ?? "";
  const profileRegion = profileRegionDraft ?? (storedProfile ? settings.region : null) ?? "";
  const configured = settings !== undefined && settings.mode !== "default_chain";
  const ready =
    mode === "keys" ? keyId.trim() !== "" && secret.trim() !== "" && keysRegion.trim() !== "" : profile.trim() !== "";

  const forgetDrafts = () => {
    setKeyId("");
    setSecret("");
    setSessionToken("");
    setKeysRegionDraft(null);
    setProfileDraft(null);
    setProfileRegionDraft(null);
  };

  // The secret and the session token leave the inputs once they are stored.
  const clearSecrets = () => {
    setKeyId("");
    setSecret("");
    setSessionToken("");
  };
  const connectKeys = useConnectAwsKeys({ onSuccess: clearSecrets });
  const connectProfile = useConnectAwsProfile({ onSuccess: clearSecrets });
  const check = useVerifyAws();
  const disconnect = useDisconnectAws({
    onSuccess: () => {
      setConfirming(false);
      forgetDrafts();
      setModeDraft(null);
    },
  });
  const checks = [connectKeys, connectProfile, check];
  const busy = checks.some((m) => m.isPending) ? "checking" : disconnect.isPending ? "forgetting" : null;
  // Each start resets the others, so at most one of them holds an outcome; forgetting reports only a failure.
  const latest = checks.find((m) => !m.isIdle);
  const outcome: Outcome =
    latest?.status === "success"
      ? { state: "ok", identity: latest.data }
      : latest?.status === "error"
        ? { state: "failed", message: errorMessage(latest.error) }
        : disconnect.error
          ? { state: "failed", message: errorMessage(disconnect.error) }
          : null;

  const start = (action: () => void) => {
    [...checks, disconnect].forEach((m) => m.reset());
    action();
  };

  const save = (e: FormEvent) => {
    e.preventDefault();
    if (!ready) return;
    setConfirming(false);
    if (mode === "keys") {
      const token = sessionToken.trim();
      const args = {
        accessKeyId: keyId.trim(),
        secretAccessKey: secret.trim(),
        sessionToken: token === "" ? null : token,
        region: keysRegion.trim(),
      };
      start(() => connectKeys.mutate(args));
    } else {
      const region = profileRegion.trim();
      const args = { profile: profile.trim(), region: region === "" ? null : region };
      start(() => connectProfile.mutate(args));
    }
  };

  const verify = () => {
    setConfirming(false);
    start(() => check.mutate());
  };

  const forget = () => start(() => disconnect.mutate());

  return (
    <>
      <h3>AWS</h3>
      <p className="muted" data-testid="credentials-aws-current">
        {settings ? awsSettingsSentence(settings) : settingsError ? "" : "Reading the stored AWS settings…"}
      </p>
      {settingsError && <p className="problem">{settingsError.message}</p>}
      <form className="credentials-form" onSubmit={save}>
        <fieldset className="credentials-choice">
          <legend>Sign in with</legend>
          <span>
            <input
              type="radio"
              id="credentials-aws-mode-keys"
              data-testid="credentials-aws-mode-keys"
              name="credentials-aws-mode"
              checked={mode === "keys"}
              onChange={() => setModeDraft("keys")}
            />
            <label htmlFor="credentials-aws-mode-keys">Access key</label>
          </span>
          <span>
            <input
              type="radio"
              id="credentials-aws-mode-profile"
              data-testid="credentials-aws-mode-profile"
              name="credentials-aws-mode"
              checked={mode === "profile"}
              onChange={() => setModeDraft("profile")}
            />
            <label htmlFor="credentials-aws-mode-profile">AWS profile</label>
          </span>
        </fieldset>

        {mode === "keys" ? (
          <>
            <label htmlFor="credentials-aws-key-id">Access key ID</label>
            <input
              id="credentials-aws-key-id"
              data-testid="credentials-aws-key-id"
              placeholder="AKIA…"
              value={keyId}
              onChange={(e) => setKeyId(e.target.value)}
              {...noSpaces}
            />
            <label htmlFor="credentials-aws-secret">Secret access key</label>
            <input
              id="credentials-aws-secret"
              data-testid="credentials-aws-secret"
              type="password"
              placeholder={settings?.mode === "keys" ? "stored; type a new one to replace it" : ""}
              value={secret}
              onChange={(e) => setSecret(e.target.value)}
              spellCheck={false}
              autoComplete="new-password"
            />
            <label htmlFor="credentials-aws-session-token">Session token</label>
            <span className="field-with-hint">
              <input
                id="credentials-aws-session-token"
                data-testid="credentials-aws-session-token"
                type="password"
                placeholder="optional"
                value={sessionToken}
                onChange={(e) => setSessionToken(e.target.value)}
                spellCheck={false}
                autoComplete="new-password"
                aria-describedby="credentials-aws-session-token-hint"
              />
              <span id="credentials-aws-session-token-hint" className="muted hint">
                Only for temporary credentials (ASIA… keys)
              </span>
            </span>
            <label htmlFor="credentials-aws-region">Region</label>
            <input
              id="credentials-aws-region"
              data-testid="credentials-aws-region"
              list="credentials-aws-regions"
              placeholder="eu-west-1"
              value={keysRegion}
              onChange={(e) => setKeysRegionDraft(e.target.value)}
              {...noSpaces}
            />
          </>
        ) : (
          <>
            <label htmlFor="credentials-aws-profile">Profile name</label>
            <span className="field-with-hint">
              <input
                id="credentials-aws-profile"
                data-testid="credentials-aws-profile"
                placeholder="default"
                value={profile}
                onChange={(e) => setProfileDraft(e.target.value)}
                aria-describedby="credentials-aws-profile-hint"
                {...noSpaces}
              />
              <span id="credentials-aws-profile-hint" className="muted hint">
                A profile from ~/.aws/config or ~/.aws/credentials. Loopline stores only its name, nothing secret.
              </span>
            </span>
            <label htmlFor="credentials-aws-profile-region">Region</label>
            <span className="field-with-hint">
              <input
                id="credentials-aws-profile-region"
                data-testid="credentials-aws-profile-region"
                list="credentials-aws-regions"
                placeholder="optional"
                value={profileRegion}
                onChange={(e) => setProfileRegionDraft(e.target.value)}
                aria-describedby="credentials-aws-profile-region-hint"
                {...noSpaces}
              />
              <span id="credentials-aws-profile-region-hint" className="muted hint">
                Leave empty to use the profile&apos;s region
              </span>
            </span>
          </>
        )}
        <datalist id="credentials-aws-regions">
          {REGIONS.map(([code, name]) => (
            <option key={code} value={code}>
              {name}
            </option>
          ))}
        </datalist>

        <span />
        <span className="toolbar">
          <button type="submit" data-testid="credentials-aws-save" disabled={busy !== null || !ready}>
            Verify and save
          </button>
          <button type="button" data-testid="credentials-aws-verify" disabled={busy !== null} onClick={verify}>
            Verify
          </button>
          {configured &&
            (confirming ? (
              <span className="confirm">
                {settings.mode === "keys" ? "Forget the stored access key?" : "Forget the profile?"}
                <button
                  type="button"
                  className="danger"
                  data-testid="credentials-aws-forget-confirm"
                  disabled={busy !== null}
                  onClick={forget}
                >
                  Forget
                </button>
                <button type="button" disabled={busy !== null} onClick={() => setConfirming(false)}>
                  Cancel
                </button>
              </span>
            ) : (
              <button
                type="button"
                data-testid="credentials-aws-forget"
                disabled={busy !== null}
                onClick={() => setConfirming(true)}
              >
                Forget
              </button>
            ))}
          {busy === "checking" && (
            <span className="muted" data-testid="credentials-aws-checking">
              Checking…
            </span>
          )}
        </span>
      </form>
      {outcome && (
        <p className="credentials-status" data-testid="credentials-aws-status" data-state={outcome.state}>
          {outcome.state === "ok" ? (
            <>
              <span className="check ok" aria-hidden="true">
                ✓
              </span>
              <span>{awsConnectedSentence(outcome.identity)}</span>
            </>
          ) : (
            <>
              <span className="check failed" aria-hidden="true">
                ✕
              </span>
              <span className="problem" role="alert" data-testid="credentials-aws-error">
                {outcome.message}
              </span>
            </>
          )}
        </p>
      )}
    </>
  );
}
