/**
 * The scheduler against a real SQLite ledger with an injected clock: daylight saving, catch-up,
 * lateness, overlap and the global concurrency limit, without waiting for real time.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { LoadedSkill } from "../../src/skill/load.ts";
import type { RunRequest, Runner } from "../../src/run/runner.ts";
import type { RunOutcome, RunStore } from "../../src/ledger/store.ts";
import type { ResolvedJob } from "../../src/config/types.ts";
import { Scheduler } from "../../src/schedule/scheduler.ts";
import { FakeClock, settle } from "../helpers/fake-clock.ts";
import { job, silentLog, tempStore } from "../helpers/ledger.ts";

const skill = {
  name: "test",
  file: "test.ts",
  definition: { name: "test", description: "", params: {} as never, run: () => ({ title: "", markdown: "" }) },
} as LoadedSkill;
const skills = new Map([["test", skill]]);
const owner = { pid: process.pid, instance: "test" };

/**
 * A runner that records what it was asked to run (and when) and finishes when the test says so; it
 * counts the runs under way, overall and per job, and keeps the highest counts it saw.
 */
function fakeRunner(store: RunStore, clock: FakeClock, holdMs = 0) {
  const started: RunRequest[] = [];
  const startedAt: number[] = [];
  const peak = { all: 0, perJob: new Map<string, number>() };
  let active = 0;
  const activeOf = new Map<string, number>();
  const runner: Runner = {
    async execute(request) {
      started.push(request);
      startedAt.push(clock.now());
      active++;
      activeOf.set(request.job.id, (activeOf.get(request.job.id) ?? 0) + 1);
      peak.all = Math.max(peak.all, active);
      peak.perJob.set(
        request.job.id,
        Math.max(peak.perJob.get(request.job.id) ?? 0, activeOf.get(request.job.id) ?? 0),
      );
      try {
        if (holdMs) await new Promise<void>((resolve) => clock.setTimeout(resolve, holdMs));
        const outcome: RunOutcome = { status: "succeeded" };
        await store.finishRun(request.runId, outcome, clock.now());
        return outcome;
      } finally {
        active--;
        activeOf.set(request.job.id, (activeOf.get(request.job.id) ?? 1) - 1);
      }
    },
  };
  return { runner, started, startedAt, peak };
}

const ledgers: ReturnType<typeof tempStore>[] = [];
afterEach(() => {
  for (const ledger of ledgers.splice(0)) ledger.cleanup();
});

async function setup(
  jobs: ResolvedJob[],
  startIso: string,
  options: { holdMs?: number; maxConcurrentRuns?: number; random?: () => number } = {},
) {
  const ledger = tempStore();
  ledgers.push(ledger);
  const clock = new FakeClock(Date.parse(startIso));
  const { runner, started, startedAt, peak } = fakeRunner(ledger.store, clock, options.holdMs);
  const scheduler = new Scheduler({
    store: ledger.store,
    runner,
    log: silentLog,
    owner,
    clock,
    maxConcurrentRuns: options.maxConcurrentRuns ?? 16,
    random: options.random,
  });
  await scheduler.start(jobs, skills);
  const rows = async (id = jobs[0]?.id as string) =>
    (await ledger.store.listRuns({ job: id, limit: 10_000 })).reverse();
  return { clock, scheduler, started, startedAt, peak, rows, store: ledger.store };
}

describe("daylight saving", () => {
  it("runs a slot in the skipped spring-forward hour once, right after the change", async () => {
    const { clock, rows } = await setup(
      [job({ id: "spring", cron: "30 2 * * *", timezone: "America/New_York" })],
      "2026-03-07T12:00:00Z",
    );
    await clock.advanceTo(Date.parse("2026-03-10T12:00:00Z"));
    const fired = (await rows()).map((run) => [run.scheduledFor, run.status]);
    expect(fired).toEqual([
      ["2026-03-08T07:00:00.000Z", "succeeded"], // 03:00 EDT: 02:30 did not exist
      ["2026-03-09T06:30:00.000Z", "succeeded"],
      ["2026-03-10T06:30:00.000Z", "succeeded"],
    ]);
  });

  it("runs a slot in the repeated fall-back hour once", async () => {
    const { clock, rows } = await setup(
      [job({ id: "fall", cron: "30 1 * * *", timezone: "America/New_York" })],
      "2026-10-31T12:00:00Z",
    );
    await clock.advanceTo(Date.parse("2026-11-02T12:00:00Z"));
    expect((await rows()).map((run) => run.scheduledFor)).toEqual([
      "2026-11-01T05:30:00.000Z",
      "2026-11-02T06:30:00.000Z",
    ]);
  });

  it("keeps hourly slots an hour apart across the fall-back change, none doubled", async () => {
    const { clock, rows } = await setup(
      [job({ id: "hourly", cron: "0 * * * *", timezone: "Europe/Berlin" })],
      "2026-10-24T22:30:00Z",
    );
    await clock.advanceTo(Date.parse("2026-10-25T04:30:00Z"));
    const times = (await rows()).map((run) => Date.parse(run.scheduledFor));
    expect(times).toHaveLength(6);
    expect(new Set(times).size).toBe(6);
    for (let i = 1; i < times.length; i++) expect((times[i] as number) - (times[i - 1] as number)).toBe(3_600_000);
  });
});

