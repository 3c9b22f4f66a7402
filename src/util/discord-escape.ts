/**
 * @module discord-escape — text from outside (model output, feed titles) made plain for Discord's
 * markdown: no masked link, autolink, mention, heading, quote, list, code or spoiler can be planted
 * in it, so every link a reader sees is one Sundial wrote.
 */
import { stripControls } from "./terminal-text.ts";

// Inline markers and link syntax, escaped anywhere: \ * _ ~ | ` [ ] ( ) < > #.
const INLINE = /[\\*_~|`[\]()<>#]/g;
// What starts a block at the beginning of a line: a quote, list item, numbered item or subtext.
const LINE_START = /^([ \t]*)(?:([-+>])|(\d+)([.)]))/gm;
// A URL scheme: Discord links `scheme://…` on its own; a zero-width space after the colon stops it.
const SCHEME = /\b([a-z][a-z0-9+.-]{0,31}):(?=\/\/)/gi;
// @everyone, @here and <@id> only ping when allowed, but still look like a ping: a zero-width space keeps them text.
const MENTION = /@(?=everyone|here|[!&]?\d)/g;

/** `text` as Discord shows plain text: markdown characters escaped, links and mentions inert, controls removed. */
export function escapeDiscordText(text: string): string {
  return stripControls(text)
    .replace(INLINE, (char) => `\\${char}`)
    .replace(
      LINE_START,
      (_match, space: string, marker: string | undefined, digits: string | undefined, dot: string | undefined) =>
        marker ? `${space}\\${marker}` : `${space}${digits}\\${dot}`,
    )
    .replace(SCHEME, "$1:\u200b")
    .replace(MENTION, "@\u200b");
}
