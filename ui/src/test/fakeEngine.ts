import { vi } from "vitest";
import type { ReceiverStatus } from "../bindings.gen";

type Handler = (payload: unknown) => void;

/**
 * A stand-in for the IPC layer: commands answer from a table, and tests push engine
 * events by name. Only the transport is faked; every component runs for real.
 */
export function fakeEngine(answers: Record<string, unknown | ((args?: Record<string, unknown>) => unknown)>) {
  const handlers = new Map<string, Handler[]>();
  const calls: { cmd: string; args?: Record<string, unknown> }[] = [];
  const call = vi.fn(async (cmd: string, args?: Record<string, unknown>) => {
    calls.push({ cmd, args });
    const answer = answers[cmd];
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
