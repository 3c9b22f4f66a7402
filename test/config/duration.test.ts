/** @module duration.test — duration strings in schedules.json ("90s", "10m") to milliseconds, and back for display. */
import { describe, it, expect } from "vitest";
import { DURATION_PATTERN, formatDuration, parseDuration } from "../../src/util/duration.ts";
import { durationSchema } from "../../src/config/schema.ts";

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["0s", 0],
    ["90s", 90_000],
    ["10m", 600_000],
    ["1h", 3_600_000],
    ["2d", 172_800_000],
    ["1.5s", 1500],
    ["0.25h", 900_000],
    [" 2s ", 2000],
  ])("reads %j as %i ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "10", "s", "10 minutes", "10min", "-1s", "1w", "1e3ms", "1,5s", "10M"])(
    "rejects %j and says what a duration looks like",
    (text) => {
      expect(() => parseDuration(text)).toThrow(
        `"${text}" is not a duration; write a number and a unit, like "90s", "10m" or "1h"`,
      );
    },
  );

  it("accepts exactly the strings schedules.json's duration type accepts, and reads them the same", () => {
    const strings = [
      "0s",
      "500ms",
      "90s",
      "10m",
      "1h",
      "2d",
      "1.5s",
      "0.25h",
      "1.25m",
      "100ms",
      "365d",
      " 2s ",
      "\t3m",
      "",
      " ",
      "10",
      "s",
      "ms",
      "10 minutes",
      "10min",
      "-1s",
      "+1s",
      "1w",
      "1e3ms",
      "1,5s",
      "10M",
      "1S",
      ".5s",
      "5.s",
      "1h30m",
      "0x10s",
      "١s",
      "10s\n1s",
      "∞s",
    ];
    for (const text of strings) {
      let parsed: number | null;
      try {
        parsed = parseDuration(text);
      } catch {
        parsed = null;
      }
      const schema = durationSchema.safeParse(text);
      expect(schema.success, JSON.stringify(text)).toBe(parsed !== null);
      if (schema.success) expect(parseDuration(schema.data), JSON.stringify(text)).toBe(parsed);
    }
  });

  it("accepts exactly what the schema's pattern accepts", () => {
    for (const text of ["100ms", "3s", "7m", "12h", "30d", "1.25m"]) expect(DURATION_PATTERN.test(text)).toBe(true);
    for (const text of ["100", "3 s", "7min", "h", ".5s"]) expect(DURATION_PATTERN.test(text)).toBe(false);
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0ms"],
    [999, "999ms"],
    [1500, "1.50s"],
    [12_340, "12.3s"],
    [90_000, "1m30s"],
    [3_660_000, "1h1m"],
  ])("shows %i ms as %j", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("never shows 60 in a seconds or minutes part", () => {
    expect(formatDuration(119_600)).toBe("2m0s");
    expect(formatDuration(3 * 3_600_000 - 18_000)).toBe("3h0m");
  });
});
