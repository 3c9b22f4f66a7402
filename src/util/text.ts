/** @module text — short plain text from long or messy text: one line, a length limit, templates. */
import { NonRetryableError } from "../errors.ts";

/**
 * `text` on one line: every run of whitespace (newlines, tabs) becomes one space, ends trimmed.
 * With `maxLength`, a longer line is cut there exactly (an ellipsis included in the length).
 *
 * @example
 * oneLine("  Backups\n\tthat  work ") // "Backups that work"
 * oneLine("Backups that work", 8) // "Backups…"
 */
export function oneLine(text: string, maxLength?: number): string {
  const line = text.replace(/\s+/g, " ").trim();
  if (maxLength === undefined || line.length <= maxLength) return line;
  return `${line.slice(0, Math.max(0, maxLength - 1)).trimEnd()}…`;
}

/**
 * `text` within `maxLength` characters (an ellipsis included): cut at the last space when one is
 * in the second half, else at the limit, with trailing punctuation dropped before the "…".
 *
 * @example
 * clip("Backups that work, every night", 20) // "Backups that work…"
 */
export function clip(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  const space = text.lastIndexOf(" ", maxLength - 1);
  return `${text.slice(0, space > maxLength / 2 ? space : Math.max(0, maxLength - 1)).replace(/[\s,;:.-]+$/, "")}…`;
}

export interface FillTemplateOptions {
  /** The template's name in the error for an unknown placeholder, e.g. `"prompts/article.md"`. @default "the template" */
  name?: string;
  /**
   * What an unknown `{{name}}` becomes: `"throw"` fails with a `NonRetryableError` naming it and
   * the known ones (a typo never reaches the model as a silent blank); `"keep"` leaves it as written.
   * @default "throw"
   */
  unknown?: "throw" | "keep";
}

/**
 * Fills `{{name}}` placeholders (spaces inside the braces allowed) in one pass: a value that itself
 * holds `{{…}}` (a feed's text, a transcript) is inserted as written, never filled again, and `$`
 * in a value is literal.
 *
 * @example
 * fillTemplate("Write about {{ topic }} for {{audience}}.", { topic: "backups", audience: "admins" })
 * // "Write about backups for admins."
 */
export function fillTemplate(
  template: string,
  values: Readonly<Record<string, string>>,
  options: FillTemplateOptions = {},
): string {
  const { name = "the template", unknown = "throw" } = options;
  return template.replace(/\{\{\s*([\w-]+)\s*\}\}/g, (whole, key: string) => {
    const value = Object.hasOwn(values, key) ? values[key] : undefined;
    if (value !== undefined) return value;
    if (unknown === "keep") return whole;
    const known = Object.keys(values)
      .map((k) => `{{${k}}}`)
      .join(", ");
    throw new NonRetryableError(`${name} uses {{${key}}}, which is not one of ${known || "(none)"}`);
  });
}
