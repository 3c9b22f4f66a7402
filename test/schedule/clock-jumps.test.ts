/**
 * Clock jumps with the injected clock: the wall clock stepped forwards or backwards (NTP, `date -s`)
 * while timers keep their delays, or a suspended VM waking with every timer due. Every slot ends
 * as exactly one row — none run twice, none lost — and late slots follow the catch-up policy.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { LoadedSkill } from "../../src/skill/load.ts";
import type { Runner } from "../../src/run/runner.ts";
import type { ResolvedJob } from "../../src/config/load.ts";
import { Scheduler } from "../../src/schedule/scheduler.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { job, silentLog, tempStore } from "../helpers/ledger.ts";

const skill = {
  name: "test",
  file: "test.ts",
  definition: { name: "test", description: "", params: {} as never, run: () => ({ title: "", markdown: "" }) },
} as LoadedSkill;
const skills = new Map([["test", skill]]);
const owner = { pid: process.pid, instance: "test" };
const at = (iso: string) => Date.parse(iso);
const minute = 60_000;

const ledgers: ReturnType<typeof tempStore>[] = [];
afterEach(() => {
  for (const ledger of ledgers.splice(0)) ledger.cleanup();
});

function setup(startIso: string) {
  const ledger = tempStore();
  ledgers.push(ledger);
  const clock = new FakeClock(at(startIso));
  /** Slots the runner was asked to run (ISO), in order. */
  const ran: string[] = [];
  const runner: Runner = {
    async execute(request) {
      ran.push(new Date(request.scheduledFor).toISOString());
      await ledger.store.finishRun(request.runId, { status: "succeeded" }, clock.now(), request.epoch);
      return { status: "succeeded" };
    },
  };
  const scheduler = () =>
    new Scheduler({ store: ledger.store, runner, log: silentLog, owner, clock, maxConcurrentRuns: 4 });
  const rows = async (id: string) =>
    (await ledger.store.listRuns({ job: id, limit: 10_000 }))
      .reverse()
      .map((run) => ({ slot: run.scheduledFor.slice(11, 16), status: run.status, trigger: run.trigger }));
  return { clock, ran, scheduler, rows, store: ledger.store };
}

async function started(s: ReturnType<typeof setup>, jobs: ResolvedJob[]) {
  const scheduler = s.scheduler();
  await scheduler.start(jobs, skills);
  return scheduler;
}

const noDuplicates = (slots: string[]) => expect(new Set(slots).size).toBe(slots.length);

describe("the wall clock stepped forwards (NTP, timers keep their delays)", () => {
  it("records a slot stepped over as missed under catchUp none: no row is lost", async () => {
    const s = setup("2026-06-01T00:59:50Z");
    const scheduler = await started(s, [job({ id: "hourly", cron: "0 * * * *", catchUp: "none" })]);
    s.clock.setWallClock(3 * minute); // 01:02:50; the timer still fires 10 s from now
    await s.clock.advanceTo(at("2026-06-01T02:00:05Z"));
    expect(await s.rows("hourly")).toEqual([
      { slot: "01:00", status: "missed", trigger: "schedule" },
      { slot: "02:00", status: "succeeded", trigger: "schedule" },
    ]);
    expect(s.ran).toEqual(["2026-06-01T02:00:00.000Z"]);
    scheduler.stop();
  });

  it("catches a slot stepped over up once under catchUp latest, and the next slot runs once on time", async () => {
    const s = setup("2026-06-01T00:59:50Z");
    const scheduler = await started(s, [job({ id: "hourly", cron: "0 * * * *", catchUp: "latest" })]);
    s.clock.setWallClock(3 * minute);
    await s.clock.advanceTo(at("2026-06-01T02:00:05Z"));
    expect(await s.rows("hourly")).toEqual([
      { slot: "01:00", status: "succeeded", trigger: "catchup" },
      { slot: "02:00", status: "succeeded", trigger: "schedule" },
    ]);
    noDuplicates(s.ran);
    scheduler.stop();
  });

  it("gives each minute stepped over exactly one row under catchUp all, each run once", async () => {
    const s = setup("2026-06-01T00:00:30Z");
    const scheduler = await started(s, [job({ id: "minutely", cron: "* * * * *", catchUp: "all", overlap: "allow" })]);
    await s.clock.advanceTo(at("2026-06-01T00:02:30Z"));
    s.clock.setWallClock(7 * minute); // 00:09:30
    await s.clock.advanceTo(at("2026-06-01T00:12:10Z"));
    const rows = await s.rows("minutely");
    expect(rows.map((row) => row.slot)).toEqual([
      "00:01",
      "00:02",
      "00:03",
      "00:04",
      "00:05",
      "00:06",
      "00:07",
      "00:08",
      "00:09",
      "00:10",
      "00:11",
      "00:12",
    ]);
    expect(rows.every((row) => row.status === "succeeded")).toBe(true);
    noDuplicates(s.ran);
    expect(s.ran).toHaveLength(12);
    scheduler.stop();
  });
});

