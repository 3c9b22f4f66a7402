/**
 * The scheduler's watchdog with the injected clock and a real ledger: a job more than a minute
 * overdue (a timer that never fired, a suspended machine, a tick stuck on the ledger) is fired or
 * recorded missed as its catch-up policy says, `/healthz` reports it under `checks.overdue`
 * (degraded), and the alert targets hear of it once — not again until the job fired on time.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { LoadedSkill } from "../../src/skill/load.ts";
import type { Runner } from "../../src/run/runner.ts";
import type { RunStore } from "../../src/ledger/store.ts";
import type { ResolvedJob } from "../../src/config/load.ts";
import { LATE_REPORTED_MS, Scheduler, type LateFire } from "../../src/schedule/scheduler.ts";
import { sendLateAlert } from "../../src/run/alerts.ts";
import { fileDelivery } from "../../src/deliver/file.ts";
import { healthOf } from "../../src/http/health.ts";
import { FakeClock, settle } from "../helpers/fake-clock.ts";
import { job, silentLog, tempStore } from "../helpers/ledger.ts";

const skill = {
  name: "test",
  file: "test.ts",
  definition: { name: "test", description: "", params: {} as never, run: () => ({ title: "", markdown: "" }) },
} as LoadedSkill;
const skills = new Map([["test", skill]]);
const at = (iso: string) => Date.parse(iso);
const minute = 60_000;

const ledgers: ReturnType<typeof tempStore>[] = [];
afterEach(() => {
  for (const ledger of ledgers.splice(0)) ledger.cleanup();
});

/** `hang()` makes the ledger's claims and unrun rows wait forever (a tick stuck on the ledger). */
function hangable(store: RunStore) {
  let hanging = false;
  const wrapped = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if ((name === "claimRuns" || name === "recordUnrun") && typeof value === "function") {
        return (...args: unknown[]) =>
          hanging ? new Promise(() => undefined) : (value as (...a: unknown[]) => unknown).apply(target, args);
      }
      return value;
    },
  });
  return { store: wrapped, hang: () => (hanging = true) };
}

async function setup(jobs: ResolvedJob[], startIso: string) {
  const ledger = tempStore();
  ledgers.push(ledger);
  const { store, hang } = hangable(ledger.store);
  const clock = new FakeClock(at(startIso));
  const runner: Runner = {
    async execute(request) {
      await ledger.store.finishRun(request.runId, { status: "succeeded" }, clock.now(), request.epoch);
      return { status: "succeeded" };
    },
  };
  const announced: LateFire[][] = [];
  const sent: Promise<void>[] = [];
  const alertDeps = {
    env: {},
    dataDir: ledger.dir,
    log: silentLog,
    now: () => clock.now(),
    adapters: new Map([["file", fileDelivery()]]),
    alerts: () => [{ to: "file" as const, path: "alerts/{key}.md" }],
  };
  const scheduler = new Scheduler({
    store,
    runner,
    log: silentLog,
    owner: { pid: process.pid, instance: "t" },
    clock,
    maxConcurrentRuns: 4,
    events: {
      onLate: (late) => {
        announced.push(late);
        sent.push(sendLateAlert(alertDeps, late));
      },
    },
  });
  await scheduler.start(jobs, skills);
  const health = () =>
    healthOf({
      scheduler: () => ({ alive: scheduler.alive, running: scheduler.running }),
      ledger: async () => undefined,
      configuration: () => ({
        settings: { maxConcurrentRuns: 4, retentionMs: 1, shutdownGraceMs: 1, alerts: [] },
        jobs,
        problems: [],
        fileValid: true,
      }),
      rejected: () => null,
      overdue: (now) => scheduler.overdue(now),
      late: (now) => scheduler.lateFires(now),
      node: { pid: 1, instance: "t", hostname: "h", startedAt: 0 },
      now: () => clock.now(),
    });
  const alerts = async () => {
    await Promise.all(sent);
    const dir = join(ledger.dir, "deliveries", "alerts");
    try {
      return readdirSync(dir).map((name) => readFileSync(join(dir, name), "utf8"));
    } catch {
      return [];
    }
  };
  const rows = async (id: string) =>
    (await ledger.store.listRuns({ job: id, limit: 1000 }))
      .reverse()
      .map((run) => ({ slot: run.scheduledFor.slice(11, 16), status: run.status, trigger: run.trigger }));
  return { clock, scheduler, announced, alerts, health, rows, hang };
}

