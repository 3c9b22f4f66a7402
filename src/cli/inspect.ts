/** @module inspect — `list`, `runs` and `show`: read-only views of the jobs and the run ledger. */
import { existsSync } from "node:fs";
import type { App } from "../app.ts";
import type { JobPause } from "../ledger/store.ts";
import type { RunRecord } from "../types.ts";
import { formatProblem, UsageError } from "../errors.ts";
import { Calendar } from "../schedule/calendar.ts";
import { formatDuration } from "../config/duration.ts";
import { formatCost, table, timeline } from "./format.ts";

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export async function listCommand(app: App, options: { json?: boolean }): Promise<void> {
  const loaded = await app.load();
  // Pauses live in the ledger, so `list` shows them without a daemon (and creates no ledger).
  const pauses = existsSync(app.paths.database) ? await app.store().pauses() : new Map<string, JobPause>();
  app.close();
  const calendar = new Calendar();
  const now = Date.now();
  const jobs = loaded.configuration.jobs.map((job) => {
    const nextRuns: string[] = [];
    let cursor = now;
    while (job.enabled && nextRuns.length < 3) {
      const next = calendar.next(job.cron, job.timezone, cursor);
      if (next === null) break;
      nextRuns.push(new Date(next).toISOString());
      cursor = next;
    }
    const pause = pauses.get(job.id);
    return { id: job.id, skill: job.skill, cron: job.cron, timezone: job.timezone, enabled: job.enabled, disabledReason: job.disabledReason, nextRuns, paused: Boolean(pause), pausedReason: pause?.reason ?? null };
  });
  if (!loaded.configuration.fileValid) {
    for (const problem of loaded.configuration.problems) process.stderr.write(`${formatProblem(problem)}\n`);
    throw new UsageError("schedules.json is not valid; fix the problems above (npx sundial check)");
  }
  if (options.json) return printJson({ jobs, problems: loaded.configuration.problems });
  for (const problem of loaded.configuration.problems.filter((p) => !p.path.startsWith("jobs["))) process.stderr.write(`problem: ${formatProblem(problem)}\n`);
  if (!jobs.length) {
    process.stdout.write("no jobs in schedules.json\n");
    return;
  }
  process.stdout.write(
    table(
      ["job", "skill", "schedule", "timezone", "state", "next runs"],
      jobs.map((job) => [job.id, job.skill, job.cron, job.timezone, !job.enabled ? `disabled: ${job.disabledReason}` : job.paused ? `paused${job.pausedReason ? `: ${job.pausedReason}` : ""}` : "enabled", job.nextRuns.join(", ")]),
    ),
  );
}

function runLine(run: RunRecord): string[] {
  const lag = run.startedAt ? formatDuration(Date.parse(run.startedAt) - Date.parse(run.scheduledFor)) : "";
  const took = run.startedAt && run.finishedAt ? formatDuration(Date.parse(run.finishedAt) - Date.parse(run.startedAt)) : "";
  return [`#${run.id}`, run.job, run.trigger, run.status, run.scheduledFor, lag, took, formatCost(run.costUsd), run.reason ?? run.error ?? ""];
}

export async function runsCommand(app: App, options: { job?: string; status?: string; limit: string; json?: boolean }): Promise<void> {
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive whole number, not "${options.limit}"`);
  const runs = await app.store().listRuns({ job: options.job, status: options.status, limit });
  app.close();
  if (options.json) return printJson({ runs });
  if (!runs.length) {
    process.stdout.write("no runs recorded yet\n");
    return;
  }
  process.stdout.write(table(["run", "job", "trigger", "status", "scheduled for", "lag", "took", "cost", "reason / error"], runs.map(runLine)));
}

export async function showCommand(app: App, id: string, options: { json?: boolean }): Promise<void> {
  const runId = Number(id.replace(/^#/, ""));
  if (!Number.isInteger(runId) || runId < 1) throw new UsageError(`"${id}" is not a run id; use a number from \`sundial runs\``);
  const run = await app.store().getRun(runId);
  app.close();
  if (!run) throw new UsageError(`no run #${runId} in the ledger`);
  if (options.json) return printJson(run);
  const lines = [
    `run #${run.id} · ${run.job} (${run.skill}) · ${run.trigger}${run.resumeOf ? ` of #${run.resumeOf}` : ""}${run.dryRun ? " · dry run" : ""}`,
    `status     ${run.status}${run.reason ? ` — ${run.reason}` : ""}`,
    `scheduled  ${run.scheduledFor}`,
    `started    ${run.startedAt ?? "-"}`,
    `finished   ${run.finishedAt ?? "-"}`,
    `attempt    ${run.attempt}`,
    `usage      ${run.usage.inputTokens} in, ${run.usage.outputTokens} out, ${run.usage.cacheWriteTokens} cache write, ${run.usage.cacheReadTokens} cache read · ${formatCost(run.costUsd)}`,
  ];
  if (run.error) lines.push(`error      ${run.error}`);
  if (run.deliveries.length) lines.push(`delivery   ${run.delivery}`);
  for (const delivery of run.deliveries) {
    const label = { succeeded: "delivered", failed: "failed   ", pending: "pending  " }[delivery.status];
    lines.push(`${label}  ${delivery.to}${delivery.url ? ` ${delivery.url}` : ""}${delivery.error ? ` — ${delivery.error}` : ""}`);
  }
  if (run.steps.length) lines.push("", ...timeline(run, run.steps));
  process.stdout.write(`${lines.join("\n")}\n`);
}
