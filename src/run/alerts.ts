/**
 * @module alerts — tells the `alerts` targets when a job fails: once per failure streak, not on
 * every failed run, and once more when the job recovers.
 */
import type { Logger } from "pino";
import type { DeliveryAdapter, DeliveryTarget, Env, Output } from "../types.ts";
import type { ResolvedJob } from "../config/load.ts";
import type { RunOutcome, RunStore } from "../ledger/store.ts";
import { createScrubber } from "../util/redact.ts";
import { stripControls } from "../util/terminal-text.ts";

export interface AlertDeps {
  store: RunStore;
  env: Env;
  dataDir: string;
  log: Logger;
  now: () => number;
  adapters: Map<string, DeliveryAdapter>;
  alerts: () => DeliveryTarget[];
  /** The app's scrubber (it knows schedules.json's webhookEnv names); without one, the environment's secret names. */
  scrub?: (text: string) => string;
}

/** Backticks that no error can close: the error shows as written, and its markdown or mentions do nothing. */
function codeBlock(text: string): string {
  const longest = [...text.matchAll(/`+/g)].reduce((most, run) => Math.max(most, run[0].length), 2);
  const fence = "`".repeat(longest + 1);
  return `${fence}\n${text}\n${fence}`;
}

function failureMessage(job: ResolvedJob, runId: number, outcome: RunOutcome, scrub: (text: string) => string): Output {
  // The error is text from outside (a service's answer, a skill's message): secrets out, escapes out, shown as code.
  const error = scrub(stripControls(outcome.error ?? "unknown"));
  const what = outcome.status === "timed_out" ? "timed out" : "failed";
  return {
    title: `Sundial: job ${job.id} ${what}`,
    summary: `Run #${runId} of ${job.id} (${job.skill}) ${what}.`,
    markdown: ["**Error:**", codeBlock(error), `Details: \`npx sundial show ${runId}\``, "Further failures of this job are not announced until it succeeds again."].join("\n\n"),
    key: `alert-${runId}`,
    alertFor: { runId, job: job.id },
  };
}

function recoveryMessage(job: ResolvedJob, runId: number): Output {
  return { title: `Sundial: job ${job.id} recovered`, markdown: `Run #${runId} of ${job.id} succeeded after earlier failures.`, key: `recovered-${runId}` };
}

async function broadcast(deps: AlertDeps, job: ResolvedJob, runId: number, output: Output): Promise<void> {
  for (const target of deps.alerts()) {
    const adapter = deps.adapters.get(target.to);
    if (!adapter) continue;
    const signal = AbortSignal.timeout(60_000);
    await adapter.deliver(output, target, { job: job.id, runId, env: deps.env, dataDir: deps.dataDir, signal, log: deps.log, earlier: [] });
  }
}

export async function sendAlert(deps: AlertDeps, job: ResolvedJob, runId: number, outcome: RunOutcome): Promise<void> {
  const { store } = deps;
  if (outcome.status === "failed" || outcome.status === "timed_out") {
    if (!(await store.shouldAlert(job.id, runId))) {
      deps.log.info({ job: job.id, run: runId }, "failure streak already announced; alert not repeated");
      return;
    }
    await broadcast(deps, job, runId, failureMessage(job, runId, outcome, deps.scrub ?? createScrubber(deps.env)));
    await store.markAlerted(runId, deps.now());
  } else if (outcome.status === "succeeded") {
    const previous = await store.previousOutcome(job.id, runId);
    if ((previous === "failed" || previous === "timed_out") && !(await store.shouldAlert(job.id, runId))) {
      await broadcast(deps, job, runId, recoveryMessage(job, runId));
    }
  }
}