describe("the wall clock stepped backwards", () => {
  it("runs no slot twice when set back five minutes, and runs every later slot once", async () => {
    const s = setup("2026-06-01T00:00:30Z");
    const scheduler = await started(s, [job({ id: "minutely", cron: "* * * * *" })]);
    await s.clock.advanceTo(at("2026-06-01T00:05:30Z"));
    expect(s.ran).toHaveLength(5);
    s.clock.setWallClock(-5 * minute); // 00:00:30 again; 00:01 … 00:05 come round a second time
    await s.clock.advanceTo(at("2026-06-01T00:10:30Z"));
    noDuplicates(s.ran);
    const rows = await s.rows("minutely");
    expect(rows.map((row) => row.slot)).toEqual([
      "00:01",
      "00:02",
      "00:03",
      "00:04",
      "00:05",
      "00:06",
      "00:07",
      "00:08",
      "00:09",
      "00:10",
    ]);
    expect(rows.every((row) => row.status === "succeeded" && row.trigger === "schedule")).toBe(true);
    // Set back, nothing was late: nothing is overdue.
    expect(scheduler.overdue()).toEqual([]);
    scheduler.stop();
  });

  it("runs an hourly slot once when the clock is set back across it and forward again", async () => {
    const s = setup("2026-06-01T00:59:00Z");
    const scheduler = await started(s, [job({ id: "hourly", cron: "0 * * * *" })]);
    await s.clock.advanceTo(at("2026-06-01T01:00:30Z"));
    s.clock.setWallClock(-2 * minute); // 00:58:30: 01:00 lies ahead again
    await s.clock.advanceTo(at("2026-06-01T01:01:00Z"));
    s.clock.setWallClock(2 * minute); // corrected again: 01:03:00
    await s.clock.advanceTo(at("2026-06-01T02:00:10Z"));
    expect(await s.rows("hourly")).toEqual([
      { slot: "01:00", status: "succeeded", trigger: "schedule" },
      { slot: "02:00", status: "succeeded", trigger: "schedule" },
    ]);
    expect(s.ran).toEqual(["2026-06-01T01:00:00.000Z", "2026-06-01T02:00:00.000Z"]);
    scheduler.stop();
  });

  it("after a restart with the clock behind the ledger's newest slot, runs none of the slots already recorded", async () => {
    const s = setup("2026-06-01T00:00:30Z");
    const first = await started(s, [job({ id: "minutely", cron: "* * * * *" })]);
    await s.clock.advanceTo(at("2026-06-01T00:05:30Z"));
    first.stop();
    s.clock.setWallClock(-4 * minute); // restarted with the clock at 00:01:30
    const second = await started(s, [job({ id: "minutely", cron: "* * * * *" })]);
    await s.clock.advanceTo(at("2026-06-01T00:07:10Z"));
    noDuplicates(s.ran);
    expect((await s.rows("minutely")).map((row) => row.slot)).toEqual([
      "00:01",
      "00:02",
      "00:03",
      "00:04",
      "00:05",
      "00:06",
      "00:07",
    ]);
    second.stop();
  });
});

describe("a suspended VM (every timer due at once on waking)", () => {
  it("gives each slot slept through one row, runs the newest once under catchUp latest, and doubles none", async () => {
    const s = setup("2026-06-01T00:00:30Z");
    const scheduler = await started(s, [job({ id: "five", cron: "*/5 * * * *", catchUp: "latest" })]);
    await s.clock.advanceTo(at("2026-06-01T00:05:30Z"));
    s.clock.jump(18 * minute); // 00:23:30
    await s.clock.advanceTo(at("2026-06-01T00:25:10Z"));
    expect(await s.rows("five")).toEqual([
      { slot: "00:05", status: "succeeded", trigger: "schedule" },
      { slot: "00:10", status: "missed", trigger: "schedule" },
      { slot: "00:15", status: "missed", trigger: "schedule" },
      { slot: "00:20", status: "succeeded", trigger: "catchup" },
      { slot: "00:25", status: "succeeded", trigger: "schedule" },
    ]);
    noDuplicates(s.ran);
    scheduler.stop();
  });
});
