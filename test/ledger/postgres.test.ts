/**
 * The PostgreSQL ledger (a real server: test/helpers/postgres.ts) passes the store contract, and
 * what only it has: migrations applied once by daemons opening a new database together, leases on
 * the database's clock, retried writes recorded once, and a server restart survived mid-run.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { openPostgresStore } from "../../src/ledger/postgres.ts";
import { claimChunk, claimChunkAgain } from "../../src/ledger/postgres-claims.ts";
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

  it("takes its own rows when a claim is tried again after its commit landed (its answer lost)", async () => {
    const url = await server.freshDatabase();
    // bigint as numbers, as the store's own pool reads them.
    const getTypeParser = ((oid: number, format?: string) =>
      oid === 20 ? Number : pg.types.getTypeParser(oid, format as "text")) as pg.CustomTypesConfig["getTypeParser"];
    const pool = new pg.Pool({ connectionString: url, types: { getTypeParser } });
    const store = await openPostgresStore(url);
    try {
      const claims = [
        { job: "a", skill: "s", scheduledFor: 1_000, trigger: "schedule" as const, overlap: "skip" as const },
        { job: "b", skill: "s", scheduledFor: 1_000, trigger: "manual" as const, overlap: "allow" as const },
        { job: "c", skill: "s", scheduledFor: 1_000, trigger: "schedule" as const, overlap: "allow" as const },
      ];
      const tx = async <T>(work: (client: pg.PoolClient) => Promise<T>) => {
        const client = await pool.connect();
        try {
          await client.query("BEGIN");
          const result = await work(client);
          await client.query("COMMIT");
          return result;
        } finally {
          client.release();
        }
      };
      const ctx = { claims, owner, now: 1_000, leaseMs: 30_000, dbNow: "0", pool, tx };
      // The first try landed; slot c was claimed by another daemon meanwhile.
      const first = await claimChunk(ctx, [0, 1], 2);
      await store.claimRuns([claims[2] as (typeof claims)[number]], { pid: 2, instance: "other" }, 1_000);
      const again = await claimChunkAgain(ctx, [0, 1, 2], 2);
      expect(again.slice(0, 2)).toEqual(first);
      expect(first.map((result) => result.status)).toEqual(["running", "running"]);
      expect(again[2]).toEqual({ runId: null, status: "duplicate" });
      expect((await store.listRuns({ limit: 10 })).map((run) => run.job).sort()).toEqual(["a", "b", "c"]);
    } finally {
      store.close();
      await pool.end();
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
