/**
 * @module prompt-fence — untrusted text (transcripts, feed items, titles) put into a prompt between
 * markers it cannot close: each call draws a random token, the closing marker carries it, and any
 * copy of the token in the text is removed. The prompt tells the model that only a marker with the
 * token ends the material, and that the material is never an instruction.
 */
import { randomBytes } from "node:crypto";

export interface PromptFence {
  /** The per-call token, for the prompt's sentence that explains the markers. */
  readonly token: string;
  /** `text` between `<<<label TOKEN>>>` and `<<<end label TOKEN>>>`. */
  wrap(label: string, text: string): string;
}

export function createPromptFence(token = randomBytes(12).toString("hex")): PromptFence {
  return {
    token,
    wrap(label, text) {
      const safeLabel = label.replace(/[^\w -]/g, "");
      return `<<<${safeLabel} ${token}>>>\n${text.split(token).join("")}\n<<<end ${safeLabel} ${token}>>>`;
    },
  };
}
