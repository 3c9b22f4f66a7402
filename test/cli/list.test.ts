/**
 * @module list.test — `sundial list`: every job with its skill, schedule, zone, whether it is enabled
 * (or why not) and its next three fire times, computed in the job's own time zone.
 */
import { afterAll, describe, it, expect } from "vitest";
import { createWorkspace } from "../helpers/workspace.ts";

const hello = `import { defineSkill, z } from "sundial";
export default defineSkill({ name: "hello", description: "d", params: z.object({ who: z.string().default("world") }), run: () => ({ title: "t", markdown: "m" }) });
`;
const ws = createWorkspace({
  skills: { hello },
  schedules: {
    timezone: "Europe/Berlin",
    jobs: [
      { id: "new-york", skill: "hello", cron: "0 9 * * *", timezone: "America/New_York" },
      { id: "kolkata", skill: "hello", cron: "30 18 * * 1-5", timezone: "Asia/Kolkata" },
      { id: "berlin", skill: "hello", cron: "0 0 1 * *" },
      { id: "paused", skill: "hello", cron: "0 9 * * *", enabled: false },
      { id: "broken", skill: "hello", cron: "0 9 * * *", params: { who: 7 } },
    ],
  },
});
afterAll(() => ws.cleanup());

const startedAt = Date.now();
const json = ws.runCli(["list", "--json"], {}, 150_000);
const text = ws.runCli(["list"], {}, 150_000);
// Awaited by the tests; a failure before then must not surface as an unhandled rejection.
for (const pending of [json, text]) pending.catch(() => undefined);

interface ListedJob {
  id: string;
  skill: string;
  cron: string;
  timezone: string;
  enabled: boolean;
  disabledReason: string | null;
  nextRuns: string[];
}

async function listed(): Promise<Map<string, ListedJob>> {
  const result = await json;
  expect(result.code).toBe(0);
  const document = JSON.parse(result.stdout) as { jobs: ListedJob[] };
  return new Map(document.jobs.map((job) => [job.id, job]));
}

/** Wall-clock fields of an instant as seen in a time zone. */
function local(iso: string, timeZone: string): { weekday: string; day: string; hour: string; minute: string } {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    weekday: "short",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(new Date(iso));
  const get = (type: string) => parts.find((part) => part.type === type)?.value ?? "";
  return { weekday: get("weekday"), day: get("day"), hour: get("hour"), minute: get("minute") };
}

function expectThreeIncreasingFutureTimes(nextRuns: string[]) {
  expect(nextRuns).toHaveLength(3);
  const times = nextRuns.map((iso) => {
    expect(iso).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    return Date.parse(iso);
  });
  expect(times[0]).toBeGreaterThan(startedAt);
  expect(times[0]! < times[1]! && times[1]! < times[2]!).toBe(true);
}

// Generous: the processes boot on a 2-core machine shared with other test runs.
describe("sundial list --json", { timeout: 180_000 }, () => {
  it("lists every job with its skill, cron, zone and state, as one JSON document", async () => {
    const jobs = await listed();
    expect([...jobs.keys()]).toEqual(["new-york", "kolkata", "berlin", "paused", "broken"]);
    expect(jobs.get("new-york")).toMatchObject({
      skill: "hello",
      cron: "0 9 * * *",
      timezone: "America/New_York",
      enabled: true,
      disabledReason: null,
    });
    expect(jobs.get("berlin")?.timezone).toBe("Europe/Berlin");
  });

  it("gives 09:00 New York time in UTC, 14:00Z or 13:00Z depending on daylight saving time", async () => {
    const { nextRuns } = (await listed()).get("new-york")!;
    expectThreeIncreasingFutureTimes(nextRuns);
    for (const iso of nextRuns) {
      expect(iso).toMatch(/T1[34]:00:00\.000Z$/);
      expect(local(iso, "America/New_York")).toMatchObject({ hour: "09", minute: "00" });
    }
    expect(Date.parse(nextRuns[0]!) - startedAt).toBeLessThanOrEqual(25 * 3_600_000);
  });

  it("follows half-hour offsets and weekdays of the job's zone, and the file's zone by default", async () => {
    const jobs = await listed();
    const kolkata = jobs.get("kolkata")!.nextRuns;
    expectThreeIncreasingFutureTimes(kolkata);
    for (const iso of kolkata) {
      expect(iso).toMatch(/T13:00:00\.000Z$/);
      expect(["Mon", "Tue", "Wed", "Thu", "Fri"]).toContain(local(iso, "Asia/Kolkata").weekday);
    }
    const berlin = jobs.get("berlin")!.nextRuns;
    expectThreeIncreasingFutureTimes(berlin);
    for (const iso of berlin)
      expect(local(iso, "Europe/Berlin")).toMatchObject({ day: "01", hour: "00", minute: "00" });
  });

  it("shows a disabled job with its whole reason and the times it would fire", async () => {
    const jobs = await listed();
    expect(jobs.get("paused")).toMatchObject({ enabled: false, disabledReason: "disabled in schedules.json" });
    expectThreeIncreasingFutureTimes(jobs.get("paused")!.nextRuns);
    expect(jobs.get("broken")).toMatchObject({ enabled: false });
    expectThreeIncreasingFutureTimes(jobs.get("broken")!.nextRuns);
    expect(jobs.get("broken")?.disabledReason).toMatch(/^jobs\[4\]\.params\.who: .*expected string, received number$/);
  });
});

describe("sundial list", { timeout: 180_000 }, () => {
  it("prints a table: a header, then one row per job with its state", async () => {
    const result = await text;
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^job\s+skill\s+schedule\s+timezone\s+state\s+next runs$/);
    expect(lines).toHaveLength(6);
    expect(lines[1]).toMatch(
      /^new-york\s+hello\s+0 9 \* \* \*\s+America\/New_York\s+enabled\s+\d{4}-\d\d-\d\dT1[34]:00:00\.000Z, /,
    );
    expect(lines[4]).toMatch(/^paused\s+hello\s+0 9 \* \* \*\s+Europe\/Berlin\s+disabled: disabled in schedules\.json/);
    expect(lines[5]).toMatch(/^broken\s+.*disabled: jobs\[4\]\.params\.who/);
  });

  it("cuts a long reason at a word boundary, and still shows a disabled job's next fire times", async () => {
    const result = await text;
    const row = result.stdout.split("\n").find((line) => line.startsWith("broken")) ?? "";
    const state = /disabled: (.*?…)/.exec(row)?.[1] ?? "";
    expect(state).toMatch(/^jobs\[4\]\.params\.who: .*…$/);
    const words = (await listed()).get("broken")!.disabledReason!.split(" ");
    // Every word before the "…" is a whole word of the reason.
    expect(
      state
        .slice(0, -1)
        .split(" ")
        .every((word, i) => word === words[i]),
    ).toBe(true);
    expect(row.match(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g)).toHaveLength(3);
    expect(result.stderr).toContain("sundial check");
  });

  it("shows all three next fire times of an enabled job", async () => {
    const result = await text;
    const row = result.stdout.split("\n").find((line) => line.startsWith("new-york")) ?? "";
    expect(row.match(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g)).toHaveLength(3);
  });
});
