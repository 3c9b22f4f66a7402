/**
 * The contract every RunStore passes (SQLite and PostgreSQL run it: sqlite.test.ts,
 * postgres.test.ts): one row per slot across handles, overlap, steps reused on resume with bytes
 * intact, usage, alerts once per streak, retention, state, leases and fenced writes. Lease expiry
 * is judged by real time here (PostgreSQL judges it by the database's clock, not by the `now` given).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { LeaseLostError, type RunStore } from "../../src/ledger/store.ts";
import { spendContract } from "./contract-spend.ts";

export interface OpenedStore {
  store: RunStore;
  /** Another handle on the same ledger (another process, another daemon). */
  another(): Promise<RunStore>;
}
export type StoreFactory = (options?: { leaseMs?: number }) => Promise<OpenedStore>;

const owner = { pid: process.pid, instance: "a" };
const holder = { pid: process.pid, instance: "holder" };
const daemon = { pid: process.pid, instance: "daemon" };
const usage = { inputTokens: 1, outputTokens: 1, cacheWriteTokens: 0, cacheReadTokens: 0 };

export function runStoreContract(name: string, factory: StoreFactory): void {
  describe(`RunStore contract: ${name}`, () => {
    const opened: RunStore[] = [];
    afterEach(() => opened.splice(0).forEach((store) => store.close()));
    async function ledger(options?: { leaseMs?: number }) {
      const result = await factory(options);
      opened.push(result.store);
      return {
        store: result.store,
        another: async () => {
          const other = await result.another();
          opened.push(other);
          return other;
        },
      };
    }

    it("gives a slot one row even when two handles on the same ledger claim it", async () => {
      const { store, another } = await ledger();
      const other = await another();
      const claim = {
        job: "j",
        skill: "s",
        scheduledFor: 1_000,
        trigger: "schedule" as const,
        overlap: "allow" as const,
      };
      const [first] = await store.claimRuns([claim], owner, 5);
      const [second] = await other.claimRuns([claim], { pid: 1, instance: "b" }, 6);
      expect(first?.status).toBe("running");
      expect(second?.status).toBe("duplicate");
      expect(await store.listRuns({ job: "j" })).toHaveLength(1);
      // A manual run for the same instant is not a slot, so it is allowed.
      const [manual] = await other.claimRuns([{ ...claim, trigger: "manual" }], owner, 7);
      expect(manual?.status).toBe("running");
    });

    it("gives each of many slots claimed at once by two handles exactly one row", async () => {
      const { store, another } = await ledger();
      const other = await another();
      const claims = Array.from({ length: 40 }, (_, i) => ({
        job: `j${i % 4}`,
        skill: "s",
        scheduledFor: 1_000 * i,
        trigger: "schedule" as const,
        overlap: "allow" as const,
      }));
      const [a, b] = await Promise.all([
        store.claimRuns(claims, owner, 1),
        other.claimRuns([...claims].reverse(), { pid: 1, instance: "b" }, 1),
      ]);
      const won = [...(a ?? []), ...(b ?? [])].filter((result) => result.status !== "duplicate");
      expect(won).toHaveLength(40);
      expect(await store.listRuns({ limit: 100 })).toHaveLength(40);
    });

    it("applies overlap skip and queue against active runs, and capacity, with reasons", async () => {
      const { store } = await ledger();
      const base = { job: "j", skill: "s", trigger: "schedule" as const, overlap: "skip" as const };
      const [a] = await store.claimRuns([{ ...base, scheduledFor: 1000 }], owner, 1000);
      const [b] = await store.claimRuns([{ ...base, scheduledFor: 2000 }], owner, 2000);
      expect(a?.status).toBe("running");
      expect(b).toMatchObject({ status: "skipped", reason: `overlap: run #${a?.runId} of this job is still running` });
      const queue = { ...base, job: "q", overlap: "queue" as const };
      const [q1, q2, q3] = await store.claimRuns(
        [
          { ...queue, scheduledFor: 1 },
          { ...queue, scheduledFor: 2 },
          { ...queue, scheduledFor: 3 },
        ],
        owner,
        3,
      );
      expect([q1?.status, q2?.status, q3?.status]).toEqual(["running", "queued", "skipped"]);
      const free = { ...base, overlap: "allow" as const };
      // Which of two jobs gets the one free slot is the store's choice (PostgreSQL spreads jobs across daemons).
      const results = await store.claimRuns(
        [
          { ...free, job: "x", scheduledFor: 1 },
          { ...free, job: "y", scheduledFor: 1 },
        ],
        owner,
        1,
        1,
      );
      expect(results.map((r) => r.status).sort()).toEqual(["queued", "running"]);
      expect(results.find((r) => r.status === "queued")).toMatchObject({
        reason: "waiting for a free run slot (maxConcurrentRuns)",
      });
      expect((await store.activeRuns("q")).map((r) => r.status)).toEqual(["running", "queued"]);
    });

    it("records unrun slots once and keeps the catch-up cursor", async () => {
      const { store } = await ledger();
      expect((await store.jobCursors(["j"], 500)).get("j")).toBe(500);
      const rows = [
        { job: "j", skill: "s", scheduledFor: 1_000, status: "missed" as const, reason: "outside the window" },
      ];
      expect(await store.recordUnrun(rows, 2_000)).toBe(1);
      expect(await store.recordUnrun(rows, 2_000)).toBe(0);
      expect(await store.jobCursors(["j", "new"], 3_000)).toEqual(
        new Map([
          ["j", 1_000],
          ["new", 3_000],
        ]),
      );
      expect((await store.listRuns({ job: "j" }))[0]).toMatchObject({
        status: "missed",
        reason: "outside the window",
        finishedAt: new Date(2_000).toISOString(),
      });
    });

    it("copies finished steps into a resumed run and keeps bytes intact", async () => {
      const { store } = await ledger();
      const [run] = await store.claimRuns(
        [{ job: "j", skill: "s", scheduledFor: 1, trigger: "schedule", overlap: "skip" }],
        owner,
        1,
      );
      const id = run?.runId as number;
      await store.startStep(id, "image", 2);
      await store.finishStep(id, "image", { png: new Uint8Array([137, 80, 78, 71]) }, 3);
      await store.startStep(id, "write", 4);
      await store.finishRun(id, { status: "interrupted", reason: "crash" }, 5);
      expect((await store.resumableRuns(0)).map((r) => r.id)).toEqual([id]);
      const [resume] = await store.claimRuns(
        [{ job: "j", skill: "s", scheduledFor: 1, trigger: "resume", overlap: "skip", resumeOf: id }],
        owner,
        6,
      );
      const resumeId = resume?.runId as number;
      expect(await store.copyFinishedSteps(id, resumeId)).toBe(1);
      const step = await store.getStep(resumeId, "image");
      expect((step?.result as { png: Uint8Array }).png).toEqual(new Uint8Array([137, 80, 78, 71]));
      expect(await store.getStep(resumeId, "write")).toBeNull();
      expect(await store.resumableRuns(0)).toEqual([]);
      const shown = await store.getRun(resumeId);
      expect(shown?.steps[0]).toMatchObject({ id: "image", reusedFrom: id });
      expect(shown).toMatchObject({ trigger: "resume", resumeOf: id });
    });

    it("sums usage per step and per run, and an unknown price makes the run's cost unknown", async () => {
      const { store } = await ledger();
      const [run] = await store.claimRuns(
        [{ job: "j", skill: "s", scheduledFor: 1, trigger: "manual", overlap: "allow" }],
        owner,
        1,
      );
      const id = run?.runId as number;
      await store.startStep(id, "a", 1);
      await store.addUsage(
        id,
        "a",
        { inputTokens: 10, outputTokens: 5, cacheWriteTokens: 100, cacheReadTokens: 0 },
        0.5,
      );
      await store.addUsage(
        id,
        null,
        { inputTokens: 1, outputTokens: 1, cacheWriteTokens: 0, cacheReadTokens: 50 },
        0.25,
      );
      let shown = await store.getRun(id);
      expect(shown?.usage).toEqual({ inputTokens: 11, outputTokens: 6, cacheWriteTokens: 100, cacheReadTokens: 50 });
      expect(shown?.costUsd).toBeCloseTo(0.75);
      await store.finishStep(id, "a", "r", 2, 1, {
        usage: { inputTokens: 2, outputTokens: 0, cacheWriteTokens: 0, cacheReadTokens: 0 },
        costUsd: 0.25,
      });
      shown = await store.getRun(id);
      expect(shown?.steps[0]).toMatchObject({
        id: "a",
        status: "succeeded",
        usage: { inputTokens: 12, outputTokens: 5, cacheWriteTokens: 100, cacheReadTokens: 0 },
      });
      expect(shown?.costUsd).toBeCloseTo(1);
      await store.addUsage(id, "a", { inputTokens: 1, outputTokens: 1, cacheWriteTokens: 0, cacheReadTokens: 0 }, null);
      shown = await store.getRun(id);
      expect(shown?.costUsd).toBeNull();
    });

    it("records deliveries in order, state, and the last success", async () => {
      const { store } = await ledger();
      const [run] = await store.claimRuns(
        [{ job: "j", skill: "s", scheduledFor: 1, trigger: "manual", overlap: "allow" }],
        owner,
        1,
      );
      const id = run?.runId as number;
      await store.addDelivery(id, { to: "file", url: "file:///a" }, 1);
      await store.addDelivery(id, { to: "discord", detail: { ids: ["1"] } });
      await store.setState("j", "seen", { items: [1, 2], bytes: new Uint8Array([1]) }, 2, { runId: id, epoch: 1 });
      await store.setState("j", "seen", { items: [3] }, 3);
      expect(await store.loadState("j")).toEqual(new Map([["seen", { items: [3] }]]));
      expect(await store.lastSuccessAt("j")).toBeNull();
      await store.finishRun(id, { status: "succeeded" }, 9_000, 1);
      expect(await store.lastSuccessAt("j")).toBe(9_000);
      expect((await store.getRun(id))?.deliveries).toEqual([
        { to: "file", url: "file:///a", status: "succeeded", error: null },
        { to: "discord", url: null, status: "succeeded", error: null },
      ]);
      expect(await store.previousOutcome("j", id + 1)).toBe("succeeded");
    });

    it("alerts once per failure streak", async () => {
      const { store } = await ledger();
      const runs: number[] = [];
      for (let i = 0; i < 4; i++) {
        const [run] = await store.claimRuns(
          [{ job: "j", skill: "s", scheduledFor: i, trigger: "schedule", overlap: "allow" }],
          owner,
          i,
        );
        runs.push(run?.runId as number);
      }
      const [r1, r2, r3, r4] = runs as [number, number, number, number];
      await store.finishRun(r1, { status: "failed", error: "x" }, 1);
      expect(await store.shouldAlert("j", r1)).toBe(true);
      await store.markAlerted(r1, 1);
      await store.finishRun(r2, { status: "failed", error: "x" }, 2);
      expect(await store.shouldAlert("j", r2)).toBe(false);
      await store.finishRun(r3, { status: "succeeded" }, 3);
      await store.finishRun(r4, { status: "failed", error: "y" }, 4);
      expect(await store.shouldAlert("j", r4)).toBe(true);
    });

    it("prunes old runs but keeps the catch-up cursor past them, and prunes the state of removed jobs", async () => {
      const { store } = await ledger();
      await store.jobCursors(["j"], 0);
      const [run] = await store.claimRuns(
        [{ job: "j", skill: "s", scheduledFor: 5_000, trigger: "schedule", overlap: "allow" }],
        owner,
        5_000,
      );
      await store.finishRun(run?.runId as number, { status: "succeeded" }, 6_000);
      expect(await store.prune(10_000)).toBe(1);
      expect(await store.listRuns({})).toHaveLength(0);
      expect((await store.jobCursors(["j"], 20_000)).get("j")).toBe(5_000);
      await store.setState("gone", "k", 1, 1_000);
      await store.setState("j", "k", 1, 1_000);
      expect(await store.pruneState(["j"], 2_000)).toBe(1);
      expect((await store.loadState("gone")).size).toBe(0);
      expect((await store.loadState("j")).size).toBe(1);
    });

    it("interrupts a row whose lease expired, moves its epoch on and refuses every later write of its old holder", async () => {
      const { store } = await ledger({ leaseMs: 1_000 });
      const [claim] = await store.claimRuns(
        [{ job: "j", skill: "s", scheduledFor: 1_000, trigger: "schedule", overlap: "skip" }],
        holder,
        Date.now(),
      );
      if (claim?.status !== "running") throw new Error("expected a running claim");
      const { runId, epoch } = claim;
      await store.startStep(runId, "a", 1_001, epoch);
      await store.finishStep(runId, "a", "done", 1_002, epoch);
      expect(await store.interruptExpired(daemon, Date.now(), "lease")).toEqual([]);
      await sleep(1_200);
      const taken = await store.interruptExpired(daemon, Date.now(), "lease expired");
      expect(taken).toEqual([{ id: runId, job: "j", ownerPid: holder.pid, ownerInstance: "holder" }]);
      expect(await store.getRun(runId)).toMatchObject({ status: "interrupted", reason: "lease expired" });
      // Taken once: a second daemon looking now finds nothing.
      expect(await store.interruptExpired({ pid: 1, instance: "third" }, Date.now(), "lease")).toEqual([]);

      const refused = [
        store.startStep(runId, "b", 2, epoch),
        store.finishStep(runId, "a", "again", 2, epoch),
        store.failStep(runId, "a", "no", 2, epoch),
        store.addUsage(runId, "a", usage, 1, epoch),
        store.addDelivery(runId, { to: "stdout" }, epoch),
        store.setState("j", "k", "v", 2, { runId, epoch }),
        store.markRunning(runId, 2, 2, epoch),
        store.markRetrying(runId, 2, "boom", epoch),
        store.finishRun(runId, { status: "succeeded" }, 2, epoch),
      ];
      const settled = await Promise.allSettled(refused);
      expect(
        settled.map((result) =>
          result.status === "rejected" && result.reason instanceof LeaseLostError ? "refused" : result.status,
        ),
      ).toEqual(refused.map(() => "refused"));
      const after = await store.getRun(runId);
      expect(after).toMatchObject({ status: "interrupted", costUsd: 0, deliveries: [] });
      expect(after?.steps.map((step) => [step.id, step.status])).toEqual([["a", "succeeded"]]);
      expect((await store.loadState("j")).has("k")).toBe(false);
      expect((await store.resumableRuns(0)).map((run) => run.id)).toEqual([runId]);
    });

    it("keeps a row its holder renews, never takes the caller's own rows, and takes a provably gone holder's at once", async () => {
      const { store } = await ledger({ leaseMs: 1_000 });
      const [a] = await store.claimRuns(
        [{ job: "a", skill: "s", scheduledFor: 1_000, trigger: "schedule", overlap: "skip" }],
        holder,
        Date.now(),
      );
      const [b] = await store.claimRuns(
        [{ job: "b", skill: "s", scheduledFor: 1_000, trigger: "schedule", overlap: "skip" }],
        daemon,
        Date.now(),
      );
      await sleep(700);
      expect(await store.renewLeases(holder, Date.now())).toBe(1);
      await sleep(500);
      // a: renewed 0.5 s ago; b: the caller's own row, never taken from itself.
      expect(await store.interruptExpired(daemon, Date.now(), "lease")).toEqual([]);
      await sleep(700);
      expect((await store.interruptExpired(daemon, Date.now(), "lease")).map((run) => run.id)).toEqual([a?.runId]);

      const [c] = await store.claimRuns(
        [{ job: "c", skill: "s", scheduledFor: 1_000, trigger: "schedule", overlap: "skip" }],
        { pid: 999_999, instance: "dead" },
        Date.now(),
      );
      expect(
        (await store.interruptExpired(daemon, Date.now(), "gone", (o) => o.instance === "dead")).map((run) => run.id),
      ).toEqual([c?.runId]);
      expect((await store.getRun(b?.runId as number))?.status).toBe("running");
    });

    it("lists the daemons by their heartbeats, drops one silent for 24 h, and removes one that stopped", async () => {
      const { store, another } = await ledger();
      const other = await another();
      const node = (id: string, heartbeatAt: number, configHash = "h1") => ({
        id,
        host: "box",
        pid: 1,
        version: "0.1.0",
        startedAt: 1_000,
        heartbeatAt,
        configHash,
      });
      const day = 86_400_000;
      await store.heartbeat(node("old", 1_000));
      await other.heartbeat(node("b", 2_000, "h2"));
      await store.heartbeat(node("a", day + 1_500));
      expect((await other.listNodes(day + 1_500)).map((n) => [n.id, n.configHash, n.heartbeatAt])).toEqual([
        ["a", "h1", day + 1_500],
        ["b", "h2", 2_000],
      ]);
      await store.heartbeat(node("a", day + 3_000));
      await other.removeNode("a");
      // "b" was last heard 24 h before "a"'s second heartbeat: dropped.
      expect(await store.listNodes(day + 3_000)).toEqual([]);
    });

    it("records each delivery by its step (a redelivery updates the same row) and sums them up", async () => {
      const { store } = await ledger();
      const [run] = await store.claimRuns(
        [{ job: "j", skill: "s", scheduledFor: 1, trigger: "schedule", overlap: "allow" }],
        owner,
        1,
      );
      const id = run?.runId as number;
      await store.recordDelivery(id, "deliver:a:file", { to: "file", url: "u", status: "succeeded" }, 1);
      await store.recordDelivery(id, "deliver:a:discord", { to: "discord", status: "failed", error: "503" }, 1);
      expect(await store.getRun(id)).toMatchObject({
        delivery: "partial",
        deliveries: [
          { to: "file", status: "succeeded" },
          { to: "discord", status: "failed", error: "503" },
        ],
      });
      await store.recordDelivery(id, "deliver:a:discord", { to: "discord", url: "d", status: "succeeded" }, 1);
      expect(await store.getRun(id)).toMatchObject({
        delivery: "delivered",
        deliveries: [{ to: "file" }, { to: "discord", url: "d", status: "succeeded", error: null }],
      });
      expect((await store.slotRun("j", 1))?.id).toBe(id);
      expect(await store.slotRun("j", 2)).toBeNull();
    });

    it("keeps pauses, cancels only queued runs, pages runs by id, and reclaims a finished run under a new epoch", async () => {
      const { store, another } = await ledger();
      await store.setPause("j", "first", 1);
      await store.setPause("j", "second", 2);
      expect(await (await another()).pauses()).toEqual(new Map([["j", { reason: "second", pausedAt: 1 }]]));
      expect(await store.clearPause("j")).toBe(true);
      expect(await store.clearPause("j")).toBe(false);
      const q = { job: "q", skill: "s", trigger: "schedule" as const, overlap: "queue" as const };
      const [running, queued] = await store.claimRuns(
        [
          { ...q, scheduledFor: 1 },
          { ...q, scheduledFor: 2 },
        ],
        owner,
        1,
      );
      expect(await store.cancelQueued(running?.runId as number, "no", 3)).toBe(false);
      expect(await store.cancelQueued(queued?.runId as number, "by an operator", 3)).toBe(true);
      expect((await store.getRun(queued?.runId as number))?.status).toBe("cancelled");
      expect((await store.listRuns({ before: queued?.runId as number })).map((r) => r.id)).toEqual([running?.runId]);
      await store.finishRun(running?.runId as number, { status: "succeeded" }, 4, 1);
      // The final row moved the epoch on (1 → 2, fencing the finished run's late writes); the reclaim moves it again.
      const epoch = await store.reclaimRun(running?.runId as number, { pid: 2, instance: "b" }, 5);
      expect(epoch).toBe(3);
      await expect(store.addDelivery(running?.runId as number, { to: "stdout" }, 1)).rejects.toBeInstanceOf(
        LeaseLostError,
      );
      await store.addDelivery(running?.runId as number, { to: "stdout" }, epoch);
    });

    spendContract(ledger);
  });
}
