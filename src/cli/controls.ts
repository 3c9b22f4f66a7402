/**
 * @module cli/controls — `pause`, `resume`, `cancel`, `redeliver` and `trigger [--wait]`: ask the
 * running daemon over its API (a run belongs to the process that carries it). Exit 0 on success,
 * 1 when `trigger --wait` ends in a failed run, 2 for usage, no daemon, not found or conflict.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { App } from "../app.ts";
import type { RunRecord } from "../types.ts";
import type { JobView } from "../control/types.ts";
import { FINAL_STATUSES } from "../types.ts";
import { parseJson } from "../config/load.ts";
import { UsageError } from "../errors.ts";
import { daemonClient } from "./client.ts";

function runIdOf(text: string): number {
  const id = Number(text.replace(/^#/, ""));
  if (!Number.isSafeInteger(id) || id < 1)
    throw new UsageError(`"${text}" is not a run id; use a number from \`sundial runs\``);
  return id;
}

const path = (id: string) => encodeURIComponent(id);

export async function pauseCommand(app: App, job: string, options: { reason?: string }): Promise<void> {
  const { job: view } = await daemonClient(app).request<{ job: JobView }>(
    "POST",
    `/jobs/${path(job)}/pause`,
    options.reason ? { reason: options.reason } : {},
  );
  process.stdout.write(
    `job ${view.id} paused${view.pausedReason ? `: ${view.pausedReason}` : ""} (its slots are recorded skipped until \`sundial resume ${view.id}\`)\n`,
  );
}

export async function resumeCommand(app: App, job: string): Promise<void> {
  const { job: view } = await daemonClient(app).request<{ job: JobView }>("POST", `/jobs/${path(job)}/resume`, {});
  process.stdout.write(`job ${view.id} resumed${view.nextRuns[0] ? `; next run ${view.nextRuns[0]}` : ""}\n`);
}

export async function cancelCommand(app: App, id: string): Promise<void> {
  const runId = runIdOf(id);
  await daemonClient(app).request("POST", `/runs/${runId}/cancel`, {});
  process.stdout.write(`run #${runId} is being cancelled — npx sundial show ${runId}\n`);
}

export async function redeliverCommand(app: App, id: string): Promise<void> {
  const runId = runIdOf(id);
  await daemonClient(app).request("POST", `/runs/${runId}/redeliver`, {});
  process.stdout.write(`run #${runId}: delivering its failed targets again — npx sundial show ${runId}\n`);
}

export async function triggerCommand(
  app: App,
  job: string,
  options: { dryRun?: boolean; params?: string; wait?: boolean },
): Promise<void> {
  let params: Record<string, unknown> | undefined;
  if (options.params) {
    const parsed = parseJson(options.params);
    if ("error" in parsed) throw new UsageError(`--params: ${parsed.error}`);
    if (typeof parsed.value !== "object" || parsed.value === null || Array.isArray(parsed.value))
      throw new UsageError("--params must be a JSON object");
    params = parsed.value as Record<string, unknown>;
  }
  const client = daemonClient(app);
  const { run } = await client.request<{ run: RunRecord }>("POST", `/jobs/${path(job)}/run`, {
    dryRun: Boolean(options.dryRun),
    ...(params ? { params } : {}),
  });
  process.stdout.write(`${run.id}\n`);
  if (!options.wait) return;
  // Polling, not the event stream: a run's end is seconds to hours away, and a poll survives a
  // daemon restart in between (the run then resumes under the same id or a `resume` row).
  let current = run;
  while (!FINAL_STATUSES.includes(current.status)) {
    await sleep(500);
    current = (await client.request<{ run: RunRecord }>("GET", `/runs/${run.id}`)).run;
  }
  const detail = current.reason ?? current.error ?? "";
  process.stderr.write(
    `run #${current.id} ${current.status}${detail ? `: ${detail}` : ""} — npx sundial show ${current.id}\n`,
  );
  process.exitCode = current.status === "succeeded" || current.status === "skipped" ? 0 : 1;
}
