/**
 * A run whose skill ignores its signal: at its timeout plus the grace it is given up — recorded
 * `timed_out`, its place freed so the scheduler starts the next run, and whatever the skill still
 * writes afterwards (a step's result, state) is refused by the ledger (the final row moved the
 * run's epoch on). A skill that honours its signal gets the grace to write its cleanup.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { createRunner } from "../../src/run/runner.ts";
import type { SkillContext, SkillDefinition } from "../../src/types.ts";
import type { Integrations } from "../../src/run/context.ts";
import type { LoadedSkill } from "../../src/skill/load.ts";
import { Scheduler } from "../../src/schedule/scheduler.ts";
import { z } from "../../src/index.ts";
import { FakeClock, settle } from "../helpers/fake-clock.ts";
import { job, silentLog, tempStore } from "../helpers/ledger.ts";

const noIntegrations = async (): Promise<Integrations> => ({
  claude: {} as Integrations["claude"],
  sources: {} as Integrations["sources"],
  images: {
    available: false,
    generate: async () => ({ bytes: new Uint8Array(), mediaType: "image/png", extension: "png" }),
  },
});

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

function harness(graceMs: number) {
  const ledger = tempStore();
  cleanup = ledger.cleanup;
  const runner = createRunner({
    store: ledger.store,
    env: {},
    dataDir: ledger.dir,
    log: silentLog,
    now: Date.now,
    adapters: new Map(),
    integrations: noIntegrations,
    writePreview: () => undefined,
    alerts: () => [],
    graceMs: () => graceMs,
  });
  return { ledger, store: ledger.store, runner };
}

const skillOf = (name: string, run: (ctx: SkillContext) => ReturnType<SkillDefinition["run"]>): LoadedSkill =>
  ({ name, file: `${name}.ts`, definition: { name, description: "t", params: z.object({}), run } }) as LoadedSkill;

/** Ignores its signal: a step that takes 400 ms whatever happens, and a state write after 400 ms. */
function stubborn(refused: string[]) {
  return skillOf("stubborn", async (ctx) => {
    const late = (async () => {
      await sleep(400);
      await ctx.state.set("late", true);
    })().catch((error: Error) => refused.push(`state: ${error.name}`));
    await ctx
      .step("slow", async () => {
        await sleep(400);
        return "finished too late";
      })
      .catch((error: Error) => refused.push(`step: ${error.name}`));
    await late;
    return { title: "late", markdown: "late" };
  });
}

describe("a run whose skill ignores its signal", () => {
  it("is given up at its timeout plus the grace, recorded timed_out, and its late step result and state are refused", async () => {
    const { store, runner } = harness(100);
    const refused: string[] = [];
    const theJob = job({ id: "j", cron: "0 0 1 1 *", timeoutMs: 100 });
    const [claim] = await store.claimRuns(
      [{ job: "j", skill: "stubborn", scheduledFor: Date.now(), trigger: "manual", overlap: "skip" }],
      { pid: process.pid, instance: "me" },
      Date.now(),
    );
    if (claim?.status !== "running") throw new Error("expected a running claim");
    const started = performance.now();
    const outcome = await runner.execute({
      runId: claim.runId,
      epoch: claim.epoch,
      job: theJob,
      skill: stubborn(refused),
      scheduledFor: Date.now(),
      attempt: 1,
      claimedRunning: true,
      dryRun: false,
      resumeOf: null,
      shutdown: new AbortController().signal,
    });
    const heldMs = performance.now() - started;
    expect(outcome.status).toBe("timed_out");
    // Held through the timeout and the grace (the skill could have stopped), not until it ended by itself.
    expect(heldMs).toBeGreaterThanOrEqual(190);
    expect(heldMs).toBeLessThan(380);
    expect(await store.getRun(claim.runId)).toMatchObject({
      status: "timed_out",
      error: expect.stringMatching(/timed out after 100 ms/),
    });
    // The skill goes on by itself; what it writes after being given up does not land.
    await sleep(500);
    expect(refused.sort()).toEqual(["state: LeaseLostError", "step: LeaseLostError"]);
    expect(await store.getStep(claim.runId, "slow")).toBeNull();
    expect((await store.loadState("j")).size).toBe(0);
    expect(await store.getRun(claim.runId)).toMatchObject({ status: "timed_out" });
  });

  it("gives a skill that honours its signal the grace to record its cleanup before the run ends timed_out", async () => {
    const { store, runner } = harness(300);
    const theJob = job({ id: "j", cron: "0 0 1 1 *", timeoutMs: 50 });
    const polite = skillOf("polite", async (ctx) => {
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
      await sleep(50); // closing what it opened
      await ctx.state.set("cursor", "saved on abort");
      throw ctx.signal.reason;
    });
    const [claim] = await store.claimRuns(
      [{ job: "j", skill: "polite", scheduledFor: Date.now(), trigger: "manual", overlap: "skip" }],
      { pid: process.pid, instance: "me" },
      Date.now(),
    );
    if (claim?.status !== "running") throw new Error("expected a running claim");
    const started = performance.now();
    const outcome = await runner.execute({
      runId: claim.runId,
      epoch: claim.epoch,
      job: theJob,
      skill: polite,
      scheduledFor: Date.now(),
      attempt: 1,
      claimedRunning: true,
      dryRun: false,
      resumeOf: null,
      shutdown: new AbortController().signal,
    });
    expect(outcome.status).toBe("timed_out");
    // It ended when the skill stopped, well within the grace.
    expect(performance.now() - started).toBeLessThan(300);
    expect((await store.loadState("j")).get("cursor")).toBe("saved on abort");
  });

  it("frees its place: with one run at a time, the next job's run starts once the stubborn one is given up", async () => {
    const { store, runner } = harness(100);
    const refused: string[] = [];
    const clock = new FakeClock(Date.parse("2026-03-01T00:01:30Z"));
    const quickRuns: number[] = [];
    const quick = skillOf("quick", async () => {
      quickRuns.push(performance.now());
      return { title: "quick", markdown: "quick" };
    });
    const scheduler = new Scheduler({
      store,
      runner,
      log: silentLog,
      owner: { pid: process.pid, instance: "me" },
      clock,
      maxConcurrentRuns: 1,
    });
    const skills = new Map([
      ["stubborn", stubborn(refused)],
      ["quick", quick],
    ]);
    await scheduler.start(
      [
        job({ id: "stuck", skill: "stubborn", cron: "0 * * * *", timeoutMs: 100 }),
        job({ id: "next", skill: "quick", cron: "1 * * * *" }),
      ],
      skills,
    );
    await clock.advanceTo(Date.parse("2026-03-01T01:00:00Z"));
    const firedAt = performance.now();
    await clock.advanceTo(Date.parse("2026-03-01T01:01:00Z"));
    expect(scheduler.running).toBe(1);
    expect((await store.listRuns({ job: "next" }))[0]).toMatchObject({ status: "queued" });
    for (let i = 0; i < 100 && !quickRuns.length; i++) await sleep(10);
    await settle();
    expect(quickRuns).toHaveLength(1);
    expect((quickRuns[0] as number) - firedAt).toBeLessThan(380); // not after the stubborn skill's 400 ms
    expect((await store.listRuns({ job: "stuck" }))[0]).toMatchObject({ status: "timed_out" });
    await sleep(500);
    expect((await store.listRuns({ job: "next" }))[0]).toMatchObject({ status: "succeeded" });
    expect(refused.sort()).toEqual(["state: LeaseLostError", "step: LeaseLostError"]);
    scheduler.stop();
  });
});
