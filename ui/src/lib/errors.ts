import type { ApiError } from "../bindings.gen";

/** The sentence to show for any failure: an ApiError's message, never a stack. */
export function errorMessage(e: unknown): string {
  if (e && typeof e === "object" && "message" in e && typeof (e as ApiError).message === "string") {
    return (e as ApiError).message;
  }
  return String(e);
}

/** Copies text, reporting failure as a sentence. */
export async function copyText(text: string): Promise<void> {
  if (!navigator.clipboard) throw { code: "internal", message: "The clipboard is not available here." };
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    throw { code: "internal", message: "Could not copy to the clipboard. Select the text and copy it by hand." };
  }
}
