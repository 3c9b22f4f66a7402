/**
 * A real daemon whose ledger another process keeps locked for seconds (a backup, a `sundial run`):
 * the event loop stays free (the status server answers at once), nothing crashes, and every run's
 * steps, state and final row land once the lock is released.
 */
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { createWorkspace, waitFor, type Workspace } from "../helpers/workspace.ts";

const writer = `
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "writer",
  description: "a step and a state write every second",
  params: z.object({}),
  async run(ctx) {
    const n = await ctx.step("count", async () => (ctx.state.get<number>("n") ?? 0) + 1);
    await ctx.state.set("n", n);
    return { title: "count", markdown: String(n) };
  },
});
`;

let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

describe("a daemon whose ledger is locked by another process", () => {
  it(
    "keeps its event loop free, does not crash, and records every run once the lock is gone",
    { timeout: 120_000 },
    async () => {
      ws = createWorkspace({ skills: { writer } });
      const w = ws;
      w.writeSchedules({ jobs: [{ id: "w", skill: "writer", cron: "* * * * * *", catchUp: "none", deliver: [] }] });
      const daemon = await w.start();
      await waitFor(() => w.runs("w").some((run) => run.status === "succeeded" || run.status === "skipped"), {
        timeoutMs: 30_000,
        what: "a first run",
      });

      const lock = new Database(w.dbFile);
      lock.exec("BEGIN IMMEDIATE");
      const lockedAt = Date.now();
      const answers: number[] = [];
      try {
        // Several fires fall inside the lock; the status server must keep answering meanwhile.
        while (Date.now() - lockedAt < 4_000) {
          const asked = Date.now();
          const response = await fetch(`${daemon.url}/healthz`, { signal: AbortSignal.timeout(5_000) });
          await response.text();
          answers.push(Date.now() - asked);
          await new Promise((done) => setTimeout(done, 250));
        }
      } finally {
        lock.exec("COMMIT");
        lock.close();
      }
      // A driver-level busy wait (busy_timeout) would freeze the event loop for seconds at a time.
      expect(Math.max(...answers)).toBeLessThan(1_000);

      const releasedAt = Date.now();
      await waitFor(() => w.runs("w").some((run) => run.scheduled_for > releasedAt && run.finished_at !== null), {
        timeoutMs: 30_000,
        what: "a run after the lock",
      });
      const exit = await daemon.stop("SIGTERM");
      expect(exit.code).toBe(0);
      // Every slot that fell while the ledger was locked reached its final row (ran, or recorded as
      // missed: catchUp none), none failed, and nothing crashed the daemon.
      const runs = w.runs("w");
      expect(runs.filter((run) => run.finished_at === null)).toEqual([]);
      const during = runs.filter((run) => run.scheduled_for >= lockedAt && run.scheduled_for < releasedAt - 1_000);
      expect(during.length).toBeGreaterThan(0);
      expect(
        during
          .map((run) => [run.status, run.reason ?? run.error])
          .filter(([status]) => !["succeeded", "skipped", "missed"].includes(status as string)),
      ).toEqual([]);
      expect(daemon.logs().filter((log) => log.level === 60 || /unhandled/i.test(String(log.msg)))).toEqual([]);
    },
  );
});
