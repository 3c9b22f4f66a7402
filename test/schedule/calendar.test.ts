/**
 * The calendar gives the same fire times as a plain croner object for every kind of pattern and
 * zone, while its shared, slimmed objects stay small (the basis of 10,000 schedules in ~200 MB).
 */
import { Cron } from "croner";
import { describe, expect, it } from "vitest";
import { Calendar } from "../../src/schedule/calendar.ts";

const patterns = ["0 0 ? * MON", "* * * * *", "*/7 * * * * *", "30 2 * * *", "0 9 * * 1-5", "0 0 L * *", "0 12 15W * *", "0 0 1 1 *", "@weekly", "0 0 * * 5#2", "0 0 0 29 2 *", "0 0 12 * * * 2027-2030"];
const zones = ["UTC", "Etc/UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham"];

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
    globalThis.gc?.();
    const before = process.memoryUsage().heapUsed;
    const calendar = new Calendar();
    for (let i = 0; i < 2000; i++) calendar.next(`${i % 60} ${i % 24} * * *`, zones[i % zones.length] as string, Date.now());
    globalThis.gc?.();
    const perObject = (process.memoryUsage().heapUsed - before) / calendar.size;
    // A plain croner object holds ~80 KB; the slimmed one a few KB.
    // 120 distinct patterns: one calculator each shared by the zones, one more for UTC.
    expect(calendar.size).toBe(240);
    expect(perObject).toBeLessThan(20_000);
  });

  it("lists the slots between two times and says when it stopped early", () => {
    const calendar = new Calendar();
    const from = Date.parse("2026-01-01T00:00:00Z");
    expect(calendar.between("0 * * * *", "UTC", from, from + 3 * 3_600_000).slots).toEqual([1, 2, 3].map((h) => from + h * 3_600_000));
    expect(calendar.between("* * * * * *", "UTC", from, from + 60_000, 10)).toMatchObject({ truncated: true });
  });
});
