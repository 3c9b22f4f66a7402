/**
 * Chaos on one PostgreSQL ledger: three daemon processes, an every-second job with a slow step and
 * twenty quick ones. One daemon is killed with SIGKILL mid-run, another frozen (SIGSTOP) past its
 * lease and woken. After: every slot has exactly one chain, no step recorded as finished was done
 * again (the frozen daemon, once woken, does nothing more: its writes are fenced), the killed daemon's run was resumed by another from its last finished step,
 * and nothing is left running. Also: `sundial nodes --json` lists the three daemons.
 */
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createWorkspace, waitFor, type Daemon, type Workspace } from "../helpers/workspace.ts";
import { startPostgres, type TestPostgres } from "../helpers/postgres.ts";

// Each step appends "<job>@<slot>" to its own log: a line twice is a side effect done twice.
const slow = `
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "slow",
  description: "a side effect, a slow step, another side effect",
  params: z.object({ dir: z.string() }),
  async run(ctx) {
    const mark = (file) => appendFileSync(join(ctx.params.dir, file), ctx.run.job + "@" + ctx.run.scheduledFor + "\\n");
    await ctx.step("one", async () => { mark("one.log"); return 1; });
    await ctx.step("two", async () => { await sleep(2500, undefined, { signal: ctx.signal }); return 2; });
    await ctx.step("three", async () => { mark("three.log"); return 3; });
    return { title: "slow", markdown: "done" };
  },
});
`;
const quick = `
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "quick",
  description: "one side effect",
  params: z.object({ dir: z.string() }),
  async run(ctx) {
    await ctx.step("mark", async () => { appendFileSync(join(ctx.params.dir, "quick.log"), ctx.run.job + "@" + ctx.run.scheduledFor + "\\n"); return 1; });
    return { title: "quick", markdown: "done" };
  },
});
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

const lines = (file: string) => readFileSync(file, "utf8").split("\n").filter(Boolean);
const duplicates = (items: string[]) => items.filter((item, index) => items.indexOf(item) !== index);

describe("three daemons on one PostgreSQL ledger", () => {
  it(
    "survive a kill -9 and a freeze past the lease: one chain per slot, nothing done twice, the killed run resumed elsewhere",
    { timeout: 90_000 },
    async () => {
      const url = await server.freshDatabase();
      ws = createWorkspace({ skills: { slow, quick }, env: { SUNDIAL_DATABASE_URL: url, SUNDIAL_LEASE: "2s" } });
      const w = ws;
      for (const file of ["one.log", "three.log", "quick.log"]) appendFileSync(join(w.dir, file), "");
      const jobs = [
        { id: "slow", skill: "slow", cron: "* * * * * *", catchUp: "none", overlap: "allow", params: { dir: w.dir } },
        ...Array.from({ length: 20 }, (_, i) => ({
          id: `quick-${i}`,
          skill: "quick",
          cron: "* * * * * *",
          catchUp: "none",
          params: { dir: w.dir },
        })),
      ];
      w.writeSchedules({ jobs });
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      try {
        const daemons: Daemon[] = await Promise.all(
          [1, 2, 3].map((n) => w.start({ SUNDIAL_DATA_DIR: join(w.dir, `data-${n}`) })),
        );
        const nodes = await w.runCli(["nodes", "--json"]);
        expect((JSON.parse(nodes.stdout) as { nodes: { id: string }[] }).nodes).toHaveLength(3);

        // Kill -9 the daemon holding a slow run in its slow step.
        const victim = await waitFor(
          async () => {
            const { rows } = await db.query(`SELECT r.id, r.owner_pid FROM runs r JOIN steps s ON s.run_id = r.id
          WHERE r.job = 'slow' AND r.status = 'running' AND s.step_id = 'two' AND s.status = 'running' ORDER BY r.id LIMIT 1`);
            return rows[0] as { id: number; owner_pid: number } | undefined;
          },
          { timeoutMs: 20_000, what: "a slow run in step two" },
        );
        const killed = daemons.find((d) => d.pid === victim.owner_pid) as Daemon;
        expect((await killed.stop("SIGKILL")).signal).toBe("SIGKILL");
        const others = daemons.filter((d) => d !== killed);

        // Freeze another past its lease (2 s), then wake it.
        const frozen = others[0] as Daemon;
        process.kill(frozen.pid, "SIGSTOP");
        await sleep(3_500);
        process.kill(frozen.pid, "SIGCONT");

        // The killed run is resumed by a live daemon, from its last finished step.
        const resume = await waitFor(
          async () => {
            const { rows } = await db.query(
              `SELECT id, owner_pid, status FROM runs WHERE resume_of = $1 AND finished_at IS NOT NULL`,
              [victim.id],
            );
            return rows[0] as { id: number; owner_pid: number; status: string } | undefined;
          },
          { timeoutMs: 20_000, what: "the killed daemon's run resumed and finished" },
        );
        expect(resume.owner_pid).not.toBe(killed.pid);
        expect(resume.status).toBe("succeeded");
        const { rows: resumedSteps } = await db.query(
          `SELECT step_id, reused_from FROM steps WHERE run_id = $1 ORDER BY seq`,
          [resume.id],
        );
        expect(resumedSteps).toContainEqual({ step_id: "one", reused_from: victim.id });

        // Stop firing (an empty schedule reloads on every daemon) and let the running ones end.
        await sleep(1_000);
        w.writeSchedules({ jobs: jobs.map((job) => ({ ...job, enabled: false })) });
        await sleep(6_000);
        await Promise.all(others.map((d) => d.stop("SIGTERM")));
        // Anything the killed daemon left active is taken over by lease; none is left here.
        const { rows: active } = await db.query(
          `SELECT id, job, status, owner_pid FROM runs WHERE status IN ('queued','running','retrying') AND owner_pid <> $1`,
          [killed.pid],
        );
        expect(active).toEqual([]);

        const { rows: slots } = await db.query(
          `SELECT job, scheduled_for, COUNT(*)::int AS n FROM runs WHERE trigger IN ('schedule','catchup') GROUP BY job, scheduled_for HAVING COUNT(*) > 1`,
        );
        expect(slots).toEqual([]);
        const { rows: chains } = await db.query(
          `SELECT resume_of, COUNT(*)::int AS n FROM runs WHERE trigger = 'resume' GROUP BY resume_of HAVING COUNT(*) > 1`,
        );
        expect(chains).toEqual([]);
        // Runs spread: more than one daemon ran quick jobs.
        const { rows: owners } = await db.query(
          `SELECT DISTINCT owner_pid FROM runs WHERE job LIKE 'quick-%' AND status = 'succeeded'`,
        );
        expect(owners.length).toBeGreaterThan(1);
        // A step whose success was recorded is never done again. A step cut off by the kill, or by the
        // freeze past the lease (its side effect done, or done on waking, its result not recorded) is
        // done again by the resume: at-least-once, the contract for work between a step's start and its
        // record (README, "Leases and side effects"). So a line may repeat only for a slot whose chain
        // has an interrupted run of the killed or the frozen daemon that did not record that step.
        for (const [file, step] of [
          ["one.log", "one"],
          ["three.log", "three"],
          ["quick.log", "mark"],
        ] as const) {
          for (const line of new Set(duplicates(lines(join(w.dir, file))))) {
            const [job, at] = line.split("@") as [string, string];
            const { rows: cut } = await db.query(
              `SELECT r.id FROM runs r WHERE r.job = $1 AND r.scheduled_for = $2 AND r.status = 'interrupted' AND r.owner_pid IN ($4, $5)
            AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.run_id = r.id AND s.step_id = $3 AND s.status = 'succeeded')`,
              [job, Date.parse(at), step, killed.pid, frozen.pid],
            );
            const { rows: chain } = await db.query(
              `SELECT id, owner_pid, status, trigger, resume_of FROM runs WHERE job = $1 AND scheduled_for = $2 ORDER BY id`,
              [job, Date.parse(at)],
            );
            const who = `killed ${killed.pid}, frozen ${frozen.pid}; the slot's runs: ${JSON.stringify(chain)}`;
            expect(cut, `${file}: ${line} done twice though its step was recorded (${who})`).not.toEqual([]);
          }
        }
        const { rows: done } = await db.query(`SELECT COUNT(*)::int AS n FROM runs WHERE status = 'succeeded'`);
        expect(done[0].n).toBeGreaterThan(20);
      } finally {
        await db.end();
      }
    },
  );
});
