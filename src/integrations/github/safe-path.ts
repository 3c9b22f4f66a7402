/**
 * @module github/safe-path — keeps model-produced slugs and file paths inside the configured
 * directory of a repository, whatever look-alike, encoded or climbing name the model wrote.
 */
import { posix } from "node:path";
import { NonRetryableError } from "../../errors.ts";

const MAX_SEGMENT_BYTES = 255;
/** Invisible or line-breaking characters: a name holding one is never what it looks like. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
/** Characters a Windows checkout cannot hold; refusing them keeps the repository usable everywhere. */
const WINDOWS_FORBIDDEN = /[<>:"|?*]/;
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/**
 * The repository path (POSIX, no leading slash) of `path` inside `dir`. `./` and repeated slashes
 * are tidied away; the name is NFKC-normalised first, so look-alikes ("．．／", "‥") are judged
 * as the dots and slashes they become on some file systems. Throws `NonRetryableError` — never
 * truncates, since a shortened name could silently overwrite another file — for an empty name, an
 * absolute path, `..`, a hidden name (`.git`, `.github`, `.env`…), a backslash, a percent-encoded
 * sequence, control or invisible characters, characters or device names Windows cannot check out,
 * and any segment longer than 255 UTF-8 bytes.
 */
export function confinePath(dir: string, path: string): string {
  const base = segmentsOf(dir, "directory", { allowHidden: true, allowEmpty: true });
  const inside = segmentsOf(path, "file path", { allowHidden: false, allowEmpty: false });
  const joined = [...base, ...inside].join("/");
  // Belt and braces: whatever the checks above missed, the normalised result must still sit in `dir`.
  const prefix = base.length ? `${base.join("/")}/` : "";
  if (posix.normalize(joined) !== joined || !joined.startsWith(prefix) || joined === prefix.slice(0, -1)) {
    throw unsafe(path, "file path", `it would leave "${base.join("/") || "/"}"`);
  }
  return joined;
}

function segmentsOf(raw: string, what: string, options: { allowHidden: boolean; allowEmpty: boolean }): string[] {
  if (typeof raw !== "string") throw unsafe(String(raw), what, "it is not a string");
  if (INVISIBLE.test(raw)) throw unsafe(raw, what, "it holds control or invisible characters");
  if (/%[0-9a-f]{2}/i.test(raw)) throw unsafe(raw, what, "it holds a percent-encoded sequence");
  const text = raw.normalize("NFKC");
  if (INVISIBLE.test(text)) throw unsafe(raw, what, "it holds control or invisible characters");
  if (text.includes("\\")) throw unsafe(raw, what, "it holds a backslash; use / between folders");
  if (text.startsWith("/") || text.startsWith("~"))
    throw unsafe(raw, what, "it is absolute; give a path relative to the directory");
  const segments = text.split("/").filter((segment) => segment !== "" && segment !== ".");
  if (segments.length === 0 && !options.allowEmpty) throw unsafe(raw, what, "it names no file");
  for (const segment of segments) {
    if (segment === "..") throw unsafe(raw, what, `".." would climb out of the directory`);
    if (!options.allowHidden && segment.startsWith("."))
      throw unsafe(raw, what, `"${segment}" is a hidden name (like .git or .github), which a skill may not write`);
    if (/^\.git$/i.test(segment.replace(/[. ]+$/, ""))) throw unsafe(raw, what, `"${segment}" is git's own directory`);
    if (segment !== segment.trim() || segment.endsWith("."))
      throw unsafe(raw, what, `"${segment}" starts or ends with a space or ends with a dot, which some systems drop`);
    if (WINDOWS_FORBIDDEN.test(segment)) throw unsafe(raw, what, `"${segment}" holds one of < > : " | ? *`);
    if (WINDOWS_DEVICE.test(segment)) throw unsafe(raw, what, `"${segment}" is a reserved device name on Windows`);
    if (Buffer.byteLength(segment, "utf8") > MAX_SEGMENT_BYTES)
      throw unsafe(raw, what, `a name is longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
  return segments;
}

function unsafe(raw: string, what: string, why: string): NonRetryableError {
  const shown = JSON.stringify(raw.length > 120 ? `${raw.slice(0, 120)}…` : raw);
  return new NonRetryableError(`unsafe ${what} ${shown}: ${why}`);
}
