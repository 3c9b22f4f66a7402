/**
 * @module budget/guard — what stands between a run and Claude: before each call the call's largest
 * cost is reserved against every cap that applies (or the call is refused with a `BudgetError`),
 * after it the real cost is settled; a job whose day or month is spent is skipped before it starts;
 * each cap's 80% and spent alerts go out once per period.
 */
import type { Logger } from "pino";
import type { Usage } from "../types.ts";
import type { RunStore, SpendCap } from "../ledger/store.ts";
import { NonRetryableError, errorMessage } from "../errors.ts";
import { broadcast, type AlertDeps } from "../run/alerts.ts";
import { alertKey, capName, capTitle, dollars } from "./caps.ts";
import { resetsAt, periodKey } from "./periods.ts";

/** A call refused by a budget: never retried (a retry would be refused the same way). */
export class BudgetError extends NonRetryableError {
  override name = "BudgetError";
}

export interface CallEstimate {
  model: string;
  /** The call's largest possible cost, or null when the model's price is unknown. */
  maxCostUsd: number | null;
  inputTokens: number;
  maxTokens: number;
}

/** A reservation held for one call. */
export interface BudgetHold {
  /** The answer came: the reservation goes, the real cost (null: unknown price, counted at the reservation) is spent. */
  settle(model: string, usage: Usage, costUsd: number | null): Promise<void>;
  /** No answer: nothing spent. */
  release(): Promise<void>;
}

export interface BudgetGuard {
  /** Reserves the call's largest cost, or throws a `BudgetError` naming the cap; the call must not be made then. */
  reserve(call: CallEstimate): Promise<BudgetHold>;
  /** Settles once the budget alerts started by settled calls are sent (they never hold up the skill's call). */
  flush(): Promise<void>;
}

export interface GuardOptions {
  store: RunStore;
  runId: number;
  job: string;
  caps: SpendCap[];
  now: () => number;
  log: Logger;
  /** Where the 80% and spent alerts go (the run's alert targets); none in tests that do not care. */
  alerts?: AlertDeps;
}

export function createBudgetGuard(options: GuardOptions): BudgetGuard {
  const { store, runId, job, caps, now, log } = options;
  const alerting = new Set<Promise<void>>();
  const holdFor = (id: number | null, call: CallEstimate) =>
    createHold(id, call, options, (sending) => {
      alerting.add(sending);
      void sending.finally(() => alerting.delete(sending));
    });
  return {
    async flush() {
      while (alerting.size) await Promise.all(alerting);
    },
    async reserve(call) {
      const at = now();
      if (call.maxCostUsd === null) {
        if (caps.length)
          throw new BudgetError(
            `budget ${capTitle(caps[0] as SpendCap, job)}: model "${call.model}" has no known price, so what this call could cost cannot be bounded; the call was not made. Use a model listed in src/integrations/claude/pricing.ts`,
          );
        // No cap to keep: the spend is still recorded when the answer comes.
        return holdFor(null, call);
      }
      if (!caps.length) return holdFor(null, call);
      const result = await store.reserveSpend({ runId, job, amountUsd: call.maxCostUsd, now: at, caps });
      if (result.reserved) return holdFor(result.id, call);
      const { cap, spentUsd, reservedUsd } = result;
      if (cap.period !== "run")
        await announce(options, cap, at, 100).catch((error: unknown) =>
          log.error({ err: errorMessage(error) }, "budget alert could not be sent"),
        );
      const left = Math.max(0, cap.limitUsd - spentUsd - reservedUsd);
      const inFlight = reservedUsd > 0 ? ` and ${dollars(reservedUsd)} reserved by calls in flight` : "";
      const period =
        cap.period === "run"
          ? "this run (its retries and resumes included)"
          : cap.period === "day"
            ? `UTC day ${periodKey("day", at)}`
            : `UTC month ${periodKey("month", at)}`;
      throw new BudgetError(
        `budget ${capTitle(cap, job)} (${dollars(cap.limitUsd)}): ${dollars(spentUsd)} spent${inFlight} in ${period}, ${dollars(left)} left; ` +
          `this Claude call could cost up to ${dollars(call.maxCostUsd)} (${call.model}: at most ${call.inputTokens} input tokens, maxTokens ${call.maxTokens}), so it was not made`,
      );
    },
  };
}

