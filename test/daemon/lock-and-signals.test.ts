/**
 * One daemon per data directory (a second exits 2 and the first carries on), a clean SIGTERM
 * (runs get `shutdownGrace`, then are aborted and recorded interrupted; exit 0), and a first start
 * on a workspace whose data directory does not exist yet.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { createWorkspace, waitFor, type Workspace } from "../helpers/workspace.ts";

// Sleeps `ms` (honouring the signal) inside a step, so a test can see when it is under way.
const nap = `
import { setTimeout as sleep } from "node:timers/promises";
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "nap",
  description: "sleeps for a while",
  params: z.object({ ms: z.number().default(0) }),
  async run(ctx) {
    await ctx.step("nap", () => sleep(ctx.params.ms, "rested", { signal: ctx.signal }));
    return { title: "nap", markdown: "rested" };
  },
});
`;

function schedules(ms: number, shutdownGrace: string) {
  return { shutdownGrace, jobs: [{ id: "nap", skill: "nap", cron: "* * * * * *", params: { ms } }] };
}

let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

describe("the data directory lock", () => {
  it(
    "makes a second daemon on the same data directory exit 2, naming the lock and the pid, while the first keeps firing",
    { timeout: 120_000 },
    async () => {
      ws = createWorkspace({ skills: { nap }, schedules: schedules(0, "5s") });
      const w = ws;
      const first = await w.start();
      await waitFor(() => w.runs("nap").length >= 1, { timeoutMs: 30_000, what: "a first run" });

      const second = w.spawn();
      // Bounded, so a second daemon that wrongly keeps running fails the test instead of hanging it.
      const exit = await Promise.race([second.exited, sleep(45_000, "still running after 45 s", { ref: false })]);
      expect(exit).toEqual({ code: 2, signal: null });
      const message = second.lines.join("\n");
      expect(message).toContain(`another Sundial daemon (pid ${first.pid}) is already using this data directory`);
      expect(message).toContain(join(w.dataDir, "daemon.lock"));
      expect(second.logs().some((log) => log.msg === "sundial is running")).toBe(false);

      // The lock still names the first daemon, which goes on firing.
      expect(JSON.parse(readFileSync(join(w.dataDir, "daemon.lock"), "utf8"))).toMatchObject({ pid: first.pid });
      const count = w.runs("nap").length;
      await waitFor(() => w.runs("nap").filter((run) => run.status === "succeeded").length >= count + 2, {
        timeoutMs: 20_000,
        what: "runs after the second daemon exited",
      });
      expect(await first.stop("SIGTERM")).toEqual({ code: 0, signal: null });
      // A clean stop releases the lock.
      expect(existsSync(join(w.dataDir, "daemon.lock"))).toBe(false);
    },
  );

  // Regression: the lock used to be taken before anything created the data directory (ENOENT, exit 1).
  it("starts on a workspace whose data directory does not exist yet, creating it", { timeout: 90_000 }, async () => {
    ws = createWorkspace({ skills: { nap }, schedules: schedules(0, "5s"), createDataDir: false });
    const w = ws;
    const daemon = await w.start();
    await waitFor(() => w.runs("nap").some((run) => run.status === "succeeded"), { timeoutMs: 30_000, what: "a run" });
    expect(await daemon.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });
});

describe("SIGTERM", () => {
  it(
    "aborts a run that outlasts shutdownGrace, records it interrupted (shutdown) and exits 0 soon after the grace",
    { timeout: 90_000 },
    async () => {
      ws = createWorkspace({ skills: { nap }, schedules: schedules(10_000, "1s") });
      const w = ws;
      const daemon = await w.start();
      const run = await waitFor(
        () => w.runs("nap").find((r) => r.status === "running" && w.steps(r.id).some((s) => s.status === "running")),
        { timeoutMs: 30_000, what: "a run under way" },
      );
      const sent = Date.now();
      const exit = await daemon.stop("SIGTERM", 20_000);
      const tookMs = Date.now() - sent;
      expect(exit).toEqual({ code: 0, signal: null });
      // Grace 1 s; the run had ~10 s left, so exiting well before that proves it was cut short.
      expect(tookMs).toBeLessThan(6_000);
      expect(w.runs("nap").find((r) => r.id === run.id)).toMatchObject({ status: "interrupted", reason: "shutdown" });
      expect(w.runs("nap").filter((r) => r.status === "running")).toEqual([]);
      expect(daemon.logs().some((log) => log.msg === "grace period over; aborting running runs")).toBe(true);
    },
  );

  it("lets a run that ends within shutdownGrace succeed, then exits 0", { timeout: 90_000 }, async () => {
    ws = createWorkspace({ skills: { nap }, schedules: schedules(2_000, "15s") });
    const w = ws;
    const daemon = await w.start();
    const run = await waitFor(
      () => w.runs("nap").find((r) => r.status === "running" && w.steps(r.id).some((s) => s.status === "running")),
      { timeoutMs: 30_000, what: "a run under way" },
    );
    const sent = Date.now();
    const exit = await daemon.stop("SIGTERM", 30_000);
    expect(exit).toEqual({ code: 0, signal: null });
    const runs = w.runs("nap");
    expect(runs.find((r) => r.id === run.id)).toMatchObject({ status: "succeeded", reason: null });
    // Nothing was left behind, and no new run started after the signal.
    expect(runs.filter((r) => !["succeeded", "skipped"].includes(r.status))).toEqual([]);
    expect(runs.filter((r) => (r.started_at ?? 0) > sent + 500)).toEqual([]);
  });
});
