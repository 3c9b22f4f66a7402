/**
 * Controls reach the daemon that holds the run, on one PostgreSQL ledger: two daemon processes; a
 * slow run started on daemon B is cancelled with `sundial cancel` pointed at daemon A and ends
 * `cancelled` on B within a couple of seconds (the cancel recorded on the row, NOTIFY telling B); a
 * pause made through A stops B firing the job at once (B's scheduler reads its pauses at each
 * fire, and B reads them again when told), well before B's periodic re-read (a third of the 30 s
 * lease).
 */
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createWorkspace, waitFor, type Workspace } from "../helpers/workspace.ts";
import { startPostgres, type TestPostgres } from "../helpers/postgres.ts";
import { apiClient, TOKEN } from "../operate/helpers.ts";

const slow = `
import { setTimeout as sleep } from "node:timers/promises";
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "slow",
  description: "one long step that honours its signal",
  params: z.object({}),
  async run(ctx) {
    await ctx.step("wait", () => sleep(60_000, undefined, { signal: ctx.signal }));
    return { title: "slow", markdown: "done" };
  },
});
`;
const noop = `
import { defineSkill, z } from "sundial";
export default defineSkill({ name: "noop", description: "nothing", params: z.object({}), async run() { return undefined; } });
`;

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => server?.stop(), 60_000);
let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

describe("controls across daemons on one PostgreSQL ledger", () => {
  it(
    "a cancel sent to daemon A aborts the run daemon B holds; a pause sent to A stops B firing",
    { timeout: 60_000 },
    async () => {
      const url = await server.freshDatabase();
      ws = createWorkspace({
        skills: { slow, noop },
        env: { SUNDIAL_DATABASE_URL: url, SUNDIAL_API_TOKEN: TOKEN },
        schedules: {
          jobs: [
            { id: "slow", skill: "slow", cron: "0 0 1 1 *" },
            { id: "tick", skill: "noop", cron: "* * * * * *", catchUp: "none" },
          ],
        },
      });
      const w = ws;
      const a = await w.start({ SUNDIAL_DATA_DIR: join(w.dir, "data-a") });
      const b = await w.start({ SUNDIAL_DATA_DIR: join(w.dir, "data-b") });
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      try {
        // The slow run starts on B (a manual run runs where it was asked for).
        const started = await apiClient(b.url)<{ run: { id: number } }>("POST", "/jobs/slow/run", {});
        expect(started.status).toBe(202);
        const runId = started.body.run.id;
        await waitFor(
          async () =>
            (
              await db.query(`SELECT 1 FROM steps WHERE run_id = $1 AND step_id = 'wait' AND status = 'running'`, [
                runId,
              ])
            ).rowCount,
          { what: "the slow run in its step on B" },
        );
        expect((await db.query(`SELECT owner_pid FROM runs WHERE id = $1`, [runId])).rows[0].owner_pid).toBe(b.pid);

        // `sundial cancel` finds daemon A through its data directory.
        const cancel = await w.runCli(["cancel", String(runId)], { SUNDIAL_DATA_DIR: join(w.dir, "data-a") });
        expect(cancel.code, cancel.stderr).toBe(0);
        const ended = await waitFor(
          async () => {
            const { rows } = await db.query(
              `SELECT status, reason, finished_at, owner_pid, cancel_requested_at FROM runs WHERE id = $1`,
              [runId],
            );
            return rows[0]?.finished_at ? rows[0] : null;
          },
          { timeoutMs: 10_000, what: "the cancelled run's final row" },
        );
        expect(ended).toMatchObject({ status: "cancelled", reason: "cancelled by an operator", owner_pid: b.pid });
        // Recorded by A, ended by B: within a couple of seconds (NOTIFY; B's periodic re-read is 10 s away).
        expect(Number(ended.finished_at) - Number(ended.cancel_requested_at)).toBeLessThan(2_000);
        expect(b.logs().some((log) => log.msg === "cancel requested through another daemon: aborting the run")).toBe(
          true,
        );

        // A pause through A: from a moment later, no daemon runs a slot of "tick".
        await waitFor(
          async () => (await db.query(`SELECT 1 FROM runs WHERE job = 'tick' AND finished_at IS NOT NULL`)).rowCount,
          { what: "tick running" },
        );
        const paused = await apiClient(a.url)("POST", "/jobs/tick/pause", { reason: "maintenance" });
        expect(paused.status).toBe(200);
        const pausedAt = Date.now();
        const shown = await waitFor(
          async () => {
            const { body } = await apiClient(b.url)<{ job: { paused: boolean } }>("GET", "/jobs/tick");
            return body.job.paused ? body : null;
          },
          { timeoutMs: 2_000, what: "B to see the pause" },
        );
        expect(shown.job.paused).toBe(true);
        await sleep(3_000);
        const { rows } = await db.query(
          `SELECT scheduled_for, status, reason, owner_pid FROM runs WHERE job = 'tick' AND scheduled_for > $1 ORDER BY scheduled_for`,
          [pausedAt + 1_000],
        );
        expect(rows.length).toBeGreaterThan(0);
        for (const row of rows) expect(row).toMatchObject({ status: "skipped", reason: "paused" });
      } finally {
        await db.end();
      }
    },
  );
});