function createHold(
  id: number | null,
  call: CallEstimate,
  options: GuardOptions,
  track: (sending: Promise<void>) => void,
): BudgetHold {
  const { store, runId, job, now, caps, log } = options;
  let done = false;
  return {
    async settle(model, usage, costUsd) {
      if (done) return;
      done = true;
      const at = now();
      try {
        await store.settleSpend(id ?? -1, {
          runId,
          job,
          model,
          usage,
          costUsd: costUsd ?? call.maxCostUsd ?? 0,
          now: at,
        });
      } catch (error) {
        // The answer is paid for and must reach the skill (failing here would retry the call and pay
        // twice); the reservation then stands, over-counting, until the run ends.
        log.error(
          { err: errorMessage(error), job, run: runId },
          "the call's spend could not be recorded in the ledger",
        );
        return;
      }
      // Alerts go out beside the skill's work: a slow alert target does not hold up the answer.
      const levels = caps.filter((cap) => cap.period !== "run");
      if (levels.length) {
        track(
          (async () => {
            for (const cap of levels) await checkLevels(options, cap, at);
          })().catch((error: unknown) => log.error({ err: errorMessage(error) }, "budget alert could not be sent")),
        );
      }
    },
    async release() {
      if (done) return;
      done = true;
      // A failed release only over-counts until the run ends (its reservations go then): never worth
      // hiding the call's own error behind.
      if (id !== null)
        await store
          .releaseSpend(id)
          .catch((error: unknown) =>
            log.warn(
              { err: errorMessage(error), job, run: runId },
              "a budget reservation was not released; it goes when the run ends",
            ),
          );
    },
  };
}

/** Sends the 80% and spent alerts of `cap` that its spend has reached and that were not sent yet. */
async function checkLevels(options: GuardOptions, cap: SpendCap, at: number): Promise<void> {
  const use = await options.store.spendUse(cap, options.job, at);
  if (use.spentUsd >= cap.limitUsd * 0.8) await announce(options, cap, at, 80);
  if (use.spentUsd >= cap.limitUsd - 1e-9) await announce(options, cap, at, 100);
}

/** Sends the alert of `cap` at `level` once per period: the ledger's claim decides who sends it. */
async function announce(options: GuardOptions, cap: SpendCap, at: number, level: 80 | 100): Promise<void> {
  if (cap.period === "run") return;
  const { store, job } = options;
  if (!(await store.claimBudgetAlert(alertKey(cap, job, at, level), at))) return;
  const use = await store.spendUse(cap, job, at);
  const when = resetsAt(cap.period, at);
  const whose = cap.scope === "all" ? "every job" : `job ${job}`;
  const title =
    level === 80 ? `Sundial: budget ${capTitle(cap, job)} at 80%` : `Sundial: budget ${capTitle(cap, job)} spent`;
  const markdown =
    level === 80
      ? `${dollars(use.spentUsd)} of ${dollars(cap.limitUsd)} spent this UTC ${cap.period} (${periodKey(cap.period, at)}). It resets ${when}.`
      : `${dollars(use.spentUsd)} of ${dollars(cap.limitUsd)} spent this UTC ${cap.period} (${periodKey(cap.period, at)}): slots of ${whose} are skipped, reason "budget: ${capName(cap)}", until it resets ${when}.`;
  options.log.warn(
    { job, budget: capName(cap), spentUsd: use.spentUsd, limitUsd: cap.limitUsd, level },
    "budget alert",
  );
  if (options.alerts)
    await broadcast(options.alerts, { id: job }, options.runId, {
      title,
      markdown,
      key: `budget-${alertKey(cap, job, at, level)}`,
    });
}

/**
 * Why a job's run must not start: a day or month cap that is spent (reached, or a call was refused
 * for it this period), as `budget: <which>, resets <when>`; null when every cap has room.
 */
export async function budgetSkipReason(options: GuardOptions): Promise<string | null> {
  const at = options.now();
  for (const cap of options.caps) {
    if (cap.period === "run") continue;
    const use = await options.store.spendUse(cap, options.job, at);
    const spent =
      use.spentUsd >= cap.limitUsd - 1e-9 || (await options.store.hasBudgetAlert(alertKey(cap, options.job, at, 100)));
    if (!spent) continue;
    await announce(options, cap, at, 100).catch((error: unknown) =>
      options.log.error({ err: errorMessage(error) }, "budget alert could not be sent"),
    );
    return `budget: ${capName(cap)}, resets ${resetsAt(cap.period, at)}`;
  }
  return null;
}
