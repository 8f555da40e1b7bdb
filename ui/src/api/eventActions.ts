import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { ApiError, ReplayOutcome } from "../bindings.gen";
import type { CommandArgs } from "./commands.gen";
import { copyText } from "../lib/errors";
import type { AfterSuccess } from "./afterSuccess";
import { call } from "./ipc";
import { queryKeys } from "./queryKeys";
import { dropEvent } from "./timeline";

/** Copies an event's curl command; a mutation only so it shares the pane's busy state and error. */
export function useCopyCurl({ onSuccess }: AfterSuccess<void, string> = {}) {
  return useMutation<void, ApiError, string>({
    mutationFn: (curl) => copyText(curl),
    onSuccess: (_, curl) => onSuccess?.(undefined, curl),
  });
}

export function useReplayEvent({ onSuccess }: AfterSuccess<ReplayOutcome, number> = {}) {
  const client = useQueryClient();
  return useMutation<ReplayOutcome, ApiError, number>({
    mutationFn: (id) => call("event_replay", { id }),
    onSuccess: (outcome, id) => {
      onSuccess?.(outcome, id);
      void client.invalidateQueries({ queryKey: queryKeys.event.one(id) });
    },
  });
}

type Edited = CommandArgs<"event_replay_edited">;

export function useReplayEdited({ onSuccess }: AfterSuccess<ReplayOutcome, Edited> = {}) {
  const client = useQueryClient();
  return useMutation<ReplayOutcome, ApiError, Edited>({
    mutationFn: (args) => call("event_replay_edited", args),
    onSuccess: (outcome, args) => {
      onSuccess?.(outcome, args);
      void client.invalidateQueries({ queryKey: queryKeys.event.one(args.id) });
    },
  });
}

/** Deletes an event and drops it from every loaded list at once, without waiting for a refetch. */
export function useDeleteEvent({ onSuccess }: AfterSuccess<null, number> = {}) {
  const client = useQueryClient();
  return useMutation<null, ApiError, number>({
    mutationFn: (id) => call("event_delete", { id }),
    onSuccess: (result, id) => {
      onSuccess?.(result, id);
      dropEvent(client, id);
      client.removeQueries({ queryKey: queryKeys.event.one(id) });
      void client.invalidateQueries({ queryKey: queryKeys.stats });
    },
  });
}
