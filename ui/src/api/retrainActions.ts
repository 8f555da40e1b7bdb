import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { ApiError, HookRegistration, RetrainRule, Run } from "../bindings.gen";
import type { CommandArgs } from "./commands.gen";
import type { AfterSuccess } from "./afterSuccess";
import { call } from "./ipc";
import { queryKeys } from "./queryKeys";

type NewRule = CommandArgs<"rule_add">;

export function useAddRule({ onSuccess }: AfterSuccess<RetrainRule, NewRule> = {}) {
  const client = useQueryClient();
  return useMutation<RetrainRule, ApiError, NewRule>({
    mutationFn: (args) => call("rule_add", args),
    onSuccess: (rule, args) => {
      onSuccess?.(rule, args);
      void client.invalidateQueries({ queryKey: queryKeys.rules });
    },
  });
}

/** Stays pending until the rules are refetched, so the removed card never comes back to life. */
export function useRemoveRule({ onSuccess }: AfterSuccess<null, string> = {}) {
  const client = useQueryClient();
  return useMutation<null, ApiError, string>({
    mutationFn: (id) => call("rule_remove", { id }),
    onSuccess: async (result, id) => {
      onSuccess?.(result, id);
      await client.invalidateQueries({ queryKey: queryKeys.rules });
    },
  });
}

export function useRetryRun() {
  const client = useQueryClient();
  return useMutation<Run, ApiError, number>({
    mutationFn: (id) => call("run_retry", { id }),
    onSuccess: (fresh, id) => {
      client.setQueryData(queryKeys.run.one(id), fresh);
      void client.invalidateQueries({ queryKey: queryKeys.runs });
    },
  });
}

/** Asks the shell to open the run in the browser; a webview link would go nowhere. */
export function useOpenRunConsole() {
  return useMutation<null, ApiError, number>({ mutationFn: (id) => call("run_open_console", { id }) });
}

/** Registers Loopline's webhook on a Label Studio project; nothing Loopline caches changes. */
export function useRegisterHook() {
  return useMutation<HookRegistration, ApiError, CommandArgs<"label_studio_hook">>({
    mutationFn: (args) => call("label_studio_hook", args),
  });
}
