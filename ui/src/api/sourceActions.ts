import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { ApiError, CreatedSource } from "../bindings.gen";
import type { CommandArgs } from "./commands.gen";
import type { AfterSuccess } from "./afterSuccess";
import { call } from "./ipc";
import { queryKeys } from "./queryKeys";

type NewSource = CommandArgs<"source_add">;
type Rotation = CommandArgs<"source_rotate">;

export function useAddSource({ onSuccess }: AfterSuccess<CreatedSource, NewSource> = {}) {
  const client = useQueryClient();
  return useMutation<CreatedSource, ApiError, NewSource>({
    mutationFn: (args) => call("source_add", args),
    onSuccess: (created, args) => {
      onSuccess?.(created, args);
      void client.invalidateQueries({ queryKey: queryKeys.sources });
    },
  });
}

export function useRotateSource({ onSuccess }: AfterSuccess<CreatedSource, Rotation> = {}) {
  const client = useQueryClient();
  return useMutation<CreatedSource, ApiError, Rotation>({
    mutationFn: (args) => call("source_rotate", args),
    onSuccess: (created, args) => {
      onSuccess?.(created, args);
      void client.invalidateQueries({ queryKey: queryKeys.sources });
    },
  });
}

/** Stays pending until the list is refetched, so the removed row never comes back to life. */
export function useRemoveSource({ onSuccess }: AfterSuccess<null, string> = {}) {
  const client = useQueryClient();
  return useMutation<null, ApiError, string>({
    mutationFn: (id) => call("source_remove", { id }),
    onSuccess: async (result, id) => {
      onSuccess?.(result, id);
      await client.invalidateQueries({ queryKey: queryKeys.sources });
    },
  });
}

/** Sends a signed test webhook through the receiver; the result is the new event's id. */
export function useSendTestEvent({ onSuccess }: AfterSuccess<number, string> = {}) {
  const client = useQueryClient();
  return useMutation<number, ApiError, string>({
    mutationFn: (id) => call("source_send_test", { id }),
    onSuccess: (eventId, id) => {
      onSuccess?.(eventId, id);
      void client.invalidateQueries({ queryKey: queryKeys.sources });
      void client.invalidateQueries({ queryKey: queryKeys.stats });
    },
  });
}