describe("a job whose timer never fired", () => {
  it("is fired by the watchdog as catchUp latest says, reported degraded by /healthz, and announced once", async () => {
    const s = await setup([job({ id: "hourly", cron: "0 * * * *", catchUp: "latest" })], "2026-07-01T00:59:30Z");
    s.clock.dropTimers(); // the scheduler's timer is lost
    await s.clock.advanceTo(at("2026-07-01T01:03:00Z"));
    expect(await s.rows("hourly")).toEqual([]);
    expect(await s.health()).toMatchObject({
      status: "degraded",
      checks: { overdue: { status: "degraded", jobs: [{ job: "hourly", dueAt: "2026-07-01T01:00:00.000Z" }] } },
    });

    expect(s.scheduler.checkOverdue()).toEqual([{ job: "hourly", dueAt: at("2026-07-01T01:00:00Z") }]);
    await settle();
    expect(await s.rows("hourly")).toEqual([{ slot: "01:00", status: "succeeded", trigger: "catchup" }]);
    const body = await s.health();
    expect(body).toMatchObject({
      status: "degraded",
      checks: {
        overdue: {
          status: "degraded",
          jobs: [],
          late: [
            {
              job: "hourly",
              dueAt: "2026-07-01T01:00:00.000Z",
              noticedAt: "2026-07-01T01:03:00.000Z",
              handled: "fired",
            },
          ],
        },
      },
    });

    // Looking again announces nothing more; the job's next slot runs on time (the timer is armed again).
    s.scheduler.checkOverdue();
    await s.clock.advanceTo(at("2026-07-01T02:00:10Z"));
    expect(await s.rows("hourly")).toEqual([
      { slot: "01:00", status: "succeeded", trigger: "catchup" },
      { slot: "02:00", status: "succeeded", trigger: "schedule" },
    ]);
    expect(s.announced).toEqual([
      [
        {
          job: "hourly",
          dueAt: at("2026-07-01T01:00:00Z"),
          noticedAt: at("2026-07-01T01:03:00Z"),
          handled: "fired",
          catchUp: "latest",
        },
      ],
    ]);
    const alerts = await s.alerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toContain("Sundial: job hourly fired late");
    expect(alerts[0]).toContain(
      "`hourly`: due 2026-07-01T01:00:00.000Z, noticed 3 min late; run now (catchUp: latest).",
    );

    // Once a while has passed since, /healthz is ok again.
    await s.clock.advanceTo(at("2026-07-01T01:03:00Z") + LATE_REPORTED_MS + 1);
    expect(await s.health()).toMatchObject({ status: "ok", checks: { overdue: { status: "ok", jobs: [], late: [] } } });
    s.scheduler.stop();
  });

  it("is recorded missed under catchUp none, and the alert says so", async () => {
    const s = await setup([job({ id: "nightly", cron: "0 3 * * *", catchUp: "none" })], "2026-07-01T02:59:50Z");
    s.clock.dropTimers();
    await s.clock.advanceTo(at("2026-07-01T03:02:00Z"));
    s.scheduler.checkOverdue();
    await settle();
    expect(await s.rows("nightly")).toEqual([{ slot: "03:00", status: "missed", trigger: "schedule" }]);
    const alerts = await s.alerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toContain(
      "`nightly`: due 2026-07-01T03:00:00.000Z, noticed 2 min late; recorded as missed (catchUp: none).",
    );
    s.scheduler.stop();
  });
});

describe("late fires the scheduler notices itself (a suspended machine, a blocked loop)", () => {
  it("are announced once per job until it fires on time again, then again on the next episode", async () => {
    const s = await setup(
      [job({ id: "five", cron: "*/5 * * * *" }), job({ id: "ten", cron: "*/10 * * * *" })],
      "2026-07-01T00:00:30Z",
    );
    s.clock.jump(12 * minute); // 00:12:30: five's 00:05 and 00:10, ten's 00:10 are late
    await s.clock.advanceTo(s.clock.now() + 1);
    expect(s.announced).toHaveLength(1);
    expect(s.announced[0]?.map((fire) => [fire.job, fire.handled])).toEqual([
      ["five", "fired"],
      ["ten", "fired"],
    ]);
    s.clock.jump(7 * minute); // 00:19:30, still without an on-time fire in between: not announced again
    await s.clock.advanceTo(s.clock.now() + 1);
    expect(s.announced).toHaveLength(1);
    await s.clock.advanceTo(at("2026-07-01T00:20:10Z")); // both fire on time
    s.clock.jump(20 * minute); // 00:40:10
    await s.clock.advanceTo(s.clock.now() + 1);
    expect(s.announced).toHaveLength(2);
    expect(await s.alerts()).toHaveLength(2);
    expect((await s.alerts()).some((text) => text.includes("Sundial: 2 jobs fired late"))).toBe(true);
    s.scheduler.stop();
  });
});

describe("a tick stuck on the ledger", () => {
  it("leaves the job overdue: /healthz says degraded and the alert says it is still waiting", async () => {
    const s = await setup([job({ id: "hourly", cron: "0 * * * *" })], "2026-07-01T00:59:50Z");
    s.hang();
    await s.clock.advanceTo(at("2026-07-01T01:00:01Z")); // the tick starts and waits on the ledger for good
    await s.clock.advanceTo(at("2026-07-01T01:02:00Z"));
    s.scheduler.checkOverdue();
    s.scheduler.checkOverdue();
    expect(s.announced.map((late) => late.map((fire) => fire.handled))).toEqual([["waiting"]]);
    expect(await s.health()).toMatchObject({
      status: "degraded",
      checks: {
        overdue: { status: "degraded", jobs: [{ job: "hourly" }], late: [{ job: "hourly", handled: "waiting" }] },
      },
    });
    expect((await s.alerts())[0]).toContain("still not handled: the scheduler is stuck");
    s.scheduler.stop();
  });
});
