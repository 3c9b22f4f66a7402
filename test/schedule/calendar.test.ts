/**
 * The calendar gives the same fire times as a plain croner object for every kind of pattern and
 * zone, while its shared, slimmed objects stay small (the basis of 10,000 schedules in ~200 MB).
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Cron } from "croner";
import { describe, expect, it } from "vitest";
import { Calendar } from "../../src/schedule/calendar.ts";

// A real collection before each heap reading (vitest's workers run without --expose-gc), so that
// garbage does not pass for memory held.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const patterns = [
  "0 0 ? * MON",
  "* * * * *",
  "*/7 * * * * *",
  "30 2 * * *",
  "0 9 * * 1-5",
  "0 0 L * *",
  "0 12 15W * *",
  "0 0 1 1 *",
  "@weekly",
  "0 0 * * 5#2",
  "0 0 0 29 2 *",
  "0 0 12 * * * 2027-2030",
];
const zones = [
  "UTC",
  "Etc/UTC",
  "America/New_York",
  "Europe/Berlin",
  "Asia/Kolkata",
  "Australia/Lord_Howe",
  "Pacific/Chatham",
];

describe("calendar", () => {
  it("agrees with croner on the next 25 fire times across zones and daylight-saving changes", () => {
    const calendar = new Calendar();
    for (const pattern of patterns) {
      for (const zone of zones) {
        const reference = new Cron(pattern, { timezone: zone, paused: true });
        let cursor = Date.parse("2026-03-01T00:00:00Z");
        let expected = cursor;
        for (let i = 0; i < 25; i++) {
          const want = reference.nextRun(new Date(expected))?.getTime() ?? null;
          const got = calendar.next(pattern, zone, cursor);
          expect(got, `${pattern} in ${zone}, fire ${i}`).toBe(want);
          if (got === null || want === null) break;
          cursor = got;
          expected = want;
        }
      }
    }
  });

  it("keeps a shared calculator per (pattern, zone) small", () => {
    // Mid-January: no zone here changes its offset within the next 35 days.
    const at = Date.parse("2026-01-15T00:00:00Z");
    const fill = (calendar: Calendar) => {
      for (let i = 0; i < 2000; i++) calendar.next(`${i % 60} ${i % 24} * * *`, zones[i % zones.length] as string, at);
    };
    // Compiles the code and makes the shared Intl formatters, which are not per object; in a
    // function of its own so that no register of this frame keeps that calendar alive.
    (() => fill(new Calendar()))();
    gc();
    const before = process.memoryUsage().heapUsed;
    const calendar = new Calendar();
    fill(calendar);
    gc();
    const perObject = (process.memoryUsage().heapUsed - before) / calendar.size;
    // A plain croner object holds ~80 KB; the slimmed one a few KB.
    // 120 distinct patterns: one UTC calculator each, shared by UTC and by the zones' fast path;
    // a zone calculator is only made when a daylight-saving change is near (none is here).
    expect(calendar.size).toBe(120);
    expect(calendar.stats.zoned).toBe(0);
    expect(perObject).toBeLessThan(20_000);
  });

  it("makes a zone calculator only near a change, and retain keeps both calculators of a zoned job", () => {
    const calendar = new Calendar();
    const beforeChange = Date.parse("2026-03-08T05:00:00Z"); // 00:00 in New York; clocks go forward at 07:00Z
    expect(calendar.next("30 2 * * *", "America/New_York", beforeChange)).toBe(Date.parse("2026-03-08T07:00:00Z"));
    expect(calendar.next("0 9 * * *", "Asia/Tokyo", beforeChange)).toBe(Date.parse("2026-03-09T00:00:00Z"));
    expect(calendar.next("0 0 ? * *", "Asia/Tokyo", beforeChange)).toBe(Date.parse("2026-03-08T15:00:00Z"));
    // 30 2: UTC (fast path) and zone (the skipped 02:30 needs croner); 0 9: UTC only; ? pattern: its own.
    expect(calendar.size).toBe(4);
    expect(calendar.stats).toEqual({ fast: 1, zoned: 1 });
    calendar.retain([{ cron: "30 2 * * *", timezone: "America/New_York" }]);
    expect(calendar.size).toBe(2);
    expect(calendar.next("30 2 * * *", "America/New_York", Date.parse("2026-03-08T07:00:00Z"))).toBe(
      Date.parse("2026-03-09T06:30:00Z"),
    );
    expect(calendar.size).toBe(2);
    calendar.retain([]);
    expect(calendar.size).toBe(0);
  });

  it("lists the slots between two times and says when it stopped early", () => {
    const calendar = new Calendar();
    const from = Date.parse("2026-01-01T00:00:00Z");
    expect(calendar.between("0 * * * *", "UTC", from, from + 3 * 3_600_000).slots).toEqual(
      [1, 2, 3].map((h) => from + h * 3_600_000),
    );
    expect(calendar.between("* * * * * *", "UTC", from, from + 60_000, 10)).toMatchObject({ truncated: true });
  });
});
