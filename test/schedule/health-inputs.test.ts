/**
 * @module health-inputs.test — what the scheduler tells /healthz and how it treats a configuration
 * with a problem job: a fire time passed without firing is overdue; of two jobs with one id, the
 * first (enabled) one runs and the later (disabled) duplicate does not replace it.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { LoadedSkill } from "../../src/skill/load.ts";
import type { Runner } from "../../src/run/runner.ts";
import { Scheduler } from "../../src/schedule/scheduler.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { job, silentLog, tempStore } from "../helpers/ledger.ts";

const skill = {
  name: "test",
  file: "test.ts",
  definition: { name: "test", description: "", params: {} as never, run: () => ({ title: "", markdown: "" }) },
} as LoadedSkill;
const ledgers: ReturnType<typeof tempStore>[] = [];
afterEach(() => {
  for (const ledger of ledgers.splice(0)) ledger.cleanup();
});

function setup(start: string) {
  const ledger = tempStore();
  ledgers.push(ledger);
  const clock = new FakeClock(Date.parse(start));
  const started: string[] = [];
  const runner: Runner = {
    async execute(request) {
      started.push(request.job.id);
      await ledger.store.finishRun(request.runId, { status: "succeeded" }, clock.now());
      return { status: "succeeded" };
    },
  };
  const scheduler = new Scheduler({
    store: ledger.store,
    runner,
    log: silentLog,
    owner: { pid: process.pid, instance: "t" },
    clock,
    maxConcurrentRuns: 4,
  });
  return { clock, scheduler, started, store: ledger.store };
}

describe("the scheduler's health inputs", () => {
  it("lists a job as overdue when its fire time passed a minute ago without firing, and not once it fired", async () => {
    const { clock, scheduler } = setup("2026-05-01T12:00:30Z");
    await scheduler.start([job({ id: "minutely", cron: "* * * * *" })], new Map([["test", skill]]));
    expect(scheduler.overdue()).toEqual([]);
    clock.jump(3 * 60_000); // the loop was stuck: no timer fired
    expect(scheduler.overdue()).toEqual([{ job: "minutely", dueAt: Date.parse("2026-05-01T12:01:00Z") }]);
    await clock.advanceTo(clock.now() + 1);
    expect(scheduler.overdue()).toEqual([]);
    scheduler.stop();
  });

  it("keeps the first job of a duplicated id: the later, disabled duplicate does not replace it", async () => {
    const { clock, scheduler, started } = setup("2026-05-01T12:00:30Z");
    const first = job({ id: "dup", cron: "* * * * *" });
    const later = job({
      id: "dup",
      cron: "0 9 * * *",
      enabled: false,
      disabledReason: 'jobs[1].id: duplicate job id "dup"',
    });
    await scheduler.start([first, later], new Map([["test", skill]]));
    await clock.advanceTo(Date.parse("2026-05-01T12:03:10Z"));
    expect(started).toEqual(["dup", "dup", "dup"]);
    scheduler.reload([first, later], new Map([["test", skill]]));
    await clock.advanceTo(Date.parse("2026-05-01T12:04:10Z"));
    expect(started).toHaveLength(4);
    scheduler.stop();
  });
});
