/**
 * Daemons on one PostgreSQL ledger know each other: `/healthz` `checks.nodes` lists them and turns
 * `degraded` when one runs a different schedules.json, with a warning in the logs and one alert
 * (the oldest daemon's, to the file target); a daemon that stops cleanly leaves the list.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createWorkspace, waitFor, type Workspace } from "../helpers/workspace.ts";
import { startPostgres, type TestPostgres } from "../helpers/postgres.ts";

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

const noop = `
import { defineSkill, z } from "sundial";
export default defineSkill({ name: "noop", description: "nothing", params: z.object({}), async run() { return undefined; } });
`;

type Health = { status: string; checks: { nodes: { status: string; nodes: { id: string; configHash: string }[] } } };
const health = async (url: string) => (await (await fetch(`${url}/healthz`)).json()) as Health;

describe("nodes on a shared ledger", () => {
  it(
    "reports daemons whose configuration differs in /healthz, the logs and one alert",
    { timeout: 60_000 },
    async () => {
      const url = await server.freshDatabase();
      ws = createWorkspace({ skills: { noop }, env: { SUNDIAL_DATABASE_URL: url, SUNDIAL_LEASE: "1500ms" } });
      const w = ws;
      const schedules = {
        alerts: [{ to: "file", path: "{key}.md" }],
        jobs: [{ id: "a", skill: "noop", cron: "0 0 1 1 *" }],
      };
      w.writeSchedules(schedules);
      writeFileSync(
        join(w.dir, "other.json"),
        JSON.stringify({ ...schedules, jobs: [...schedules.jobs, { id: "b", skill: "noop", cron: "0 0 1 1 *" }] }),
      );
      const first = await w.start({ SUNDIAL_DATA_DIR: join(w.dir, "data-1") });
      const second = await w.start({ SUNDIAL_DATA_DIR: join(w.dir, "data-2") });
      const same = await waitFor(
        async () => {
          const body = await health(first.url);
          return body.checks.nodes.nodes.length === 2 ? body : null;
        },
        { timeoutMs: 10_000, what: "both daemons in checks.nodes" },
      );
      expect(same.checks.nodes.status).toBe("ok");

      const third = await w.start({ SUNDIAL_DATA_DIR: join(w.dir, "data-3"), SUNDIAL_SCHEDULES: "other.json" });
      const differ = await waitFor(
        async () => {
          const body = await health(second.url);
          return body.checks.nodes.nodes.length === 3 && body.checks.nodes.status === "degraded" ? body : null;
        },
        { timeoutMs: 10_000, what: "checks.nodes degraded" },
      );
      expect(differ.status).toBe("degraded");
      expect(new Set(differ.checks.nodes.nodes.map((node) => node.configHash)).size).toBe(2);
      await waitFor(
        () => first.logs().some((log) => String(log.msg).includes("run different schedules.json or skills")),
        { timeoutMs: 10_000, what: "the warning" },
      );
      // One alert, from the oldest daemon (the first), in its data directory.
      const alerts = (dir: string) =>
        existsSync(join(dir, "deliveries"))
          ? readdirSync(join(dir, "deliveries")).map((file) => readFileSync(join(dir, "deliveries", file), "utf8"))
          : [];
      await waitFor(() => alerts(join(w.dir, "data-1")).some((text) => text.includes("different configurations")), {
        timeoutMs: 10_000,
        what: "the alert",
      });
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(alerts(join(w.dir, "data-1")).filter((text) => text.includes("different configurations"))).toHaveLength(1);
      expect(
        [...alerts(join(w.dir, "data-2")), ...alerts(join(w.dir, "data-3"))].filter((text) =>
          text.includes("different configurations"),
        ),
      ).toEqual([]);

      await third.stop("SIGTERM");
      const back = await waitFor(
        async () => {
          const body = await health(first.url);
          return body.checks.nodes.nodes.length === 2 ? body : null;
        },
        { timeoutMs: 10_000, what: "the stopped daemon gone from checks.nodes" },
      );
      expect(back.checks.nodes.status).toBe("ok");
    },
  );
});
