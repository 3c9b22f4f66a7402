/** @module inspect — `list`, `runs` and `show`: read-only views of the jobs and the run ledger. */
import { existsSync } from "node:fs";
import type { App } from "../app.ts";
import type { JobPause } from "../ledger/store.ts";
import type { RunRecord } from "../types.ts";
import { formatProblem, UsageError } from "../errors.ts";
import { disabledByProblem } from "../config/load.ts";
import { Calendar } from "../schedule/calendar.ts";
import { formatDuration } from "../util/duration.ts";
import { cronProblem, isValidTimezone } from "../config/schema.ts";
import { formatCost, table, timeline } from "./format.ts";
import { escapeJsonControls, stripControls } from "../util/terminal-text.ts";

/**
 * JSON keeps stored text exact; JSON.stringify already writes C0 controls as \u escapes, and this
 * writes the rest a terminal would act on (DEL, C1, bidi overrides) the same way.
 */
function printJson(value: unknown, scrub: (text: string) => string = (text) => text): void {
  const json = escapeJsonControls(JSON.stringify(value, null, 2));
  process.stdout.write(`${scrub(json)}\n`);
}

/** Room for a reason in the state column (the table caps a column at 60 characters, "disabled: " included). */
const REASON_WIDTH = 48;

/** `text` cut at a word boundary to at most `width` characters, with "…" when cut (the whole reason is in `--json`). */
export function shorten(text: string, width: number): string {
  if (text.length <= width) return text;
  // The last space within `width` ends the last whole word that fits with the "…".
  const space = text.slice(0, width).search(/\s\S*$/);
  const kept = space > width / 2 ? text.slice(0, space) : text.slice(0, width - 1);
  return `${kept.replace(/[\s,;:]+$/, "")}…`;
}

export async function listCommand(app: App, options: { json?: boolean }): Promise<void> {
  const loaded = await app.load();
  // Pauses live in the ledger, so `list` shows them without a daemon (and creates no ledger).
  const pauses = existsSync(app.paths.database) ? await app.store().pauses() : new Map<string, JobPause>();
  app.close();
  const calendar = new Calendar();
  const now = Date.now();
  const jobs = loaded.configuration.jobs.map((job) => {
    // A disabled job's fires too: when it would run once enabled or fixed (none for a broken cron or zone).
    const nextRuns: string[] = [];
    let cursor = now;
    const usable = job.cron !== "" && cronProblem(job.cron) === null && isValidTimezone(job.timezone);
    while (usable && nextRuns.length < 3) {
      const next = calendar.next(job.cron, job.timezone, cursor);
      if (next === null) break;
      nextRuns.push(new Date(next).toISOString());
      cursor = next;
    }
    const pause = pauses.get(job.id);
    return {
      id: job.id,
      skill: job.skill,
      cron: job.cron,
      timezone: job.timezone,
      enabled: job.enabled,
      disabledReason: job.disabledReason,
      nextRuns,
      paused: Boolean(pause),
      pausedReason: pause?.reason ?? null,
    };
  });
  if (!loaded.configuration.fileValid) {
    for (const problem of loaded.configuration.problems) process.stderr.write(`${formatProblem(problem)}\n`);
    throw new UsageError("schedules.json is not valid; fix the problems above (npx sundial check)");
  }
  if (options.json) return printJson({ jobs, problems: loaded.configuration.problems });
  for (const problem of loaded.configuration.problems.filter((p) => !p.path.startsWith("jobs[")))
    process.stderr.write(`problem: ${formatProblem(problem)}\n`);
  if (loaded.configuration.jobs.some(disabledByProblem))
    process.stderr.write(
      "some jobs are disabled by a problem: `sundial check` (or `list --json`) gives each reason in full\n",
    );
  if (!jobs.length) {
    process.stdout.write("no jobs in schedules.json\n");
    return;
  }
  process.stdout.write(
    table(
      ["job", "skill", "schedule", "timezone", "state", "next runs"],
      jobs.map((job) => [
        job.id,
        job.skill,
        job.cron,
        job.timezone,
        !job.enabled
          ? `disabled: ${shorten(job.disabledReason ?? "", REASON_WIDTH)}`
          : job.paused
            ? `paused${job.pausedReason ? `: ${shorten(job.pausedReason, REASON_WIDTH)}` : ""}`
            : "enabled",
        job.nextRuns.join(", "),
      ]),
    ),
  );
}

function runLine(run: RunRecord): string[] {
  const lag = run.startedAt ? formatDuration(Date.parse(run.startedAt) - Date.parse(run.scheduledFor)) : "";
  const took =
    run.startedAt && run.finishedAt ? formatDuration(Date.parse(run.finishedAt) - Date.parse(run.startedAt)) : "";
  // "none" stays blank: most rows (skipped, missed) deliver nothing and need no word for it.
  return [
    `#${run.id}`,
    run.job,
    run.trigger,
    run.status,
    run.delivery === "none" ? "" : run.delivery,
    run.scheduledFor,
    lag,
    took,
    formatCost(run.costUsd),
    run.reason ?? run.error ?? "",
  ];
}

export async function runsCommand(
  app: App,
  options: { job?: string; status?: string; limit: string; json?: boolean },
): Promise<void> {
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError(`--limit must be a positive whole number, not "${options.limit}"`);
  // Read-only, and a missing ledger is not created: it only means nothing has run yet.
  const store = await app.openReadStore();
  const runs = store ? await store.listRuns({ job: options.job, status: options.status, limit }) : [];
  app.close();
  // Rows written before a secret was known as one are scrubbed on the way out too.
  if (options.json) return printJson({ runs }, app.scrub);
  if (!runs.length) {
    process.stdout.write("no runs recorded yet\n");
    return;
  }
  process.stdout.write(
    app.scrub(
      table(
        ["run", "job", "trigger", "status", "delivery", "scheduled for", "lag", "took", "cost", "reason / error"],
        runs.map(runLine),
      ),
    ),
  );
}

export async function showCommand(app: App, id: string, options: { json?: boolean }): Promise<void> {
  const runId = Number(id.replace(/^#/, ""));
  if (!Number.isInteger(runId) || runId < 1)
    throw new UsageError(`"${id}" is not a run id; use a number from \`sundial runs\``);
  const run = (await (await app.openReadStore())?.getRun(runId)) ?? null;
  app.close();
  if (!run) throw new UsageError(`no run #${runId} in the ledger`);
  if (options.json) return printJson(run, app.scrub);
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
    lines.push(
      `${label}  ${delivery.to}${delivery.url ? ` ${delivery.url}` : ""}${delivery.error ? ` — ${delivery.error}` : ""}`,
    );
  }
  if (run.steps.length) lines.push("", ...timeline(run, run.steps));
  // Stored text from outside (errors, reasons, step ids) is printed without its terminal escapes.
  process.stdout.write(`${app.scrub(stripControls(lines.join("\n")))}\n`);
}
