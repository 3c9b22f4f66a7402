/**
 * @module run — `sundial run <job | skill>`: one run now, in the foreground, recorded in the ledger
 * like any other. It honours the job's overlap policy against runs of the daemon too. It holds its
 * row by a lease (renewed while it works, so a daemon takes the row back if this process is killed
 * with SIGKILL), and SIGHUP (the terminal or SSH session closed), SIGTERM and SIGINT end the run
 * recorded as interrupted before the process exits.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { App, Loaded } from "../app.ts";
import type { ResolvedJob } from "../config/types.ts";
import { disabledByProblem, parseJson, zodProblems } from "../config/load.ts";
import { AD_HOC_POLICY_DEFAULTS, resolvePolicies } from "../config/policies.ts";
import { formatProblem, UsageError } from "../errors.ts";
import { formatDuration } from "../util/duration.ts";
import { leaseMs } from "../config/env.ts";
import { keepLeases } from "../run/lease.ts";

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
import { stripControls } from "../util/terminal-text.ts";

/** A run of a skill with no job: its params' defaults, stdout, and the ad-hoc policies (the skill's timeout and retries win). */
function adHocJob(skill: string, definition: { timeout?: string; retries?: number }): ResolvedJob {
  return {
    id: skill,
    skill,
    cron: "@yearly",
    timezone: "UTC",
    enabled: true,
    disabledReason: null,
    params: {},
    deliver: [{ to: "stdout" }],
    model: undefined,
    ...resolvePolicies([], definition, AD_HOC_POLICY_DEFAULTS),
  };
}

function pickJob(loaded: Loaded, target: string): ResolvedJob {
  const job = loaded.configuration.jobs.find((j) => j.id === target);
  if (job) {
    if (disabledByProblem(job)) throw new UsageError(`job "${target}" cannot run: ${job.disabledReason}`);
    return job;
  }
  const skill = loaded.skills.get(target);
  if (!skill) {
    const jobs = loaded.configuration.jobs.map((j) => j.id).join(", ") || "none";
    throw new UsageError(
      `no job or skill named "${target}" (jobs: ${jobs}; skills: ${[...loaded.skills.keys()].join(", ") || "none"})`,
    );
  }
  return adHocJob(target, skill.definition);
}

export async function runCommand(
  app: App,
  target: string,
  options: { dryRun?: boolean; params?: string },
): Promise<void> {
  // Import the SDKs (and the job's delivery SDKs) while the configuration and skills load, before
  // the run starts: a run's recorded time is its own work, not this process's start-up. A failed
  // import is reported by the run that needs it.
  const preloading = app.preload().catch(() => undefined);
  const loaded = await app.load();
  if (!loaded.configuration.fileValid)
    throw new UsageError(loaded.configuration.problems.map(formatProblem).join("\n"));
  const job = { ...pickJob(loaded, target) };
  await Promise.all([
    preloading,
    ...job.deliver.map((target) =>
      app.adapters
        .get(target.to)
        ?.prepare?.()
        .catch(() => undefined),
    ),
  ]);
  const skill = loaded.skills.get(job.skill);
  if (!skill) throw new UsageError(`skill "${job.skill}" is not loaded`);
  const isJob = loaded.configuration.jobs.some((j) => j.id === target);
  if (options.params || !isJob) {
    let override: object = {};
    if (options.params) {
      const parsed = parseJson(options.params);
      if ("error" in parsed) throw new UsageError(`--params: ${parsed.error}`);
      if (typeof parsed.value !== "object" || parsed.value === null || Array.isArray(parsed.value))
        throw new UsageError("--params must be a JSON object");
      override = parsed.value;
    }
    // A skill run without a job gets its schema's defaults; a job's params are merged under --params.
    const result = skill.definition.params.safeParse({ ...(job.params as object), ...override });
    if (!result.success) throw new UsageError(zodProblems("--params", result.error).map(formatProblem).join("\n"));
    job.params = result.data;
  }

  const store = await app.openStore();
  const interactive = Boolean(process.stderr.isTTY);
  const shutdown = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    // After SIGHUP the terminal is gone: writing to it fails (EIO, EPIPE), which must not crash the
    // process before its run is recorded.
    if (signal === "SIGHUP") for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);
    shutdown.abort(
      new Error(`interrupted by ${signal}${signal === "SIGHUP" ? " (the terminal or SSH session closed)" : ""}`),
    );
  };
  for (const signal of SIGNALS) process.once(signal, onSignal);
  const leases = keepLeases(store, app.owner, leaseMs(app.env), app.log);
  const runner = app.runner(() => loaded, {
    onStep: interactive
      ? (_runId, event) => {
          const mark = { running: "▸", succeeded: "✓", failed: "✗", reused: "↺" }[event.status] ?? "·";
          process.stderr.write(
            `  ${mark} ${stripControls(event.id)}${event.ms !== undefined ? ` (${formatDuration(event.ms)})` : event.status === "reused" ? " (stored result reused)" : ""}\n`,
          );
        }
      : undefined,
  });

  const requested = Date.now();
  const [claim] = await store.claimRuns(
    [
      {
        job: job.id,
        skill: job.skill,
        scheduledFor: requested,
        trigger: "manual",
        overlap: job.overlap,
        dryRun: Boolean(options.dryRun),
      },
    ],
    app.owner,
    requested,
  );
  if (!claim || claim.status === "duplicate") throw new Error("the run could not be recorded");
  if (claim.status === "skipped") {
    leases.stop();
    for (const signal of SIGNALS) process.off(signal, onSignal);
    process.stderr.write(`run #${claim.runId} skipped: ${app.scrub(stripControls(claim.reason))}\n`);
    return;
  }
  if (claim.status === "queued") {
    process.stderr.write(`run #${claim.runId} queued behind the job's running run; waiting…\n`);
    while (
      (await store.activeRuns(job.id)).some(
        (run) => run.id !== claim.runId && run.status !== "queued" && run.id < claim.runId,
      )
    ) {
      await sleep(500, undefined, { signal: shutdown.signal }).catch(() => undefined);
      if (shutdown.signal.aborted) {
        await store.finishRun(
          claim.runId,
          { status: "interrupted", reason: "cancelled while queued" },
          Date.now(),
          claim.epoch,
        );
        leases.stop();
        process.exitCode = 1;
        return;
      }
    }
  }
  if (interactive) process.stderr.write(`run #${claim.runId} of ${job.id}${options.dryRun ? " (dry run)" : ""}\n`);
  const outcome = await runner.execute({
    runId: claim.runId,
    epoch: claim.epoch,
    job,
    skill,
    scheduledFor: requested,
    attempt: 1,
    claimedRunning: claim.status === "running",
    dryRun: Boolean(options.dryRun),
    resumeOf: null,
    shutdown: shutdown.signal,
  });
  leases.stop();
  for (const signal of SIGNALS) process.off(signal, onSignal);
  // The error is text from outside: secrets and terminal escapes out before it reaches the terminal.
  const detail = app.scrub(stripControls(outcome.reason ?? outcome.error ?? ""));
  process.stderr.write(
    `run #${claim.runId} ${outcome.status}${detail ? `: ${detail}` : ""} — npx sundial show ${claim.runId}\n`,
  );
  app.close();
  process.exitCode = outcome.status === "succeeded" || outcome.status === "skipped" ? 0 : 1;
}
