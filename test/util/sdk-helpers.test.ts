/** The helpers "sundial" exports for skills (the ones the shipped skills used to copy): one behaviour each. */
import { describe, expect, it } from "vitest";
import {
  clip,
  errorCode,
  fillTemplate,
  formatDuration,
  imageType,
  oneLine,
  parseDuration,
  slugify,
} from "../../src/index.ts";
import { ONE_PIXEL_PNG } from "../emulators/leonardo.ts";

describe("text", () => {
  it("oneLine collapses whitespace and, given a length, cuts there with an ellipsis", () => {
    expect(oneLine("  Backups\n\tthat   work \r\n")).toBe("Backups that work");
    expect(oneLine("Backups that work", 8)).toBe("Backups…");
    expect(oneLine("Backups that work", 8)).toHaveLength(8);
    expect(oneLine("short", 80)).toBe("short");
  });

  it("clip cuts at a word when one is near, drops the punctuation before the ellipsis, and stays within the limit", () => {
    expect(clip("Backups that work, every night", 20)).toBe("Backups that work…");
    expect(clip("Supercalifragilisticexpialidocious", 10)).toBe("Supercali…");
    expect(clip("fits", 10)).toBe("fits");
    for (const max of [5, 12, 40]) expect(clip("word, ".repeat(20), max).length).toBeLessThanOrEqual(max);
  });

  it("fillTemplate fills every placeholder once, literally, and names an unknown one instead of blanking it", () => {
    expect(fillTemplate("{{ topic }} for {{audience}}: {{topic}}", { topic: "backups", audience: "admins" })).toBe(
      "backups for admins: backups",
    );
    expect(fillTemplate("{{a}} {{b}}", { a: "{{b}} $& $1", b: "x" })).toBe("{{b}} $& $1 x");
    const error = (() => {
      try {
        return fillTemplate("Hi {{titel}}", { title: "x" }, { name: "prompts/a.md" });
      } catch (thrown) {
        return thrown;
      }
    })();
    expect((error as Error).message).toBe("prompts/a.md uses {{titel}}, which is not one of {{title}}");
    expect(errorCode(error)).toBe("non_retryable");
    expect(fillTemplate("{{toString}}", {}, { unknown: "keep" })).toBe("{{toString}}");
    expect(() => fillTemplate("{{constructor}}", {})).toThrow(/uses \{\{constructor\}\}, which is not one of \(none\)/);
  });
});

describe("slugify", () => {
  it("makes ASCII slugs within a length, with a fallback when nothing is left", () => {
    expect(slugify("Ça marche! Crème brûlée / Straße")).toBe("ca-marche-creme-brulee-strasse");
    expect(slugify("one two three four five", { maxLength: 12 })).toBe("one-two");
    expect(slugify("🎉")).toBe("post");
    expect(slugify("🎉", { fallback: "" })).toBe("");
  });
});

describe("imageType", () => {
  it("names an image by its bytes", () => {
    expect(imageType(ONE_PIXEL_PNG)).toEqual({ mediaType: "image/png", extension: "png" });
    expect(imageType(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]))).toEqual({ mediaType: "image/jpeg", extension: "jpg" });
    expect(imageType(new TextEncoder().encode("GIF89a"))).toEqual({ mediaType: "image/gif", extension: "gif" });
    expect(imageType(new Uint8Array([0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50]))).toEqual({
      mediaType: "image/webp",
      extension: "webp",
    });
    expect(imageType(new Uint8Array([0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x41, 0x56, 0x45]))).toBeNull();
    expect(imageType(new TextEncoder().encode("<html>"))).toBeNull();
  });
});

describe("durations", () => {
  it("are the daemon's own parser and formatter", () => {
    expect(parseDuration("60s")).toBe(60_000);
    expect(parseDuration("1.5m")).toBe(90_000);
    expect(() => parseDuration("soon")).toThrow(/"soon" is not a duration/);
    expect(formatDuration(90_000)).toBe("1m30s");
  });
});
