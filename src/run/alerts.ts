/**
 * @module alerts — tells the `alerts` targets when a job fails: once per failure streak, not on
 * every failed run, and once more when the job recovers; and when schedules fire late (the
 * scheduler's watchdog), once per job until it fires on time again.
 */
import type { Logger } from "pino";
import type { DeliveryAdapter, DeliveryTarget, Env, Output, RunRecord } from "../types.ts";
import type { ResolvedJob } from "../config/types.ts";
import type { RunOutcome, RunStore } from "../ledger/store.ts";
import type { LateFire } from "../schedule/scheduler.ts";
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

type Deliveries = Pick<RunRecord, "deliveries" | "delivery">;
const deliveryFailed = (run: Deliveries | null): run is Deliveries =>
  run !== null && (run.delivery === "partial" || run.delivery === "failed");

/** Each target with its own outcome; the errors (text from outside) in one code block. */
function deliveryReport(runId: number, run: Deliveries, scrub: (text: string) => string): string[] {
  const lines = run.deliveries.map((d) => {
    if (d.status === "succeeded") return `- ${d.to}: delivered${d.url ? ` ${scrub(stripControls(d.url))}` : ""}`;
    return d.status === "failed"
      ? `- ${d.to}: **failed**`
      : `- ${d.to}: not delivered (an earlier target of the output failed)`;
  });
  const errors = run.deliveries
    .filter((d) => d.status === "failed")
    .map((d) => `${d.to}: ${scrub(stripControls(d.error ?? "unknown"))}`);
  const made = run.deliveries.filter((d) => d.status === "succeeded").length;
  return [
    `**Delivery: ${run.delivery}** (${made} of ${run.deliveries.length} delivered)`,
    lines.join("\n"),
    ...(errors.length ? ["**Delivery errors:**", codeBlock(errors.join("\n"))] : []),
    `Send the failed ones again: \`npx sundial redeliver ${runId}\``,
  ];
}

function failureMessage(
  job: ResolvedJob,
  runId: number,
  outcome: RunOutcome,
  scrub: (text: string) => string,
  run: Deliveries | null,
): Output {
  // The error is text from outside (a service's answer, a skill's message): secrets out, escapes out, shown as code.
  const error = scrub(stripControls(outcome.error ?? "unknown"));
  // Work done but not (all) delivered is said as such: the output exists, a target refused it.
  const what = outcome.status === "timed_out" ? "timed out" : deliveryFailed(run) ? "could not deliver" : "failed";
  const delivery = deliveryFailed(run) ? deliveryReport(runId, run, scrub) : [];
  return {
    title: `Sundial: job ${job.id} ${what}`,
    summary: `Run #${runId} of ${job.id} (${job.skill}) ${what}${deliveryFailed(run) ? ` (delivery ${run.delivery})` : ""}.`,
    markdown: [
      "**Error:**",
      codeBlock(error),
      ...delivery,
      `Details: \`npx sundial show ${runId}\``,
      "Further failures of this job are not announced until it succeeds again.",
    ].join("\n\n"),
    key: `alert-${runId}`,
    alertFor: { runId, job: job.id },
  };
}

/** A run that succeeded while a delivery failed (a skill that caught `ctx.deliver`'s error): not "ok". */
function undeliveredMessage(job: ResolvedJob, runId: number, run: Deliveries, scrub: (text: string) => string): Output {
  return {
    title: `Sundial: job ${job.id} succeeded, but delivery ${run.delivery === "failed" ? "failed" : "was partial"}`,
    summary: `Run #${runId} of ${job.id} (${job.skill}) did its work; delivery ${run.delivery}.`,
    markdown: [...deliveryReport(runId, run, scrub), `Details: \`npx sundial show ${runId}\``].join("\n\n"),
    key: `undelivered-${runId}`,
  };
}

function recoveryMessage(job: ResolvedJob, runId: number): Output {
  return {
    title: `Sundial: job ${job.id} recovered`,
    markdown: `Run #${runId} of ${job.id} succeeded after earlier failures.`,
    key: `recovered-${runId}`,
  };
}

