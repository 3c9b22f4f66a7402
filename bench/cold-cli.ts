/**
 * @module bench/cold-cli — 12. cold commands: whole `sundial` processes as a user meets them, each
 * the median of several fresh starts, beside a bare `node -e 0` measured the same way: `list --json`
 * over the shipped schedules.json and skills, `runs --json` and `show <id> --json` over 1,000,000
 * runs, `run <job> --dry-run` minus the run's own wall time (from its ledger row), and the daemon's
 * spawn to "sundial is running" with 0 jobs.
 */
import { execFile } from "node:child_process";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { openSqliteStore } from "../src/ledger/sqlite.ts";
import { fillLedger, RUNS } from "./lib/fill-ledger.ts";
import { count, median, ms } from "./lib/stats.ts";
import { BenchWorkspace, repoRoot, type CliResult } from "./lib/workspace.ts";
import type { BenchOptions, Figure, Section } from "./lib/section.ts";

/** Commands: at most this many times a bare node start. */
const NODE_FACTOR = 3;
const DRY_RUN_TARGET_MS = 500;
const DAEMON_TARGET_MS = 300;

function nodeStart(): Promise<number> {
  const started = performance.now();
  return new Promise((done, reject) =>
    execFile(process.execPath, ["-e", "0"], (error) => (error ? reject(error) : done(performance.now() - started))),
  );
}

/** Median wall time of `times` fresh runs of `cli`, which must exit 0. */
async function medianOf(times: number, cli: () => Promise<CliResult>, what: string): Promise<number> {
  const walls: number[] = [];
  for (let i = 0; i < times; i++) {
    const result = await cli();
    if (result.code !== 0) throw new Error(`${what} exited ${result.code}:\n${result.stderr.slice(-2000)}`);
    walls.push(result.ms);
  }
  return median(walls);
}

export async function coldCli(options: BenchOptions): Promise<Section> {
  const times = options.quick ? 3 : 9;
  const nodeTimes: number[] = [];
  for (let i = 0; i < times; i++) nodeTimes.push(await nodeStart());
  const node = median(nodeTimes);
  options.log(`  node -e 0: ${ms(node)}`);

  // The shipped schedules.json and skills, as `npx sundial list --json` in a fresh clone sees them.
  const shipped = new BenchWorkspace("cold-list", {});
  let list: number;
  try {
    for (const skill of ["blog-autopilot", "data-digest"]) shipped.copySkill(skill);
    copyFileSync(join(repoRoot, "schedules.json"), join(shipped.dir, "schedules.json"));
    list = await medianOf(times, () => shipped.runCli(["list", "--json"]), "list --json");
  } finally {
    shipped.cleanup();
  }
  options.log(`  list --json: ${ms(list)}`);

  const ledger = new BenchWorkspace("cold-ledger");
  let runs: number;
  let show: number;
  let dryRun: { whole: number; run: number };
  try {
    ledger.writeSchedules({ jobs: [{ id: "noop", skill: "noop", cron: "0 0 1 1 *", deliver: [{ to: "stdout" }] }] });
    openSqliteStore(ledger.dbFile).close();
    const db = new Database(ledger.dbFile);
    fillLedger(db);
    db.close();
    runs = await medianOf(times, () => ledger.runCli(["runs", "--json"]), "runs --json");
    show = await medianOf(times, () => ledger.runCli(["show", String(RUNS / 2 + 1), "--json"]), "show --json");
    options.log(`  runs --json ${ms(runs)}, show --json ${ms(show)} over ${count(RUNS)} runs`);
    const wholes: number[] = [];
    const own: number[] = [];
    for (let i = 0; i < times; i++) {
      const result = await ledger.runCli(["run", "noop", "--dry-run"]);
      const id = /run #(\d+) succeeded/.exec(result.stderr)?.[1];
      if (result.code !== 0 || !id) throw new Error(`run --dry-run exited ${result.code}:\n${result.stderr}`);
      const row = ledger.query<{ started_at: number; finished_at: number }>(
        "SELECT started_at, finished_at FROM runs WHERE id = ?",
        Number(id),
      )[0];
      if (!row) throw new Error(`run #${id} has no row`);
      wholes.push(result.ms - (row.finished_at - row.started_at));
      own.push(row.finished_at - row.started_at);
    }
    dryRun = { whole: median(wholes), run: median(own) };
    options.log(`  run --dry-run: ${ms(dryRun.whole)} besides the run's own ${ms(dryRun.run)}`);
  } finally {
    ledger.cleanup();
  }

  const idle = new BenchWorkspace("cold-daemon");
  const readies: number[] = [];
  try {
    idle.writeSchedules({ jobs: [] });
    for (let i = 0; i < times; i++) {
      const daemon = await idle.start({ LOG_LEVEL: "info" });
      readies.push(daemon.readyMs);
      await daemon.stop();
    }
  } finally {
    idle.cleanup();
  }
  const daemon = median(readies);
  options.log(`  daemon start to ready, 0 jobs: ${ms(daemon)}`);

  const vsNode = (figure: string, value: number): Figure => ({
    figure,
    sundial: `${ms(value)} (${(value / node).toFixed(1)}× node)`,
    target: `≤ ${NODE_FACTOR}× node (${ms(NODE_FACTOR * node)})`,
    pass: value <= NODE_FACTOR * node,
  });
  return {
    id: 12,
    title: "Cold commands",
    method:
      `Whole processes (\`node bin/sundial.js …\` in a workspace under .tmp/), the median of ${times} fresh starts each, ` +
      `run one after another; \`node -e 0\` measured the same way. \`list\` reads the shipped schedules.json and skills; ` +
      `\`runs\`/\`show\` a ledger of ${count(RUNS)} runs (bench/lib/fill-ledger.ts); \`run noop --dry-run\` is the ` +
      `process's wall time minus the run's own (its ledger row's start to finish); the daemon is timed from spawn to ` +
      `"sundial is running" with 0 jobs and one skill.`,
    figures: [
      { figure: "`node -e 0` (the baseline)", sundial: ms(node) },
      vsNode("`sundial list --json`, shipped schedules.json", list),
      vsNode(`\`sundial runs --json\`, ${count(RUNS)} runs`, runs),
      vsNode(`\`sundial show <id> --json\`, ${count(RUNS)} runs`, show),
      {
        figure: "`sundial run <job> --dry-run`, minus the run's own time",
        sundial: ms(dryRun.whole),
        target: `< ${ms(DRY_RUN_TARGET_MS)}`,
        pass: dryRun.whole < DRY_RUN_TARGET_MS,
      },
      {
        figure: "daemon start to ready, 0 jobs",
        sundial: ms(daemon),
        target: `< ${ms(DAEMON_TARGET_MS)}`,
        pass: daemon < DAEMON_TARGET_MS,
      },
    ],
    notes: [`Each start's times: node ${nodeTimes.map(ms).join(", ")}; daemon ${readies.map(ms).join(", ")}.`],
  };
}
