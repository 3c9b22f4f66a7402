/**
 * @module context — builds the `ctx` a skill's `run(ctx)` receives: memoized steps stored in the
 * ledger, per-job state, parallel-with-limit, and the integrations. The step in progress is tracked
 * with AsyncLocalStorage so usage from parallel Claude calls lands on the right step.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import pLimit from "p-limit";
import type { Logger } from "pino";
import type { JobState, Output, ParallelOptions, Receipt, RunInfo, SkillContext } from "../types.ts";
import type { RunStore, StepUsage } from "../ledger/store.ts";
import { decodeValue, encodeValue } from "../util/json.ts";
import { errorMessage, MisuseError } from "../errors.ts";
import type { Integrations } from "../ports/integrations.ts";

/**
 * What Claude cost, per step (and outside any step, under `null`), kept in memory until the step's
 * result is written: the usage then lands in the same transaction as the result, so a crash or a
 * failed write cannot keep a result whose cost is missing (nor a cost without its result).
 */
export class UsageMeter {
  private readonly pending = new Map<string | null, StepUsage>();

  add(stepId: string | null, record: StepUsage): void {
    const before = this.pending.get(stepId);
    if (!before) {
      this.pending.set(stepId, { usage: { ...record.usage }, costUsd: record.costUsd });
      return;
    }
    const { usage } = before;
    usage.inputTokens += record.usage.inputTokens;
    usage.outputTokens += record.usage.outputTokens;
    usage.cacheWriteTokens += record.usage.cacheWriteTokens;
    usage.cacheReadTokens += record.usage.cacheReadTokens;
    // An unknown price makes the total unknown.
    before.costUsd = before.costUsd === null || record.costUsd === null ? null : before.costUsd + record.costUsd;
  }

  /** The step's usage not yet written, now owned by the caller's write. */
  take(stepId: string | null): StepUsage | undefined {
    const found = this.pending.get(stepId);
    this.pending.delete(stepId);
    return found;
  }

  /** Everything not yet written (usage outside steps, or of a step that never finished), as one record for the run. */
  takeAll(): StepUsage | undefined {
    let total: UsageMeter | undefined;
    for (const [id, record] of this.pending) {
      total ??= new UsageMeter();
      total.add(null, record);
      this.pending.delete(id);
    }
    return total?.take(null);
  }
}

export type { Integrations } from "../ports/integrations.ts";

export interface ContextOptions {
  store: RunStore;
  runId: number;
  /** The run's epoch: every write passes it, so a run no longer held writes nothing (fencing). */
  epoch?: number;
  job: string;
  params: unknown;
  log: Logger;
  signal: AbortSignal;
  info: RunInfo;
  dryRun: boolean;
  /** The job's state as loaded at run start; dry runs write to this copy only. */
  stateSnapshot: Map<string, unknown>;
  integrations: Integrations;
  /** Delivers one output now (the runner's deliverer); `ctx.deliver` checks its key first. */
  deliver: (output: Output) => Promise<Receipt[]>;
  now: () => number;
  currentStep: AsyncLocalStorage<string>;
  /** Usage of Claude calls not yet written with their step. */
  meter: UsageMeter;
  /** Called as each step starts and ends, for a terminal's progress display. */
  onStep?: (event: { id: string; status: "running" | "succeeded" | "failed" | "reused"; ms?: number }) => void;
}

export function createJobState(
  options: Pick<ContextOptions, "store" | "job" | "dryRun" | "stateSnapshot" | "now"> & {
    runId?: number;
    epoch?: number;
  },
): JobState {
  const { store, job, dryRun, stateSnapshot, now } = options;
  const fence =
    options.runId !== undefined && options.epoch !== undefined
      ? { runId: options.runId, epoch: options.epoch }
      : undefined;
  return {
    get<T>(key: string) {
      const value = stateSnapshot.get(key);
      // A copy, so a caller mutating it does not change what `get` returns next without `set`.
      return (value === undefined ? undefined : decodeValue(encodeValue(value))) as T | undefined;
    },
    async set(key, value) {
      stateSnapshot.set(key, decodeValue(encodeValue(value)));
      if (!dryRun) await store.setState(job, key, value, now(), fence);
    },
  };
}

export function createContext(options: ContextOptions): SkillContext<unknown> {
  const { store, runId, epoch, signal, now, currentStep, onStep, meter } = options;
  const running = new Map<string, Promise<unknown>>();

  /** A write that carries the step's usage; if it fails, the usage stays for the run's final row. */
  async function withUsage(id: string, write: (usage: StepUsage | undefined) => Promise<void>): Promise<void> {
    const usage = meter.take(id);
    try {
      await write(usage);
    } catch (error) {
      if (usage) meter.add(null, usage);
      throw error;
    }
  }

  async function runStep<T>(id: string, fn: () => Promise<T> | T): Promise<T> {
    const stored = await store.getStep(runId, id);
    if (stored) {
      onStep?.({ id, status: "reused" });
      return stored.result as T;
    }
    signal.throwIfAborted();
    const started = now();
    await store.startStep(runId, id, started, epoch);
    onStep?.({ id, status: "running" });
    try {
      const result = await currentStep.run(id, fn);
      // Round-trip through JSON so a first run sees exactly what a resumed run would.
      const stable = result === undefined ? undefined : (decodeValue(encodeValue(result)) as T);
      await withUsage(id, (usage) => store.finishStep(runId, id, stable, now(), epoch, usage));
      onStep?.({ id, status: "succeeded", ms: now() - started });
      return stable as T;
    } catch (error) {
      await withUsage(id, (usage) => store.failStep(runId, id, errorMessage(error), now(), epoch, usage)).catch(() => {
        // The run fails on the original error; the usage is written with the final row.
      });
      onStep?.({ id, status: "failed", ms: now() - started });
      throw error;
    }
  }

  return {
    params: options.params,
    log: options.log,
    signal,
    run: options.info,
    dryRun: options.dryRun,
    state: createJobState(options),
    claude: options.integrations.claude,
    sources: options.integrations.sources,
    images: options.integrations.images,
    deliver(output: Output): Promise<Receipt[]> {
      if (typeof output?.key !== "string" || !output.key) {
        return Promise.reject(
          new MisuseError(
            "ctx.deliver(output) needs output.key: a stable id (a video id, a date) so a resumed run does not deliver it twice",
          ),
        );
      }
      return options.deliver(output);
    },
    step<T>(id: string, fn: () => Promise<T> | T): Promise<T> {
      // A mistake in the skill's code: failing the run at once says so; retries would only repeat it.
      if (typeof id !== "string" || !id) throw new MisuseError("ctx.step(id, fn) needs a non-empty string id");
      if (typeof fn !== "function")
        throw new MisuseError(`ctx.step(${JSON.stringify(id)}, fn) needs a function to run`);
      // The same id twice in one attempt shares one execution instead of racing two.
      const existing = running.get(id);
      if (existing) return existing as Promise<T>;
      const promise = runStep(id, fn);
      running.set(id, promise);
      promise.catch(() => running.delete(id));
      return promise;
    },
    async parallel<I, O>(
      items: readonly I[],
      fn: (item: I, index: number) => Promise<O>,
      parallelOptions?: ParallelOptions,
    ): Promise<O[]> {
      const limit = pLimit(Math.max(1, parallelOptions?.concurrency ?? 4));
      return Promise.all(items.map((item, index) => limit(() => fn(item, index))));
    },
  };
}
