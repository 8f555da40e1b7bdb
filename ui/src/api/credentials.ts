import { useQuery } from "@tanstack/react-query";
import type { ApiError, AwsIdentity, AwsSettings, LabelStudioIdentity, SecretInfo } from "../bindings.gen";
import { call } from "./ipc";
import { queryKeys } from "./queryKeys";

/** The connected Label Studio address (not a secret), or null when none is stored. */
export function useLabelStudioUrl() {
  return useQuery<string | null, ApiError>({
    queryKey: queryKeys.labelStudioUrl,
    queryFn: () => call("label_studio_url"),
  });
}

/** Stored secrets by name and hint only; their values never reach the webview. */
export function useSecrets() {
  return useQuery<SecretInfo[], ApiError>({
    queryKey: queryKeys.secrets,
    queryFn: () => call("secrets_list"),
  });
}

/** What AWS access is configured; never a secret, only the last characters of the key id. */
export function useAwsSettings() {
  return useQuery<AwsSettings, ApiError>({
    queryKey: queryKeys.awsSettings,
    queryFn: () => call("aws_settings"),
  });
}

/** "Connected as ada@example.com to Label Studio 1.23.2 at http://… (legacy token)." */
export function connectedSentence(id: LabelStudioIdentity): string {
  const version = id.version ? ` ${id.version}` : "";
  const kind = id.token_kind === "legacy" ? "legacy token" : "personal access token, refreshed automatically";
  return `Connected as ${id.email} to Label Studio${version} at ${id.url} (${kind}).`;
}

/** "Connected to AWS account 123456789012 as arn:aws:iam::123456789012:user/ada in eu-west-1." */
export function awsConnectedSentence(id: AwsIdentity): string {
  return `Connected to AWS account ${id.account} as ${id.arn} in ${id.region}.`;
}

/** "Access key …WXYZ in eu-west-1 (with a session token)", "Profile 'ml' (its own region)", … */
export function awsSettingsSentence(s: AwsSettings): string {
  const where = (fallback: string) => (s.region ? ` in ${s.region}` : fallback);
  switch (s.mode) {
    case "keys": {
      const key = s.access_key_hint ? `Access key ${s.access_key_hint}` : "An access key";
      return `${key}${where(" (no region set)")}${s.has_session_token ? " (with a session token)" : ""}`;
    }
    case "profile":
      return `Profile '${s.profile ?? ""}'${where(" (its own region)")}`;
    case "default_chain":
      return `Nothing stored: the AWS SDK's default chain is used (AWS_* variables, the default profile)${where("")}`;
  }
}
