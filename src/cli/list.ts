/** @module list — `sundial list`: the jobs, their state and next fire times (read-only). */
import { existsSync } from "node:fs";
import type { App } from "../app.ts";
import type { JobPause } from "../ledger/store.ts";
import { formatProblem, UsageError } from "../errors.ts";
import { disabledByProblem } from "../config/load.ts";
import { Calendar } from "../schedule/calendar.ts";
import { cronProblem, isValidTimezone } from "../config/schema.ts";
import { printJson, table } from "./format.ts";
import { jobListing } from "../control/job-view.ts";

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
    return jobListing(job, pauses.get(job.id), nextRuns);
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
