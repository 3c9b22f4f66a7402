/** @module slug — URL- and file-safe names from any text (titles, model output). */

/** Letters NFKD does not decompose into ASCII, spelled the way people transliterate them. */
const TRANSLITERATIONS: Record<string, string> = {
  ß: "ss",
  æ: "ae",
  ø: "o",
  œ: "oe",
  đ: "d",
  ð: "d",
  ł: "l",
  þ: "th",
  ı: "i",
};
export interface SlugOptions {
  /**
   * The longest slug; a longer one is cut at a hyphen when one is in its second half.
   * @default 80
   */
  maxLength?: number;
  /**
   * What to return when nothing is left (a title of emoji or of another script).
   * @default "post"
   */
  fallback?: string;
}

/**
 * A lowercase ASCII slug of letters, digits and single hyphens, at most `maxLength` characters,
 * cut at a word boundary when one is near. Diacritics and compatibility forms (fullwidth letters,
 * ligatures) are folded to ASCII, common letters transliterated (ß → ss, ø → o); anything else
 * becomes a hyphen. Never longer than `maxLength`; `fallback` when nothing is left.
 *
 * @example
 * slugify("Ça va? Straße ＦＵＬＬ！") // "ca-va-strasse-full"
 * slugify("one two three four five", { maxLength: 12 }) // "one-two"
 * slugify("🙂", { fallback: "" }) // ""
 */
export function slugify(text: string, options: SlugOptions = {}): string {
  const { maxLength = 80, fallback = "post" } = options;
  const folded = text
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^ -~]/g, (char) => TRANSLITERATIONS[char] ?? "-");
  const slug = folded.replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  const limit = Math.max(1, Math.floor(maxLength));
  if (slug.length <= limit) return slug || fallback;
  const cut = slug.slice(0, limit);
  const lastHyphen = cut.lastIndexOf("-");
  return (lastHyphen >= limit / 2 ? cut.slice(0, lastHyphen) : cut).replace(/-+$/, "") || fallback;
}
