/**
 * @module runner — carries one claimed run to its final row: attempts with a timeout each, retries
 * with exponential backoff and jitter, deliveries as memoized steps (never posted twice), and
 * failure alerts. Every path ends in `finishRun`; nothing leaves a row `running`.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { DeliveryAdapter, DeliveryTarget, Env, Output } from "../types.ts";
import type { ResolvedJob } from "../config/types.ts";
import type { LoadedSkill } from "../skill/load.ts";
import { isLeaseLost, type RunOutcome, type RunStore } from "../ledger/store.ts";
import { isSkip } from "../skill/define.ts";
import { errorMessage, isRetryable } from "../errors.ts";
import { backoffMs } from "../util/backoff.ts";
import { createContext, UsageMeter } from "./context.ts";
import type { IntegrationRequest, Integrations } from "../ports/integrations.ts";

export type { IntegrationRequest } from "../ports/integrations.ts";
import { createDeliverer } from "./deliveries.ts";
import { sendAlert } from "./alerts.ts";
import type { Budget } from "../config/schema.ts";
import { capsOf } from "../budget/caps.ts";
import { budgetSkipReason, createBudgetGuard, type BudgetGuard } from "../budget/guard.ts";

export interface RunnerDeps {
  store: RunStore;
  env: Env;
  dataDir: string;
  log: Logger;
  now: () => number;
  adapters: Map<string, DeliveryAdapter>;
  /** Async so the SDKs behind it are imported only when a run needs them, not by every command. */
  integrations: (request: IntegrationRequest) => Promise<Integrations>;
  /** Where dry-run previews are printed. */
  writePreview: (text: string) => void;
  alerts: () => DeliveryTarget[];
  /** Removes secrets from text that leaves the process (alerts); see util/redact.ts. */
  scrub?: (text: string) => string;
  onStep?: (runId: number, event: { id: string; status: string; ms?: number }) => void;
  /** The top-level budget of schedules.json (all jobs together), read at each run's start. */
  budget?: () => Budget | undefined;
  /**
   * How long a timed-out run may take to stop after its signal fired (the shutdown grace) before it
   * is given up: recorded `timed_out`, its place freed and its epoch moved on so that whatever the
   * skill still writes is refused. Default 0: given up at once.
   */
  graceMs?: () => number;
}

export interface RunRequest {
  runId: number;
  job: ResolvedJob;
  skill: LoadedSkill;
  scheduledFor: number;
  /** The row's epoch from its claim: every write of the run passes it (fenced writes). */
  epoch?: number;
  /** Attempt the row is at (1 for a fresh claim). */
  attempt: number;
  /** The row already says `running` with its start time (a fresh claim): the first attempt need not write it again. */
  claimedRunning?: boolean;
  dryRun: boolean;
  resumeOf: number | null;
  /** Aborts the run when the daemon shuts down; the run is then recorded `interrupted`. */
  shutdown: AbortSignal;
  /** An operator's cancel: aborts the run (or its wait for a retry); it is recorded `cancelled`, never retried or alerted. */
  cancel?: AbortSignal;
}

const cancelledOutcome = (signal: AbortSignal): RunOutcome => ({
  status: "cancelled",
  reason: errorMessage(signal.reason),
});

/** A job whose day or month budget is spent: its slot is recorded skipped and no work starts. */
class BudgetSkip extends Error {}

class TimeoutError extends Error {
  override readonly name = "TimeoutError";
}

/**
 * Settles with `work`, unless `signal` aborts first: then `work` gets `graceMs()` more to stop (a
 * skill that honours its signal ends its step and writes what it must), and is given up after that
 * whatever it does (a skill that ignores its signal must not hold its run, its slot or its job).
 * After an abort it rejects with the abort's reason even if `work` still returned something.
 */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal, graceMs: () => number = () => 0): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let giveUp: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      const grace = graceMs();
      if (grace <= 0) reject(signal.reason);
      else giveUp = setTimeout(() => reject(signal.reason), grace);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    work
      .then(
        (value) => (signal.aborted ? reject(signal.reason) : resolve(value)),
        (error: unknown) => reject(signal.aborted && !isLeaseLost(error) ? signal.reason : error),
      )
      .finally(() => {
        signal.removeEventListener("abort", onAbort);
        clearTimeout(giveUp);
      });
  });
}

