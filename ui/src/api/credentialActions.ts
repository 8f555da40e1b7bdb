import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { ApiError, AwsIdentity, LabelStudioIdentity, SecretInfo } from "../bindings.gen";
import type { CommandArgs } from "./commands.gen";
import type { AfterSuccess } from "./afterSuccess";
import { call } from "./ipc";
import { queryKeys } from "./queryKeys";

type LabelStudioLogin = CommandArgs<"label_studio_connect">;

/** Verifies the address and token against Label Studio, then stores them. */
export function useConnectLabelStudio({ onSuccess }: AfterSuccess<LabelStudioIdentity, LabelStudioLogin> = {}) {
  const client = useQueryClient();
  return useMutation<LabelStudioIdentity, ApiError, LabelStudioLogin>({
    mutationFn: (args) => call("label_studio_connect", args),
    onSuccess: (identity, args) => {
      onSuccess?.(identity, args);
      client.setQueryData(queryKeys.labelStudioUrl, identity.url);
      void client.invalidateQueries({ queryKey: queryKeys.secrets });
    },
  });
}

/** Checks the stored Label Studio credentials; nothing is stored. */
export function useVerifyLabelStudio() {
  return useMutation<LabelStudioIdentity, ApiError, void>({ mutationFn: () => call("label_studio_verify") });
}

type SecretValue = CommandArgs<"secret_set">;

export function useSetSecret({ onSuccess }: AfterSuccess<SecretInfo, SecretValue> = {}) {
  const client = useQueryClient();
  return useMutation<SecretInfo, ApiError, SecretValue>({
    mutationFn: (args) => call("secret_set", args),
    onSuccess: async (saved, args) => {
      await client.invalidateQueries({ queryKey: queryKeys.secrets });
      onSuccess?.(saved, args);
    },
  });
}

/** Deletes a secret by name; the Label Studio and AWS parts read some of them, so they refresh too. */
export function useDeleteSecret({ onSuccess }: AfterSuccess<null, string> = {}) {
  const client = useQueryClient();
  return useMutation<null, ApiError, string>({
    mutationFn: (name) => call("secret_delete", { name }),
    onSuccess: async (result, name) => {
      await client.invalidateQueries({ queryKey: queryKeys.secrets });
      void client.invalidateQueries({ queryKey: queryKeys.labelStudioUrl });
      void client.invalidateQueries({ queryKey: queryKeys.awsSettings });
      onSuccess?.(result, name);
    },
  });
}

type AwsKeys = CommandArgs<"aws_connect_keys">;
type AwsProfile = CommandArgs<"aws_connect_profile">;

/** Verifies an access key with STS, then keeps it in the keychain. */
export function useConnectAwsKeys({ onSuccess }: AfterSuccess<AwsIdentity, AwsKeys> = {}) {
  const client = useQueryClient();
  return useMutation<AwsIdentity, ApiError, AwsKeys>({
    mutationFn: (args) => call("aws_connect_keys", args),
    onSuccess: (identity, args) => {
      onSuccess?.(identity, args);
      void client.invalidateQueries({ queryKey: queryKeys.awsSettings });
      void client.invalidateQueries({ queryKey: queryKeys.secrets });
    },
  });
}

/** Verifies a named profile with STS, then stores its name (nothing secret). */
export function useConnectAwsProfile({ onSuccess }: AfterSuccess<AwsIdentity, AwsProfile> = {}) {
  const client = useQueryClient();
  return useMutation<AwsIdentity, ApiError, AwsProfile>({
    mutationFn: (args) => call("aws_connect_profile", args),
    onSuccess: (identity, args) => {
      onSuccess?.(identity, args);
      void client.invalidateQueries({ queryKey: queryKeys.awsSettings });
      void client.invalidateQueries({ queryKey: queryKeys.secrets });
    },
  });
}

/** Checks whatever AWS access is configured; nothing is stored. */
export function useVerifyAws() {
  return useMutation<AwsIdentity, ApiError, void>({ mutationFn: () => call("aws_verify") });
}

/** Forgets the stored key or profile; stays pending until the settings are read again. */
export function useDisconnectAws({ onSuccess }: AfterSuccess<null, void> = {}) {
  const client = useQueryClient();
  return useMutation<null, ApiError, void>({
    mutationFn: () => call("aws_disconnect"),
    onSuccess: async (result) => {
      onSuccess?.(result, undefined);
      await client.invalidateQueries({ queryKey: queryKeys.awsSettings });
      void client.invalidateQueries({ queryKey: queryKeys.secrets });
    },
  });
}
