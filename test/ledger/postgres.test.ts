/**
 * The PostgreSQL ledger (a real server: test/helpers/postgres.ts) passes the store contract, and
 * what only it has: migrations applied once by daemons opening a new database together, leases on
 * the database's clock, retried writes recorded once, and a server restart survived mid-run.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { openPostgresStore } from "../../src/ledger/postgres.ts";
import { PG_MIGRATIONS } from "../../src/ledger/postgres-schema.ts";
import type { RunStore } from "../../src/ledger/store.ts";
import { startPostgres, type TestPostgres } from "../helpers/postgres.ts";
import { runStoreContract } from "./contract.ts";

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => server?.stop(), 60_000);

runStoreContract("postgres", async (options) => {
  const url = await server.freshDatabase();
  return { store: await openPostgresStore(url, options), another: () => openPostgresStore(url, options) };
});

const owner = { pid: process.pid, instance: "a" };
const usage = { inputTokens: 1, outputTokens: 1, cacheWriteTokens: 0, cacheReadTokens: 0 };

describe("postgres ledger", () => {
  it("applies its migrations once when several daemons open a new database at once", async () => {
    const url = await server.freshDatabase();
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore(url)));
    try {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        expect((await client.query("SELECT version FROM sundial_schema")).rows).toEqual([
          { version: PG_MIGRATIONS.length },
        ]);
      } finally {
        await client.end();
      }
      const [claim] = await (stores[0] as RunStore).claimRuns(
        [{ job: "j", skill: "s", scheduledFor: 1, trigger: "schedule", overlap: "allow" }],
        owner,
        1,
      );
      expect(claim?.status).toBe("running");
    } finally {
      stores.forEach((store) => store.close());
    }
  });

  it("judges leases by the database's clock, not by the time a daemon passes", async () => {
    const url = await server.freshDatabase();
    const store = await openPostgresStore(url, { leaseMs: 60_000 });
    try {
      const [claim] = await store.claimRuns(
        [{ job: "j", skill: "s", scheduledFor: 1, trigger: "schedule", overlap: "allow" }],
        owner,
        1,
      );
      // A daemon whose clock runs an hour ahead takes nothing: the lease is judged by the server.
      expect(await store.interruptExpired({ pid: 1, instance: "fast" }, Date.now() + 3_600_000, "lease")).toEqual([]);
      expect((await store.getRun(claim?.runId as number))?.status).toBe("running");
    } finally {
      store.close();
    }
  });

  it("records a final row or step result tried again (its first answer lost) once", async () => {
    const url = await server.freshDatabase();
    const store = await openPostgresStore(url);
    try {
      const [run] = await store.claimRuns(
        [{ job: "j", skill: "s", scheduledFor: 1, trigger: "manual", overlap: "allow" }],
        owner,
        1,
      );
      const id = run?.runId as number;
      const spent = { usage, costUsd: 0.5 };
      await store.startStep(id, "a", 2, 1);
      await store.finishStep(id, "a", "r", 3, 1, spent);
      await store.finishStep(id, "a", "r", 3, 1, spent);
      await store.finishRun(id, { status: "succeeded" }, 4, 1, spent);
      await store.finishRun(id, { status: "succeeded" }, 4, 1, spent);
      const shown = await store.getRun(id);
      expect(shown?.costUsd).toBeCloseTo(1);
      expect(shown?.steps[0]?.costUsd).toBeCloseTo(0.5);
      expect(shown?.usage.inputTokens).toBe(2);
    } finally {
      store.close();
    }
  });

  it("survives a server restart mid-run: writes wait and land, nothing recorded twice", async () => {
    if (!server.restart) return; // an external server (SUNDIAL_TEST_DATABASE_URL) is not restarted
    const url = await server.freshDatabase();
    const warnings: string[] = [];
    const store = await openPostgresStore(url, { warn: (message) => warnings.push(message) });
    try {
      const [run] = await store.claimRuns(
        [{ job: "j", skill: "s", scheduledFor: 1, trigger: "schedule", overlap: "allow" }],
        owner,
        1,
      );
      const id = run?.runId as number;
      await store.startStep(id, "a", 2, 1);
      // Issued while the server is down: each is retried until it lands once it is back.
      let writes: Promise<unknown> = Promise.resolve();
      await server.restart(() => {
        writes = Promise.all([
          store.finishStep(id, "a", "kept", 3, 1, { usage, costUsd: 0.25 }),
          store.addDelivery(id, { to: "file", url: "u" }, 1),
        ]);
      });
      await writes;
      expect(warnings.some((message) => message.includes("retrying"))).toBe(true);
      await store.finishRun(id, { status: "succeeded" }, 5, 1);
      const shown = await store.getRun(id);
      expect(shown).toMatchObject({ status: "succeeded", deliveries: [{ to: "file", url: "u" }], costUsd: 0.25 });
      expect(shown?.steps.map((s) => [s.id, s.status])).toEqual([["a", "succeeded"]]);
      expect(await store.listRuns({})).toHaveLength(1);
    } finally {
      store.close();
    }
  }, 60_000);
});
