import { subscribe } from "./ipc";

/**
 * Subscribes to an engine event for the life of a React effect and returns its cleanup.
 * The subscription is set up asynchronously, so the cleanup also covers an effect that
 * ends before the subscription is ready.
 */
export function subscribeForEffect<T>(event: string, onPayload: (payload: T) => void): () => void {
  let unlisten: (() => void) | undefined;
  let done = false;
  void subscribe<T>(event, onPayload).then((fn) => {
    if (done) fn();
    else unlisten = fn;
  });
  return () => {
    done = true;
    unlisten?.();
  };
}
