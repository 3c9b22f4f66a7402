/**
 * The calendar's fixed-offset fast path answers exactly what croner's own time-zone search answers:
 * many kinds of pattern × zones with and without daylight saving (half and quarter hours, southern
 * hemisphere, changes at midnight, abolished DST, a skipped day) × instants drawn at random over two
 * years and instants just around every offset change. Both sides use the same guard (strictly
 * after `from`, a retry when croner does not move forward), so only the fast path is on trial.
 */
import { Cron } from "croner";
import { describe, expect, it } from "vitest";
import { Calendar } from "../../src/schedule/calendar.ts";

const patterns = [
  "0 9 * * *", // daily
  "30 2 * * *", // in many zones' skipped hour
  "30 1 * * *", // in New York's repeated hour
  "0 0 * * *", // midnight: skipped where clocks change at 24:00 (Santiago, Havana)
  "59 23 * * *",
  "0 2 * * *",
  "0 3 * * *",
  "45 2 * * *", // Lord Howe moves by 30 minutes
  "0 9 * * 1-5", // weekdays
  "0 0 1 * *", // monthly
  "0 12 L * *", // last day of the month
  "0 8 15W * *", // nearest weekday to the 15th
  "0 10 * * 5#2", // second Friday
  "0 18 * * 5#L", // last Friday
  "15 30 2 * * *", // seconds field
  "*/20 * * * * *",
  "0 */3 * * *", // every N hours
  "0 */5 * * *",
  "*/15 * * * *", // not a fixed time: fires in both copies of a repeated hour
  "0 * * * *",
  "30 1 1-7 11 0", // New York's fall-back Sunday
  "30 2 * 3 0", // Berlin's spring-forward Sunday
  "0 0 0 29 2 *", // leap day
  "0 0 12 * * * 2027-2030", // a year field
  "@weekly",
  "0 0 ? * MON", // `?` is filled from the zone: never on the fast path, checked all the same
  "2026-03-29T02:30:00", // croner takes a date for a single run, in the zone…
  "2026-06-01T09:00:00Z", // …or at an absolute instant: never on the fast path either
];

const zones = [
  "America/New_York",
  "Europe/Berlin",
  "Europe/Dublin", // negative DST in tzdata
  "Asia/Kolkata",
  "Asia/Kathmandu",
  "Australia/Eucla",
  "Australia/Lord_Howe",
  "Australia/Sydney",
  "Pacific/Chatham",
  "America/St_Johns",
  "America/Sao_Paulo", // DST until 2019
  "America/Santiago", // changes at 24:00
  "America/Havana",
  "Asia/Tehran", // DST until 2022
  "Africa/Cairo", // DST again since 2023
  "Antarctica/Troll", // a two-hour change
  "Pacific/Apia", // skipped 30 December 2011
  "Asia/Tokyo",
];

const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** mulberry32: the same instants on every run. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The zone's offset at an instant, from Intl (independent of croner and of the calendar's own search). */
function offsetOf(zone: string): (at: number) => number {
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  });
  return (at) => {
    const p = Object.fromEntries(format.formatToParts(at).map((part) => [part.type, Number(part.value)]));
    return (
      Date.UTC(
        p.year as number,
        (p.month as number) - 1,
        p.day as number,
        p.hour as number,
        p.minute as number,
        p.second as number,
      ) -
      Math.floor(at / SECOND) * SECOND
    );
  };
}

/** Every offset change of `zone` in [from, to), to the second, with its size. */
function changes(zone: string, from: number, to: number): { at: number; by: number }[] {
  const offset = offsetOf(zone);
  const found: { at: number; by: number }[] = [];
  for (let t = from; t < to; t += 3 * HOUR) {
    const before = offset(t);
    const after = offset(t + 3 * HOUR);
    if (before === after) continue;
    let lo = t;
    let hi = t + 3 * HOUR;
    while (hi - lo > SECOND) {
      const mid = lo + Math.floor((hi - lo) / 2 / SECOND) * SECOND;
      if (offset(mid) === before) lo = mid;
      else hi = mid;
    }
    found.push({ at: hi, by: after - before });
  }
  return found;
}

/** Plain croner in the zone, behind the same guard as Calendar.next. */
function reference(pattern: string, zone: string): (after: number) => number | null {
  const cron = new Cron(pattern, { timezone: zone, paused: true });
  return (after) => {
    let from = after;
    for (let guard = 0; guard < 4; guard++) {
      const next = cron.nextRun(new Date(from))?.getTime() ?? null;
      if (next === null) return null;
      if (next > after) return next;
      from = Math.max(from, next) + 1000;
    }
    return null;
  };
}

