import { vi } from "vitest";
import type { ReceiverStatus } from "../bindings.gen";
import type { CommandArgs, CommandName, CommandResult } from "../api/commands.gen";

/** What a fake command answers: its result, an Error to fail with, or a function of its
 * arguments. Keyed and typed by the command declarations (commands.gen.ts), so a fake for
 * a command that does not exist, or of the wrong shape, fails the typecheck. */
export type FakeAnswer<K extends CommandName> =
  | CommandResult<K>
  | Error
  | ((args: CommandArgs<K>) => CommandResult<K> | Error | Promise<CommandResult<K>>);
export type FakeAnswers = { [K in CommandName]?: FakeAnswer<K> };

type Handler = (payload: unknown) => void;

/**
 * A stand-in for the IPC layer: commands answer from a table, and tests push engine
 * events by name. Only the transport is faked; every component runs for real.
 */
export function fakeEngine(answers: FakeAnswers) {
  const handlers = new Map<string, Handler[]>();
  const calls: { cmd: string; args?: Record<string, unknown> }[] = [];
  const call = vi.fn(async (cmd: string, args?: Record<string, unknown>) => {
    calls.push({ cmd, args });
    const answer = (answers as Record<string, unknown>)[cmd];
    if (answer === undefined) throw { code: "internal", message: `no fake for ${cmd}` };
    const value = typeof answer === "function" ? (answer as (a?: Record<string, unknown>) => unknown)(args) : answer;
    if (value instanceof Error) throw { code: "internal", message: value.message };
    return value;
  });
  const subscribe = vi.fn(async (event: string, onPayload: Handler) => {
    handlers.set(event, [...(handlers.get(event) ?? []), onPayload]);
    return () => handlers.set(event, (handlers.get(event) ?? []).filter((h) => h !== onPayload));
  });
  const emit = (event: string, payload: unknown) => (handlers.get(event) ?? []).forEach((h) => h(payload));
  return { call, subscribe, emit, calls };
}

export const running = (listen = "127.0.0.1:8787"): ReceiverStatus => ({
  state: "running",
  listen,
  error: null,
  suggested_listen: null,
});