export function createRunner(deps: RunnerDeps) {
  const { store, now } = deps;
  const currentStep = new AsyncLocalStorage<string>();

  async function attemptOnce(
    request: RunRequest,
    attempt: number,
    stateSnapshot: Map<string, unknown>,
    lastSuccessAt: number | null,
    meter: UsageMeter,
    budget: BudgetGuard,
  ): Promise<RunOutcome> {
    const { job, runId, epoch } = request;
    // One signal for the attempt, aborted by its timeout, the shutdown or a cancel. Linked by hand,
    // not AbortSignal.any: that cost more than the rest of a no-op run's set-up (profile of 1,000
    // runs due together), and each call leaves a weak reference on the daemon-long shutdown signal.
    const controller = new AbortController();
    const signal = controller.signal;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new TimeoutError(`timed out after ${job.timeoutMs} ms`));
    }, job.timeoutMs);
    const sources = request.cancel ? [request.shutdown, request.cancel] : [request.shutdown];
    const onSourceAbort = (event: Event) => controller.abort((event.target as AbortSignal).reason);
    for (const source of sources) {
      if (source.aborted) controller.abort(source.reason);
      else source.addEventListener("abort", onSourceAbort, { once: true });
    }
    // The shutdown's grace was given before it aborted; a timeout or a cancel gets the grace now.
    const grace = () => (request.shutdown.aborted ? 0 : (deps.graceMs?.() ?? 0));
    const log = deps.log.child({ job: job.id, run: runId, attempt });
    const integrations = await deps.integrations({
      env: deps.env,
      job,
      signal,
      log,
      store,
      stateSnapshot,
      dryRun: request.dryRun,
      budget,
      // Written with the step's result (or with the final row), never as a write nobody awaits.
      onUsage: ({ usage, costUsd }) => meter.add(currentStep.getStore() ?? null, { usage, costUsd }),
    });
    // The deliverer keeps its deliveries as the context's memoized steps.
    const deliverer = createDeliverer({
      ...deps,
      job,
      runId,
      epoch,
      dryRun: request.dryRun,
      step: (id, fn) => ctx.step(id, fn),
      signal,
      log,
    });
    const ctx = createContext({
      store,
      runId,
      epoch,
      job: job.id,
      params: job.params,
      log,
      signal,
      dryRun: request.dryRun,
      stateSnapshot,
      integrations,
      deliver: (output) => deliverer.deliver(output, output.key as string, `output ${output.key}`),
      now,
      currentStep,
      meter,
      info: {
        id: runId,
        job: job.id,
        scheduledFor: new Date(request.scheduledFor).toISOString(),
        attempt,
        lastSuccessAt: lastSuccessAt === null ? null : new Date(lastSuccessAt).toISOString(),
      },
      onStep: deps.onStep && ((event) => deps.onStep?.(runId, event)),
    });
    try {
      const result = await raceAbort(
        Promise.resolve().then(() => request.skill.definition.run(ctx)),
        signal,
        grace,
      );
      if (isSkip(result)) return { status: "skipped", reason: result.reason };
      const outputs: Output[] = result === undefined ? [] : Array.isArray(result) ? result : [result];
      // Returned outputs go one after another, in the order the skill gave them.
      for (const [index, output] of outputs.entries()) {
        await raceAbort(
          deliverer.deliver(output, output.key ?? String(index), `output ${index + 1} of ${outputs.length}`),
          signal,
          grace,
        );
      }
      await raceAbort(deliverer.idle(), signal, grace);
      if (deliverer.count === 0) return { status: "skipped", reason: "the skill returned no output" };
      if (request.dryRun)
        return { status: "skipped", reason: `dry run: ${deliverer.count} output(s) previewed, nothing delivered` };
      return { status: "succeeded" };
    } catch (error) {
      if (isLeaseLost(error)) throw error;
      if (request.cancel?.aborted) return cancelledOutcome(request.cancel);
      if (timedOut) return { status: "timed_out", error: errorMessage(controller.signal.reason) };
      if (request.shutdown.aborted)
        return { status: "interrupted", reason: "shutdown", error: errorMessage(request.shutdown.reason) };
      throw error;
    } finally {
      clearTimeout(timer);
      for (const source of sources) source.removeEventListener("abort", onSourceAbort);
    }
  }

  /** Runs the request to its final row and returns the outcome recorded. */
  async function execute(request: RunRequest): Promise<RunOutcome> {
    const { job, runId, epoch } = request;
    const log = deps.log.child({ job: job.id, run: runId });
    let outcome: RunOutcome;
    let lost: unknown = null;
    const meter = new UsageMeter();
    // Budgets: dry and manual runs spend real money, so they count like any other.
    const guardOptions = {
      store,
      runId,
      job: job.id,
      caps: capsOf(job.budget, deps.budget?.()),
      now,
      log,
      alerts: deps,
    };
    const budget = createBudgetGuard(guardOptions);
    try {
      const skipped = guardOptions.caps.length ? await budgetSkipReason(guardOptions) : null;
      if (skipped) throw new BudgetSkip(skipped);
      if (request.resumeOf !== null) await store.copyFinishedSteps(request.resumeOf, runId);
      // Two reads at once: one round trip's wait, not two, on a networked ledger.
      const [stateSnapshot, lastSuccessAt] = await Promise.all([store.loadState(job.id), store.lastSuccessAt(job.id)]);
      const first = Math.max(1, request.attempt);
      for (let attempt = first; ; attempt++) {
        if (request.cancel?.aborted) {
          outcome = cancelledOutcome(request.cancel);
          break;
        }
        if (attempt > first || !request.claimedRunning) await store.markRunning(runId, attempt, now(), epoch);
        try {
          outcome = await attemptOnce(request, attempt, stateSnapshot, lastSuccessAt, meter, budget);
          break;
        } catch (error) {
          if (isLeaseLost(error)) throw error;
          const message = errorMessage(error);
          if (!isRetryable(error) || attempt > job.retries) {
            outcome = { status: "failed", error: message };
            break;
          }
          const wait = backoffMs(attempt - 1, job.retryBackoffMs, Math.max(job.retryBackoffMs, 3_600_000));
          log.warn({ err: message, retryInMs: wait }, "attempt failed; retrying");
          await store.markRetrying(runId, attempt, message, epoch);
          try {
            await sleep(wait, undefined, {
              signal: request.cancel ? AbortSignal.any([request.shutdown, request.cancel]) : request.shutdown,
            });
          } catch {
            outcome = request.cancel?.aborted
              ? { ...cancelledOutcome(request.cancel), error: message }
              : { status: "interrupted", reason: "shutdown", error: message };
            break;
          }
        }
      }
    } catch (error) {
      if (error instanceof BudgetSkip) {
        outcome = { status: "skipped", reason: error.message };
      } else {
        // The ledger itself failed mid-run; still try to record the run as failed.
        if (isLeaseLost(error)) lost = error;
        outcome = { status: "failed", error: `internal: ${errorMessage(error)}` };
      }
    }
    // Calls cut off mid-flight (timeout, shutdown) leave reservations: they end with the run. A run
    // without caps reserved nothing (the guard reserves only against caps): no write to make.
    if (guardOptions.caps.length)
      await store
        .releaseRunReservations(runId)
        .catch((error: unknown) =>
          log.warn(
            { err: errorMessage(error) },
            "budget reservations of the run not released; the next start-up drops them",
          ),
        );
    await budget.flush();
    if (!lost) {
      try {
        await store.finishRun(runId, outcome, now(), epoch, meter.takeAll());
      } catch (error) {
        if (!isLeaseLost(error)) throw error;
        lost = error;
      }
    }
    if (lost) {
      // Someone else decided this run's end (its lease expired and it was interrupted or taken over):
      // nothing is recorded or announced from here.
      log.warn({ err: errorMessage(lost) }, "run no longer held by this process; its outcome here is dropped");
      return { status: "interrupted", reason: "lease lost" };
    }
    const level = outcome.status === "failed" || outcome.status === "timed_out" ? "error" : "info";
    log[level](
      { status: outcome.status, reason: outcome.reason ?? undefined, err: outcome.error ?? undefined },
      `run ${outcome.status}`,
    );
    if (!request.dryRun)
      await sendAlert({ ...deps, log }, job, runId, outcome).catch((error: unknown) =>
        log.error({ err: errorMessage(error) }, "failure alert could not be sent"),
      );
    return outcome;
  }

  return { execute };
}

export type Runner = ReturnType<typeof createRunner>;