export async function broadcast(
  deps: Omit<AlertDeps, "store">,
  job: Pick<ResolvedJob, "id">,
  runId: number,
  output: Output,
): Promise<void> {
  for (const target of deps.alerts()) {
    const adapter = deps.adapters.get(target.to);
    if (!adapter) continue;
    const signal = AbortSignal.timeout(60_000);
    await adapter.deliver(output, target, {
      job: job.id,
      runId,
      env: deps.env,
      dataDir: deps.dataDir,
      signal,
      log: deps.log,
      earlier: [],
    });
  }
}

const minutes = (ms: number) => `${Math.max(1, Math.round(ms / 60_000))} min`;

function lateLine(fire: LateFire): string {
  const when = `due ${new Date(fire.dueAt).toISOString()}, noticed ${minutes(fire.noticedAt - fire.dueAt)} late`;
  const what =
    fire.handled === "waiting"
      ? "still not handled: the scheduler is stuck (see the logs; a restart catches up)"
      : fire.handled === "fired"
        ? `run now (catchUp: ${fire.catchUp})`
        : `recorded as missed (catchUp: ${fire.catchUp})`;
  return `- \`${fire.job}\`: ${when}; ${what}.`;
}

/** Jobs whose fire came more than a minute late: one message for the lot. */
export function lateMessage(late: LateFire[]): Output {
  const first = late[0] as LateFire;
  const title = late.length === 1 ? `Sundial: job ${first.job} fired late` : `Sundial: ${late.length} jobs fired late`;
  return {
    title,
    summary: `${late.map((fire) => fire.job).join(", ")}: more than a minute past due.`,
    markdown: [
      late.map(lateLine).join("\n"),
      "A timer that did not fire, the clock being set, a suspended machine or a blocked event loop makes a schedule late. `/healthz` reports it under `checks.overdue`.",
      "These jobs are not announced again until they fire on time.",
    ].join("\n\n"),
    key: `late-${first.job}-${first.dueAt}`,
  };
}

/** Tells the alert targets about late fires (the scheduler passes each job once per episode). */
export async function sendLateAlert(deps: Omit<AlertDeps, "store">, late: LateFire[]): Promise<void> {
  if (!late.length) return;
  await broadcast(deps, { id: (late[0] as LateFire).job }, 0, lateMessage(late));
}

export async function sendAlert(deps: AlertDeps, job: ResolvedJob, runId: number, outcome: RunOutcome): Promise<void> {
  const { store } = deps;
  if (outcome.status === "failed" || outcome.status === "timed_out") {
    if (!(await store.shouldAlert(job.id, runId))) {
      deps.log.info({ job: job.id, run: runId }, "failure streak already announced; alert not repeated");
      return;
    }
    const run = await store.getRun(runId);
    await broadcast(deps, job, runId, failureMessage(job, runId, outcome, deps.scrub ?? createScrubber(deps.env), run));
    await store.markAlerted(runId, deps.now());
  } else if (outcome.status === "succeeded") {
    const run = await store.getRun(runId);
    if (deliveryFailed(run)) {
      // Announced once while it lasts: not when the job's previous run had its delivery fail too.
      const before = (await store.listRuns({ job: job.id, limit: 20 })).find(
        (r) =>
          r.id < runId && !r.dryRun && (r.status === "succeeded" || r.status === "failed" || r.status === "timed_out"),
      );
      if (!deliveryFailed(before ?? null))
        await broadcast(deps, job, runId, undeliveredMessage(job, runId, run, deps.scrub ?? createScrubber(deps.env)));
      return;
    }
    const previous = await store.previousOutcome(job.id, runId);
    if ((previous === "failed" || previous === "timed_out") && !(await store.shouldAlert(job.id, runId))) {
      await broadcast(deps, job, runId, recoveryMessage(job, runId));
    }
  }
}
