/**
 * @module text.test — the text helpers skills and the CLI share: terminal controls stripped,
 * Discord text made inert, and data-digest's footer without a feed URL's credentials.
 */
import { describe, expect, it } from "vitest";
import { stripControls } from "../../src/util/terminal-text.ts";
import { escapeDiscordText } from "../../src/util/discord-escape.ts";
import { footer } from "../../skills/data-digest/render.ts";

describe("stripControls", () => {
  it("removes CSI, OSC hyperlinks, C0 but newline and tab, C1 and bidi overrides; keeps the text", () => {
    const hostile =
      "a\x1b[2J\x1b[1;31mb\x1b]8;;https://evil.test\x07link\x1b]8;;\x1b\\\tc\nd\re\x00f\x9b2Jg\u202eh\u2066i\x7f";
    expect(stripControls(hostile)).toBe("ablink\tc\ndefgh" + "i");
  });

  it("is linear on an unterminated OSC of a megabyte", () => {
    const started = performance.now();
    stripControls(`\x1b]${"x".repeat(1_000_000)}`.repeat(2));
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe("escapeDiscordText", () => {
  it("leaves no masked link, autolink, mention, heading, quote or list marker", () => {
    const out = escapeDiscordText(
      "# Big\n> quote\n- item\n1. one [real](https://evil.test) @everyone <@123> ||s|| `c` **b**",
    );
    expect(out).toBe(
      "\\# Big\n\\> quote\n\\- item\n1\\. one \\[real\\]\\(https:\u200b//evil.test\\) @\u200beveryone \\<@\u200b123\\> \\|\\|s\\|\\| \\`c\\` \\*\\*b\\*\\*",
    );
  });
});

describe("data-digest footer", () => {
  it("names an unreadable source without the credentials of its URL", () => {
    const text = footer({
      failures: [
        { name: "Private", cause: "https://bob:hunter2@feeds.example.test/rss answered 401", retryable: false },
      ],
      held: 0,
    });
    expect(text).not.toContain("hunter2");
    expect(text).toContain("feeds.example.test/rss");
  });
});