describe("slots and the ledger", () => {
  it("gives every slot exactly one row while running on time", async () => {
    const { clock, rows } = await setup([job({ id: "minutely", cron: "* * * * *" })], "2026-01-01T00:00:30Z");
    await clock.advanceTo(Date.parse("2026-01-01T01:00:30Z"));
    const all = await rows();
    expect(all).toHaveLength(60);
    expect(all.every((run) => run.trigger === "schedule" && run.status === "succeeded")).toBe(true);
  });

  it("after downtime, catchUp latest runs the newest missed slot once and records the rest as missed", async () => {
    const first = await setup([job({ id: "j", cron: "*/10 * * * *" })], "2026-01-01T00:05:00Z");
    await first.clock.advanceTo(Date.parse("2026-01-01T00:25:00Z"));
    first.scheduler.stop();
    // Down from 00:25 to 01:02; a new scheduler on the same ledger starts.
    const clock = new FakeClock(Date.parse("2026-01-01T01:02:00Z"));
    const { runner } = fakeRunner(first.store, clock);
    const again = new Scheduler({ store: first.store, runner, log: silentLog, owner, clock, maxConcurrentRuns: 4 });
    await again.start([job({ id: "j", cron: "*/10 * * * *" })], skills);
    await settle();
    const byStatus = (await first.rows()).map(
      (run) => `${run.scheduledFor.slice(11, 16)} ${run.trigger} ${run.status}`,
    );
    expect(byStatus).toEqual([
      "00:10 schedule succeeded",
      "00:20 schedule succeeded",
      "00:30 schedule missed",
      "00:40 schedule missed",
      "00:50 schedule missed",
      "01:00 catchup succeeded",
    ]);
  });

  it("with catchUp none records only missed rows, and all runs each slot inside the window", async () => {
    for (const [policy, expected] of [
      ["none", ["missed", "missed", "missed"]],
      ["all", ["missed", "succeeded", "succeeded"]],
    ] as const) {
      const ledger = tempStore();
      ledgers.push(ledger);
      // overlap allow: with the default (skip), catch-up runs of one job would skip each other.
      const j = job({
        id: `p-${policy}`,
        cron: "0 * * * *",
        catchUp: policy,
        catchUpWindowMs: 2 * 3_600_000,
        overlap: "allow",
      });
      await ledger.store.jobCursors([j.id], Date.parse("2026-01-01T00:30:00Z"));
      const clock = new FakeClock(Date.parse("2026-01-01T03:30:00Z"));
      const { runner } = fakeRunner(ledger.store, clock);
      await new Scheduler({ store: ledger.store, runner, log: silentLog, owner, clock, maxConcurrentRuns: 4 }).start(
        [j],
        skills,
      );
      await settle();
      const runs = (await ledger.store.listRuns({ job: j.id, limit: 10 })).reverse();
      expect(runs.map((run) => run.status)).toEqual(expected);
      expect(runs.map((run) => run.scheduledFor.slice(11, 16))).toEqual(["01:00", "02:00", "03:00"]);
    }
  });

  it("a daemon that wakes late (sleep, clock jump) records the slots it slept through", async () => {
    const { clock, rows } = await setup(
      [job({ id: "sleepy", cron: "* * * * *", catchUp: "latest" })],
      "2026-01-01T00:00:30Z",
    );
    await clock.advanceTo(Date.parse("2026-01-01T00:02:30Z"));
    clock.jump(10 * 60_000); // the machine slept ten minutes; no timer fired meanwhile
    await clock.advanceTo(clock.now() + 1000);
    const all = await rows();
    const slots = all.map((run) => Date.parse(run.scheduledFor));
    // Every minute from 00:01 to 00:12 has exactly one row.
    expect(slots).toEqual(Array.from({ length: 12 }, (_, i) => Date.parse("2026-01-01T00:01:00Z") + i * 60_000));
    expect(all.filter((run) => run.status === "missed").length).toBeGreaterThanOrEqual(8);
    expect(all.at(-1)?.status).toBe("succeeded");
  });

  it("overlap skip records skipped slots while the job runs, never two at once", async () => {
    const { clock, rows, peak } = await setup([job({ id: "slow", cron: "* * * * * *" })], "2026-01-01T00:00:00.500Z", {
      holdMs: 2500,
    });
    await clock.advanceTo(Date.parse("2026-01-01T00:00:10.500Z"));
    const all = await rows();
    expect(all).toHaveLength(10);
    expect(peak.perJob.get("slow")).toBe(1);
    const skipped = all.filter((run) => run.status === "skipped");
    expect(skipped.length).toBeGreaterThanOrEqual(5);
    expect(skipped.every((run) => run.reason?.startsWith("overlap:"))).toBe(true);
  });

  it("overlap queue runs one slot after the current one and skips further ones", async () => {
    const { clock, rows, started } = await setup(
      [job({ id: "q", cron: "* * * * * *", overlap: "queue" })],
      "2026-01-01T00:00:00.500Z",
      { holdMs: 2500 },
    );
    await clock.advanceTo(Date.parse("2026-01-01T00:00:04.000Z"));
    const all = await rows();
    // 01 runs until 03.5; 02 waits in the queue and then runs; 03 finds the queue full; 04 queues again.
    expect(all.map((run) => run.status)).toEqual(["succeeded", "running", "skipped", "queued"]);
    expect(started).toHaveLength(2);
  });

  it("never runs more than maxConcurrentRuns at once", async () => {
    const jobs = Array.from({ length: 10 }, (_, i) => job({ id: `c${i}`, cron: "0 * * * *" }));
    const { clock, scheduler, store, peak } = await setup(jobs, "2026-01-01T00:59:59Z", {
      holdMs: 1000,
      maxConcurrentRuns: 3,
    });
    await clock.advanceTo(Date.parse("2026-01-01T01:00:00.100Z"));
    expect(scheduler.running).toBe(3);
    await clock.advanceTo(Date.parse("2026-01-01T01:00:05Z"));
    const finished = await store.listRuns({ status: "succeeded", limit: 100 });
    expect(finished).toHaveLength(10);
    // The highest number of runs the runner had under way at once, over the whole test.
    expect(peak.all).toBe(3);
  });

  it("reload schedules a new job from now and stops a removed one", async () => {
    const { clock, scheduler, store } = await setup([job({ id: "a", cron: "* * * * *" })], "2026-01-01T00:00:30Z");
    await clock.advanceTo(Date.parse("2026-01-01T00:02:30Z"));
    scheduler.reload([job({ id: "b", cron: "* * * * *" })], skills);
    await clock.advanceTo(Date.parse("2026-01-01T00:04:30Z"));
    expect((await store.listRuns({ job: "a", limit: 10 })).length).toBe(2);
    expect((await store.listRuns({ job: "b", limit: 10 })).map((run) => run.scheduledFor)).toEqual([
      "2026-01-01T00:04:00.000Z",
      "2026-01-01T00:03:00.000Z",
    ]);
  });

  it("delays each fire by the job's jitter (a random share of jitterMs) and keeps the slot as the run's time", async () => {
    const { clock, started, startedAt, rows } = await setup(
      [job({ id: "j", cron: "0 * * * *", jitterMs: 600_000 })],
      "2026-01-01T00:59:59Z",
      { random: () => 0.5 },
    );
    await clock.advanceTo(Date.parse("2026-01-01T01:04:59.900Z"));
    expect(started).toHaveLength(0);
    expect(await rows()).toEqual([]);
    await clock.advanceTo(Date.parse("2026-01-01T01:05:01Z"));
    expect(startedAt).toEqual([Date.parse("2026-01-01T01:05:00Z")]);
    expect((await rows()).map((run) => run.scheduledFor)).toEqual(["2026-01-01T01:00:00.000Z"]);
  });

  it("at start resumes interrupted runs that ended within the resume window only", async () => {
    const ledger = tempStore();
    ledgers.push(ledger);
    const store = ledger.store;
    const interrupted = async (slotIso: string) => {
      const at = Date.parse(slotIso);
      const [claim] = await store.claimRuns(
        [{ job: "r", skill: "test", scheduledFor: at, trigger: "schedule", overlap: "allow" }],
        { pid: 1, instance: "gone" },
        at,
      );
      await store.finishRun(claim?.runId as number, { status: "interrupted", reason: "crash" }, at + 30_000);
      return claim?.runId as number;
    };
    const old = await interrupted("2026-01-01T06:00:00Z"); // ended 30 h before the start
    const recent = await interrupted("2026-01-02T10:00:00Z"); // ended 2 h before the start
    const clock = new FakeClock(Date.parse("2026-01-02T12:00:00Z"));
    const { runner, started } = fakeRunner(store, clock);
    const scheduler = new Scheduler({ store, runner, log: silentLog, owner, clock, maxConcurrentRuns: 16 });
    await scheduler.start([job({ id: "r", cron: "0 0 1 1 *", catchUp: "none" })], skills);
    await settle();
    expect(started.map((request) => request.resumeOf)).toEqual([recent]);
    expect((await store.listRuns({ job: "r", limit: 10 })).filter((run) => run.resumeOf === old)).toEqual([]);
    scheduler.stop();
  });
});
