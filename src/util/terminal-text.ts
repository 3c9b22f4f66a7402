/**
 * @module terminal-text — text from outside (error bodies, feed titles, model output) made safe to
 * store and print: no escape sequences that clear a screen, move the cursor, set a title or make
 * a hyperlink, no C0/C1 control characters but newline and tab, no bidi overrides that reorder what a reader sees.
 */

// ESC sequences first, whole: CSI (ESC [ … final byte), OSC/DCS/APC/PM/SOS (ESC ] … BEL or ESC \),
// then any two-character ESC sequence. Each alternative is linear: no nested quantifiers.
const ESCAPE_SEQUENCE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /\x1b\[[0-?]*[ -/]*[@-~]?|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -~]?|\x9b[0-?]*[ -/]*[@-~]?|[\x90\x9d\x98\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x9c|\x1b\\)?/g;
// C0 but \t and \n, DEL, C1; bidi embeddings, overrides and isolates (U+202A–202E, U+2066–2069).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

/** `text` without terminal escape sequences, control characters (but `\n`, `\t`) and bidi overrides. */
export function stripControls(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, "").replace(CONTROL, "");
}

/** One line for a table cell or a log summary: also newlines and tabs become spaces. */
export function stripControlsOneLine(text: string): string {
  return stripControls(text).replace(/[\n\t]/g, " ");
}

/**
 * JSON text with the characters a terminal acts on that JSON.stringify leaves raw (DEL, C1, bidi
 * overrides) written as `\uXXXX` escapes: still the same JSON value, harmless on a screen.
 */
export function escapeJsonControls(json: string): string {
  return json.replace(
    /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** A JSON line with every string in it stripped of controls (for a pretty printer, which would print them raw). */
export function stripControlsInJson(line: string): string {
  try {
    return `${JSON.stringify(JSON.parse(line), (_key, value: unknown) => (typeof value === "string" ? stripControls(value) : value))}\n`;
  } catch {
    return stripControls(line);
  }
}
