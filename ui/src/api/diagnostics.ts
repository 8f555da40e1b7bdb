import { useMutation } from "@tanstack/react-query";
import type { ApiError, Diagnostics } from "../bindings.gen";
import { call } from "./ipc";

/** What Copy diagnostics ended with: copied, or the report to copy by hand when the
 * webview refused the clipboard (it may, without a user gesture or permission). */
export type CopiedDiagnostics = Diagnostics & { copied: boolean };

/** `loopline diagnostics`, put on the clipboard. The report is redacted by the engine. */
export function useCopyDiagnostics() {
  return useMutation<CopiedDiagnostics, ApiError, void>({
    mutationFn: async () => {
      const d = await call("diagnostics");
      let copied = false;
      try {
        await navigator.clipboard.writeText(d.report);
        copied = true;
      } catch {
        copied = false;
      }
      return { ...d, copied };
    },
  });
}
