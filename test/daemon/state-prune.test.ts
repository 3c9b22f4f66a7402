/**
 * The daemon's retention also covers job state: a job removed from schedules.json keeps its state
 * for the retention period, then loses it; a configured job keeps its state however old.
 */
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/ledger/sqlite.ts";
import { createWorkspace, waitFor, type Workspace } from "../helpers/workspace.ts";

const idle = `
import { defineSkill, z } from "sundial";
export default defineSkill({ name: "idle", description: "never fires here", params: z.object({}), async run() { return undefined; } });
`;

let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

describe("pruning at start-up", () => {
  it(
    "deletes the state of a job no longer configured, once older than the retention period",
    { timeout: 90_000 },
    async () => {
      ws = createWorkspace({ skills: { idle } });
      const w = ws;
      w.writeSchedules({ retention: "1d", jobs: [{ id: "kept", skill: "idle", cron: "0 0 1 1 *" }] });
      const seed = openSqliteStore(w.dbFile);
      const old = Date.now() - 3 * 86_400_000;
      await seed.setState("removed", "seen", ["a"], old);
      await seed.setState("removed-yesterday-ish", "seen", ["b"], Date.now() - 3_600_000);
      await seed.setState("kept", "seen", ["c"], old);
      seed.close();

      const daemon = await w.start();
      const jobs = await waitFor(
        () => {
          const rows = w
            .query<{ job: string }>("SELECT DISTINCT job FROM job_state ORDER BY job")
            .map((row) => row.job);
          return rows.includes("removed") ? null : rows;
        },
        { what: "the removed job's state to be pruned" },
      );
      expect(jobs).toEqual(["kept", "removed-yesterday-ish"]);
      expect((await daemon.stop()).code).toBe(0);
    },
  );
});
