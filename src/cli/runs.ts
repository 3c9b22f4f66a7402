/**
 * @module runs — `sundial runs` and `sundial show`: the run ledger, read-only. They take a ledger view
 * (./ledger-view.ts), not the app, so a cold `runs` loads no configuration, skills or schemas.
 */
import type { RunRecord } from "../types.ts";
import { UsageError } from "../errors.ts";
import { formatDuration } from "../util/duration.ts";
import { stripControls } from "../util/terminal-text.ts";
import { formatCost, printJson, table, timeline } from "./format.ts";
import type { LedgerView } from "./ledger-view.ts";

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
  app: LedgerView,
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

export async function showCommand(app: LedgerView, id: string, options: { json?: boolean }): Promise<void> {
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
