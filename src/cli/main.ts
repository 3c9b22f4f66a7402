/**
 * @module main — the `sundial` command line. Exit codes: 0 ok, 1 a run failed, 2 bad usage or bad
 * configuration. `--json` output is one document on stdout; logs go to stderr.
 */
import { Command, CommanderError, Option } from "commander";
import type { AppOptions } from "../app.ts";
import { errorMessage, UsageError } from "../errors.ts";
import { RUN_STATUSES } from "../types.ts";

// Each command's module (and what it imports: the daemon, the ledger, SDKs) is imported in its
// action, so a command loads only what it uses (a cold `list` need not load the HTTP server).
const createApp = async (options?: AppOptions) => (await import("../app.ts")).createApp(options);
const quiet = () => createApp({ logLevel: "warn" });
/** `runs`, `show`, `costs` and `nodes` read the ledger only: no app (configuration, skills, schemas). */
const ledgerView = async () => (await import("./ledger-view.ts")).openLedgerView();
const controls = () => import("./controls.ts");

/** Bad usage, a held lock or a bad ledger (exit 2). Their modules are imported only here, on an error
 * (a command that threw one has loaded its module already), not for every command. */
async function isUsageError(error: unknown): Promise<boolean> {
  if (error instanceof UsageError) return true;
  if (!(error instanceof Error)) return false;
  const [{ LockHeldError }, { LedgerOpenError }] = await Promise.all([
    import("../daemon/lock.ts"),
    import("../ledger/sqlite-open.ts"),
  ]);
  return error instanceof LockHeldError || error instanceof LedgerOpenError;
}

const program = new Command("sundial")
  .description("Runs TypeScript skills on cron schedules and logs every run to SQLite.")
  .showHelpAfterError()
  .exitOverride();

program
  .command("start")
  .description("run the daemon (what `npm start` runs)")
  .action(async () => (await import("./start.ts")).startCommand(await createApp()));

program
  .command("run")
  .description("run a job (or a skill) once now, in the foreground, logged to the ledger")
  .argument("<job-or-skill>", "a job id from schedules.json, or a skill name")
  .option("--dry-run", "run for real but deliver to stdout and change no state")
  .option("--params <json>", "params as JSON, merged over the job's")
  .action(async (target: string, options: { dryRun?: boolean; params?: string }) =>
    (await import("./run.ts")).runCommand(
      await createApp({ logLevel: process.env.LOG_LEVEL ?? "warn" }),
      target,
      options,
    ),
  );

program
  .command("list")
  .description("jobs: skill, schedule, timezone, enabled or why not, next three fire times")
  .option("--json", "one JSON document on stdout")
  .action(async (options: { json?: boolean }) => (await import("./list.ts")).listCommand(await quiet(), options));

program
  .command("runs")
  .description("the run ledger, newest first")
  .option("--job <id>", "only this job")
  .addOption(new Option("--status <status>", "only this status").choices(RUN_STATUSES))
  .option("--limit <n>", "how many", "20")
  .option("--json", "one JSON document on stdout")
  .action(async (options: { job?: string; status?: string; limit: string; json?: boolean }) =>
    (await import("./runs.ts")).runsCommand(await ledgerView(), options),
  );

program
  .command("show")
  .description("one run: its steps as a timeline, usage and cost, deliveries, the error if any")
  .argument("<run-id>", "the run's number")
  .option("--json", "one JSON document on stdout")
  .action(async (id: string, options: { json?: boolean }) =>
    (await import("./runs.ts")).showCommand(await ledgerView(), id, options),
  );

program
  .command("costs")
  .description("what Claude cost, from the ledger's spend table (UTC days), by job, day or model")
  .option("--since <duration>", 'how far back, like "7d" or "24h" (whole UTC days)', "30d")
  .addOption(new Option("--by <what>", "group by").choices(["job", "day", "model"]).default("job"))
  .option("--json", "one JSON document on stdout")
  .action(async (options: { since: string; by: string; json?: boolean }) =>
    (await import("./costs.ts")).costsCommand(await ledgerView(), options),
  );

program
  .command("nodes")
  .description("the daemons using this ledger (several share a PostgreSQL ledger), from their heartbeats")
  .option("--json", "one JSON document on stdout")
  .action(async (options: { json?: boolean }) =>
    (await import("./nodes.ts")).nodesCommand(await ledgerView(), options),
  );

program
  .command("migrate")
  .description(
    "copy the SQLite ledger into PostgreSQL (runs keep their ids; rows already there are skipped, so it can be run again)",
  )
  .argument("[postgres-url]", "where to copy it (default: SUNDIAL_DATABASE_URL)")
  .action(async (url: string | undefined) => (await import("./migrate.ts")).migrateCommand(await quiet(), url));

program
  .command("check")
  .description("validate schedules.json, every skill, and the environment each enabled job needs")
  .action(async () => (await import("./check.ts")).checkCommand(await quiet()));

program
  .command("new")
  .description("write a working skill file to start from")
  .argument("<skill-name>", "lowercase letters, digits and hyphens")
  .action(async (name: string) => (await import("./new.ts")).newCommand(await quiet(), name));

// Controls ask the running daemon over its API (see README "Operating a running daemon").
program
  .command("pause")
  .description("pause a job in the running daemon: its slots are recorded skipped until resumed")
  .argument("<job>", "a job id")
  .option("--reason <text>", "why (shown in list and the dashboard)")
  .action(async (job: string, options: { reason?: string }) =>
    (await controls()).pauseCommand(await quiet(), job, options),
  );
program
  .command("resume")
  .description("resume a paused job")
  .argument("<job>", "a job id")
  .action(async (job: string) => (await controls()).resumeCommand(await quiet(), job));
program
  .command("cancel")
  .description("cancel a queued, waiting or running run of the daemon (it ends cancelled)")
  .argument("<run-id>", "the run's number")
  .action(async (id: string) => (await controls()).cancelCommand(await quiet(), id));
program
  .command("redeliver")
  .description("deliver again only the failed deliveries of a run")
  .argument("<run-id>", "the run's number")
  .action(async (id: string) => (await controls()).redeliverCommand(await quiet(), id));
program
  .command("trigger")
  .description("ask the daemon for a manual run of a job now; prints the run id")
  .argument("<job>", "a job id")
  .option("--dry-run", "deliver nothing, change no state")
  .option("--params <json>", "params as JSON, merged over the job's")
  .option("--wait", "follow the run to its end; exit 0 on success or skip, 1 on failure")
  .action(async (job: string, options: { dryRun?: boolean; params?: string; wait?: boolean }) =>
    (await controls()).triggerCommand(await quiet(), job, options),
  );

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (await isUsageError(error)) {
    // LedgerOpenError: a corrupt or unreadable ledger; exit 2, which the systemd unit does not restart.
    process.stderr.write(`sundial: ${(error as Error).message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`sundial: ${errorMessage(error)}\n`);
    process.exitCode = 1;
  }
}
