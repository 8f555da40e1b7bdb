import { useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import type { AwsIdentity } from "../bindings.gen";
import { awsConnectedSentence, awsSettingsKey, awsSettingsSentence, secretsKey, useAwsSettings } from "../api/credentials";
import { call } from "../api/ipc";
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
  const client = useQueryClient();
  const { data: settings, error: settingsError } = useAwsSettings();
  const [modeDraft, setModeDraft] = useState<Mode | null>(null);
  const [keyId, setKeyId] = useState("");
  // The secret and the session token live only in these inputs: stored ones never come back.
  const [secret, setSecret] = useState("");
  const [sessionToken, setSessionToken] = useState("");
  const [keysRegionDraft, setKeysRegionDraft] = useState<string | null>(null);
  const [profileDraft, setProfileDraft] = useState<string | null>(null);
  const [profileRegionDraft, setProfileRegionDraft] = useState<string | null>(null);
  const [busy, setBusy] = useState<"checking" | "forgetting" | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);

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

  const run = async (request: () => Promise<AwsIdentity>, saving: boolean) => {
    setBusy("checking");
    setOutcome(null);
    setConfirming(false);
    try {
      const identity = await request();
      setOutcome({ state: "ok", identity });
      if (saving) {
        setKeyId("");
        setSecret("");
        setSessionToken("");
        void client.invalidateQueries({ queryKey: awsSettingsKey });
        void client.invalidateQueries({ queryKey: secretsKey });
      }
    } catch (err) {
      setOutcome({ state: "failed", message: errorMessage(err) });
    } finally {
      setBusy(null);
    }
  };

  const save = (e: FormEvent) => {
    e.preventDefault();
    if (!ready) return;
    if (mode === "keys") {
      const token = sessionToken.trim();
      const args = {
        accessKeyId: keyId.trim(),
        secretAccessKey: secret.trim(),
        sessionToken: token === "" ? null : token,
        region: keysRegion.trim(),
      };
      void run(() => call("aws_connect_keys", args), true);
    } else {
      const region = profileRegion.trim();
      const args = { profile: profile.trim(), region: region === "" ? null : region };
      void run(() => call("aws_connect_profile", args), true);
    }
  };

  const verify = () => void run(() => call("aws_verify"), false);

  const forget = async () => {
    setBusy("forgetting");
    setOutcome(null);
    try {
      await call("aws_disconnect");
      setConfirming(false);
      forgetDrafts();
      setModeDraft(null);
      await client.invalidateQueries({ queryKey: awsSettingsKey });
      void client.invalidateQueries({ queryKey: secretsKey });
    } catch (err) {
      setOutcome({ state: "failed", message: errorMessage(err) });
    } finally {
      setBusy(null);
    }
  };

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
                  onClick={() => void forget()}
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
