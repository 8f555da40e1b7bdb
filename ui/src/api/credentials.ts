import { useQuery } from "@tanstack/react-query";
import type { ApiError, LabelStudioIdentity, SecretInfo } from "../bindings.gen";
import { call } from "./ipc";

export const labelStudioUrlKey = ["label-studio-url"] as const;
export const secretsKey = ["secrets"] as const;

/** The connected Label Studio address (not a secret), or null when none is stored. */
export function useLabelStudioUrl() {
  return useQuery<string | null, ApiError>({
    queryKey: labelStudioUrlKey,
    queryFn: () => call<string | null>("label_studio_url"),
  });
}

/** Stored secrets by name and hint only; their values never reach the webview. */
export function useSecrets() {
  return useQuery<SecretInfo[], ApiError>({
    queryKey: secretsKey,
    queryFn: () => call<SecretInfo[]>("secrets_list"),
  });
}

/** "Connected as ada@example.com to Label Studio 1.23.2 at http://… (legacy token)." */
export function connectedSentence(id: LabelStudioIdentity): string {
  const version = id.version ? ` ${id.version}` : "";
  const kind = id.token_kind === "legacy" ? "legacy token" : "personal access token, refreshed automatically";
  return `Connected as ${id.email} to Label Studio${version} at ${id.url} (${kind}).`;
}
