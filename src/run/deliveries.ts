/**
 * @module deliveries — hands one run's outputs to the job's deliveries: each output to every
 * target in order (a later target sees the receipts of earlier ones), each delivery a memoized
 * step so a resumed run never sends twice. Outputs may arrive concurrently (`ctx.deliver` from
 * parallel branches); adapters marked `oneAtATime` (a chat channel) then take one whole output at
 * a time, so two outputs' messages never interleave, while the others (pull requests) overlap.
 */
import type { Logger } from "pino";
import type { DeliveryAdapter, Env, Output, Receipt, SkillContext } from "../types.ts";
import type { ResolvedJob } from "../config/types.ts";
import type { RunStore } from "../ledger/store.ts";
import { scrubOutput } from "../util/redact.ts";
import { errorMessage } from "../errors.ts";

export interface DeliveryRequest {
  job: ResolvedJob;
  runId: number;
  /** The run's epoch, fencing each delivery's record. */
  epoch?: number;
  dryRun: boolean;
  env: Env;
  dataDir: string;
  store: RunStore;
  adapters: Map<string, DeliveryAdapter>;
  step: SkillContext["step"];
  signal: AbortSignal;
  log: Logger;
  writePreview: (text: string) => void;
  /** Removes secrets and URL userinfo from every output's text before any adapter sees it. */
  scrub?: (text: string) => string;
}

/** The memoized step of one output's delivery to one target (also the key of its ledger row). */
const stepOf = (key: string, index: number, to: string) => `deliver:${key}:${index}:${to}`;

/** Runs tasks one at a time per key, in the order they asked. */
function createQueues() {
  const tails = new Map<number, Promise<unknown>>();
  return <T>(key: number, task: () => Promise<T>): Promise<T> => {
    const result = (tails.get(key) ?? Promise.resolve()).then(task);
    tails.set(
      key,
      result.catch(() => undefined),
    );
    return result;
  };
}

export function createDeliverer(request: DeliveryRequest) {
  const { job, runId, dryRun } = request;
  const inTurn = createQueues();
  const byKey = new Map<string, Promise<Receipt[]>>();
  /** Every output handed over, also those whose delivery failed (the run had output; it was not "nothing"). */
  const handed = new Set<string>();

  async function recordUndelivered(key: string, failed: number, error: string): Promise<void> {
    for (const [d, target] of job.deliver.entries()) {
      if (d < failed) continue;
      const write =
        d === failed
          ? { to: target.to, status: "failed" as const, error }
          : { to: target.to, status: "pending" as const };
      await request.store.recordDelivery(runId, stepOf(key, d, target.to), write, request.epoch).catch(() => undefined);
    }
  }

  async function deliverNow(given: Output, key: string, label: string): Promise<Receipt[]> {
    const output = request.scrub ? scrubOutput(given, request.scrub) : given;
    const earlier: Receipt[] = [];
    for (const [d, target] of job.deliver.entries()) {
      const adapter = request.adapters.get(target.to);
      if (!adapter) throw new Error(`no delivery adapter "${target.to}"`);
      const stepId = `deliver:${key}:${d}:${target.to}`;
      const ctx = {
        job: job.id,
        runId,
        env: request.env,
        dataDir: request.dataDir,
        signal: request.signal,
        log: request.log,
        earlier: [...earlier],
        step: <T>(id: string, fn: () => Promise<T>) => request.step(`${stepId}:${id}`, fn),
      };
      const send = async (): Promise<Receipt> => {
        if (dryRun) {
          request.writePreview(
            `── dry run: ${target.to} (${label}) ──\n${await adapter.preview(output, target, ctx)}\n`,
          );
          return { to: target.to, url: `(dry run: ${target.to})` };
        }
        const stepId = stepOf(key, d, target.to);
        return request.step(stepId, async () => {
          const fresh = await adapter.deliver(output, target, ctx);
          await request.store.recordDelivery(runId, stepId, { ...fresh, status: "succeeded" }, request.epoch);
          return fresh;
        });
      };
      try {
        earlier.push(await (adapter.oneAtATime ? inTurn(d, send) : send()));
      } catch (error) {
        // Recorded per target, so a failed delivery shows (and `redeliver` knows what to send again):
        // this one failed, the later targets of this output were never tried.
        if (!dryRun) await recordUndelivered(key, d, errorMessage(error));
        throw error;
      }
    }
    if (!dryRun) await output.onDelivered?.(earlier);
    return earlier;
  }

  return {
    /** Delivers one output (once per key in a run: a second call gets the first call's receipts). */
    deliver(output: Output, key: string, label: string): Promise<Receipt[]> {
      let delivery = byKey.get(key);
      if (!delivery) {
        delivery = deliverNow(output, key, label);
        byKey.set(key, delivery);
        handed.add(key);
        delivery.catch(() => byKey.delete(key));
      }
      return delivery;
    },
    /** Waits for deliveries still in flight (a skill that did not await `ctx.deliver`). */
    async idle(): Promise<void> {
      await Promise.allSettled(byKey.values());
    },
    /** How many distinct outputs were handed over so far. */
    get count(): number {
      return handed.size;
    },
  };
}

export type Deliverer = ReturnType<typeof createDeliverer>;