/** Instants drawn at random over 2025–2026 (fixed seed), and instants just around each offset change. */
function instantsFor(zone: string): { drawn: number[]; nearChanges: number[] } {
  const random = seeded(0x5d1a1 + zone.length * 7919 + zone.charCodeAt(zone.length - 1));
  const start = Date.parse("2025-01-01T00:00:00Z");
  const drawn = Array.from({ length: 100 }, () => start + Math.floor(random() * 2 * 365 * DAY));
  const span: [number, number] =
    zone === "Pacific/Apia"
      ? [Date.parse("2011-06-01T00:00:00Z"), Date.parse("2012-06-01T00:00:00Z")]
      : [Date.parse("2024-01-01T00:00:00Z"), Date.parse("2028-01-01T00:00:00Z")];
  const nearChanges: number[] = [];
  for (const { at, by } of changes(zone, ...span)) {
    const size = Math.abs(by);
    for (const delta of [
      -DAY,
      -size - SECOND,
      -HOUR,
      -SECOND,
      -1,
      0,
      1,
      SECOND,
      size - SECOND,
      size,
      size + SECOND,
      HOUR + 1,
      2 * HOUR,
      DAY - SECOND,
    ])
      nearChanges.push(at + delta);
  }
  return { drawn, nearChanges };
}

const fmt = (ms: number | null) => (ms === null ? "null" : new Date(ms).toISOString());

describe("calendar fast path agrees with croner's time-zone search", () => {
  for (const zone of zones) {
    it(`in ${zone}`, { timeout: 120_000 }, () => {
      const calendar = new Calendar();
      const { drawn, nearChanges } = instantsFor(zone);
      const agree = (instants: number[]) => {
        for (const pattern of patterns) {
          const want = reference(pattern, zone);
          for (const from of instants) {
            const got = calendar.next(pattern, zone, from);
            const expected = want(from);
            if (got !== expected)
              expect.fail(`${pattern} in ${zone} after ${fmt(from)}: calendar ${fmt(got)}, croner ${fmt(expected)}`);
          }
        }
      };
      agree(drawn);
      // Away from changes the fast path answered nearly all (else this would compare croner with itself).
      expect(calendar.stats.fast).toBeGreaterThan(calendar.stats.zoned * 4);
      agree(nearChanges);
    });
  }

  it(
    "lists the same slots as croner across every change of a year, for patterns that fire often",
    { timeout: 120_000 },
    () => {
      for (const zone of [
        "America/New_York",
        "Australia/Lord_Howe",
        "Pacific/Chatham",
        "America/Santiago",
        "Europe/Dublin",
      ]) {
        const calendar = new Calendar();
        for (const pattern of [
          "*/15 * * * *",
          "0 * * * *",
          "30 2 * * *",
          "30 1 * * *",
          "0 0 * * *",
          "0 */3 * * *",
          "45 2 * * *",
        ]) {
          const want = reference(pattern, zone);
          for (const { at } of changes(zone, Date.parse("2026-01-01T00:00:00Z"), Date.parse("2027-01-01T00:00:00Z"))) {
            const from = at - DAY - 17 * SECOND;
            const to = at + DAY;
            const expected: number[] = [];
            for (let cursor = want(from); cursor !== null && cursor <= to; cursor = want(cursor)) expected.push(cursor);
            expect(
              calendar.between(pattern, zone, from, to).slots.map(fmt),
              `${pattern} in ${zone} around ${fmt(at)}`,
            ).toEqual(expected.map(fmt));
          }
        }
      }
    },
  );

  it("keeps DESIGN.md's daylight-saving rules on the fast path", () => {
    const calendar = new Calendar();
    const listed = (pattern: string, zone: string, from: string, to: string) =>
      calendar.between(pattern, zone, Date.parse(from), Date.parse(to)).slots.map(fmt);
    // A slot in the skipped hour runs once, right after the change.
    expect(listed("30 2 * * *", "Europe/Berlin", "2026-03-27T12:00:00Z", "2026-03-30T12:00:00Z")).toEqual([
      "2026-03-28T01:30:00.000Z",
      "2026-03-29T01:00:00.000Z",
      "2026-03-30T00:30:00.000Z",
    ]);
    // A slot in the repeated hour runs once, even when counting starts inside the second copy.
    expect(listed("30 1 * * *", "America/New_York", "2026-11-01T06:10:00Z", "2026-11-03T12:00:00Z")).toEqual([
      "2026-11-02T06:30:00.000Z",
      "2026-11-03T06:30:00.000Z",
    ]);
    expect(listed("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", "2026-11-02T12:00:00Z")).toEqual([
      "2026-11-01T05:30:00.000Z",
      "2026-11-02T06:30:00.000Z",
    ]);
    // A pattern that is not a fixed time fires by elapsed time, in both copies of the hour; its
    // last slots come after the change although no later wall time matches in the earlier offset.
    expect(listed("0 10,40 1 1 11 * 2026", "America/New_York", "2026-11-01T05:00:00Z", "2026-12-01T00:00:00Z")).toEqual(
      ["2026-11-01T05:10:00.000Z", "2026-11-01T05:40:00.000Z", "2026-11-01T06:10:00.000Z", "2026-11-01T06:40:00.000Z"],
    );
  });
});
