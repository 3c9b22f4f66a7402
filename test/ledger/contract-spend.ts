/**
 * The spend and budget part of the RunStore contract (run by contract.ts, so by both stores): a
 * reservation past a cap is refused and names the cap, settled spend and open reservations both
 * count, reservations from two handles at once never together pass a cap, a call settled without
 * a reservation (no cap) or after its run's reservations were released (a late answer) still
 * counts, and a settle repeated after its first answer was lost counts once.
 */
import { describe, expect, it } from "vitest";
import type { RunStore, SpendCap } from "../../src/ledger/store.ts";

const owner = { pid: process.pid, instance: "spender" };
const usage = { inputTokens: 10, outputTokens: 20, cacheWriteTokens: 0, cacheReadTokens: 0 };
const DAY = Date.UTC(2026, 11, 3, 12);
const dayCap: SpendCap = { scope: "all", period: "day", limitUsd: 1 };

export function spendContract(ledger: () => Promise<{ store: RunStore; another(): Promise<RunStore> }>): void {
  describe("spend and budgets", () => {
    async function runOf(store: RunStore, at = DAY): Promise<number> {
      const [claim] = await store.claimRuns(
        [{ job: "j", skill: "s", scheduledFor: at, trigger: "manual", overlap: "allow" }],
        owner,
        at,
      );
      return claim?.runId as number;
    }
    const settlement = (runId: number, costUsd: number) => ({ runId, job: "j", model: "m", usage, costUsd, now: DAY });

    it("refuses a reservation past the cap, naming it, and counts settled spend and open reservations", async () => {
      const { store } = await ledger();
      const runId = await runOf(store);
      const first = await store.reserveSpend({ runId, job: "j", amountUsd: 0.625, now: DAY, caps: [dayCap] });
      expect(first.reserved).toBe(true);
      expect(await store.reserveSpend({ runId, job: "j", amountUsd: 0.5, now: DAY, caps: [dayCap] })).toEqual({
        reserved: false,
        cap: dayCap,
        spentUsd: 0,
        reservedUsd: 0.625,
      });
      await store.settleSpend((first as { id: number }).id, settlement(runId, 0.25));
      expect(await store.spendUse(dayCap, "j", DAY)).toEqual({ spentUsd: 0.25, reservedUsd: 0 });
      // Exactly up to the cap fits; a cent more does not.
      expect((await store.reserveSpend({ runId, job: "j", amountUsd: 0.75, now: DAY, caps: [dayCap] })).reserved).toBe(
        true,
      );
      expect(await store.reserveSpend({ runId, job: "j", amountUsd: 0.01, now: DAY, caps: [dayCap] })).toMatchObject({
        reserved: false,
        spentUsd: 0.25,
        reservedUsd: 0.75,
      });
    });

    it("never lets concurrent reservations from two handles pass a cap together", async () => {
      const { store, another } = await ledger();
      const other = await another();
      const runId = await runOf(store);
      const attempts = Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? store : other).reserveSpend({ runId, job: "j", amountUsd: 0.125, now: DAY, caps: [dayCap] }),
      );
      const results = await Promise.all(attempts);
      expect(results.filter((result) => result.reserved)).toHaveLength(8);
      expect(await store.spendUse(dayCap, "j", DAY)).toEqual({ spentUsd: 0, reservedUsd: 1 });
    });

    it("counts a call settled without a reservation, or after its run's reservations were released", async () => {
      const { store } = await ledger();
      const runId = await runOf(store);
      // No cap: nothing was reserved (id -1), the spend is still recorded.
      await store.settleSpend(-1, settlement(runId, 0.25));
      const late = await store.reserveSpend({ runId, job: "j", amountUsd: 0.5, now: DAY, caps: [dayCap] });
      // The run ended (its reservations released) before the call's answer came: it was paid for.
      expect(await store.releaseRunReservations(runId)).toBe(1);
      await store.settleSpend((late as { id: number }).id, settlement(runId, 0.125));
      expect(await store.spendUse(dayCap, "j", DAY)).toEqual({ spentUsd: 0.375, reservedUsd: 0 });
      const perRun: SpendCap = { scope: "job", period: "run", limitUsd: 1 };
      expect(await store.spendUse(perRun, "j", DAY, runId)).toEqual({ spentUsd: 0.375, reservedUsd: 0 });
      expect(await store.listSpend({})).toEqual([
        {
          job: "j",
          day: "2026-12-03",
          model: "m",
          calls: 2,
          usage: { ...usage, inputTokens: 20, outputTokens: 40 },
          costUsd: 0.375,
        },
      ]);
    });

    // A store that retries a write through a lost connection may repeat one whose commit landed; an
    // SQLite commit is local and never repeated once it landed (sqlite-retry.ts retries only refused writes).
    it("records a settle repeated after its first answer was lost once (a networked store)", async (context) => {
      const { store } = await ledger();
      if (!store.shared) return context.skip();
      const runId = await runOf(store);
      const held = await store.reserveSpend({ runId, job: "j", amountUsd: 0.5, now: DAY, caps: [dayCap] });
      const id = (held as { id: number }).id;
      // The same write twice: what a store that retries through a lost connection may do.
      await store.settleSpend(id, settlement(runId, 0.25));
      await store.settleSpend(id, settlement(runId, 0.25));
      expect(await store.spendUse(dayCap, "j", DAY)).toEqual({ spentUsd: 0.25, reservedUsd: 0 });
      expect((await store.listSpend({}))[0]?.calls).toBe(1);
    });
  });
}
