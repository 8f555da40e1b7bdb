import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { ApiError } from "../bindings.gen";
import type { CommandArgs, CommandName, CommandResult } from "./commands.gen";

/** A command's arguments: optional when it takes none, or only optional ones. */
export type ArgsParam<K extends CommandName> = Record<never, never> extends CommandArgs<K> ? [args?: CommandArgs<K>] : [args: CommandArgs<K>];

/** True when the page runs inside the Loopline window (not in a plain browser or a test). */
export function inTauri(): boolean {
  return typeof window !== "undefined" && "__TAURI_INTERNALS__" in window;
}

/** Every command failure becomes an ApiError, so screens branch on `code` only. */
export function toApiError(e: unknown): ApiError {
  if (e && typeof e === "object" && "code" in e && "message" in e) {
    return e as ApiError;
  }
  return { code: "internal", message: e instanceof Error ? e.message : String(e) };
}

/**
 * Calls an app command. Its name, arguments and result are checked against the command
 * declarations in src-tauri/src/commands.rs (generated into commands.gen.ts).
 */
export async function call<K extends CommandName>(cmd: K, ...rest: ArgsParam<K>): Promise<CommandResult<K>> {
  const [args] = rest;
  if (!inTauri()) {
    throw {
      code: "engine_unavailable",
      message: "This page is not running inside the Loopline app, so there is no engine to talk to.",
    } satisfies ApiError;
  }
  try {
    return await invoke<CommandResult<K>>(cmd, args as Record<string, unknown> | undefined);
  } catch (e) {
    throw toApiError(e);
  }
}

export async function subscribe<T>(event: string, onPayload: (payload: T) => void): Promise<UnlistenFn> {
  if (!inTauri()) return () => {};
  return listen<T>(event, (e) => onPayload(e.payload));
}
