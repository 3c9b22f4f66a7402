/**
 * @module bench/cold-cli — 13. cold commands: whole `sundial` processes as a user meets them, each
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
import { load1 } from "./lib/machine.ts";
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

/** A command's median wall time, and that of the `node -e 0` started just before each of its runs. */
interface Timed {
  ms: number;
  node: number;
}

/**
 * `times` fresh runs of `cli` (which must exit 0), each just after a `node -e 0`: on a machine whose
 * load changes from minute to minute, the baseline beside each figure is taken under the same load.
 */
async function timed(times: number, cli: () => Promise<CliResult>, what: string, nodeTimes: number[]): Promise<Timed> {
  const walls: number[] = [];
  const nodes: number[] = [];
  for (let i = 0; i < times; i++) {
    nodes.push(await nodeStart());
    const result = await cli();
    if (result.code !== 0) throw new Error(`${what} exited ${result.code}:\n${result.stderr.slice(-2000)}`);
    walls.push(result.ms);
  }
  nodeTimes.push(...nodes);
  return { ms: median(walls), node: median(nodes) };
}

export async function coldCli(options: BenchOptions): Promise<Section> {
  const times = options.quick ? 3 : 9;
  const nodeTimes: number[] = [];
  const loadAtStart = load1();

  // The shipped schedules.json and skills, as `npx sundial list --json` in a fresh clone sees them.
  const shipped = new BenchWorkspace("cold-list", {});
  let list: Timed;
  try {
    for (const skill of ["blog-autopilot", "data-digest"]) shipped.copySkill(skill);
    copyFileSync(join(repoRoot, "schedules.json"), join(shipped.dir, "schedules.json"));
    list = await timed(times, () => shipped.runCli(["list", "--json"]), "list --json", nodeTimes);
  } finally {
    shipped.cleanup();
  }
  options.log(`  list --json: ${ms(list.ms)} (node -e 0 ${ms(list.node)})`);

  const ledger = new BenchWorkspace("cold-ledger");
  let runs: Timed;
  let show: Timed;
  let dryRun: { whole: number; run: number };
  try {
    ledger.writeSchedules({ jobs: [{ id: "noop", skill: "noop", cron: "0 0 1 1 *", deliver: [{ to: "stdout" }] }] });
    openSqliteStore(ledger.dbFile).close();
    const db = new Database(ledger.dbFile);
    fillLedger(db);
    db.close();
    runs = await timed(times, () => ledger.runCli(["runs", "--json"]), "runs --json", nodeTimes);
    const id = String(RUNS / 2 + 1);
    show = await timed(times, () => ledger.runCli(["show", id, "--json"]), "show --json", nodeTimes);
    options.log(
      `  runs --json ${ms(runs.ms)} (node ${ms(runs.node)}), show --json ${ms(show.ms)} (node ${ms(show.node)}) over ${count(RUNS)} runs`,
    );
    const wholes: number[] = [];
    const own: number[] = [];
    for (let i = 0; i < times; i++) {
      const result = await ledger.runCli(["run", "noop", "--dry-run"]);
      const id = /run #(\d+) (succeeded|skipped: dry run)/.exec(result.stderr)?.[1];
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

  const node = median(nodeTimes);
  const vsNode = (figure: string, value: Timed, before: string): Figure => ({
    figure,
    before,
    sundial: `${ms(value.ms)} (${(value.ms / value.node).toFixed(1)}× node's ${ms(value.node)})`,
    target: `≤ ${NODE_FACTOR}× node`,
    pass: value.ms <= NODE_FACTOR * value.node,
  });
  return {
    id: 13,
    title: "Cold commands",
    method:
      `Whole processes (\`node bin/sundial.js …\` in a workspace under .tmp/), the median of ${times} fresh starts each, ` +
      `run one after another; before each, a \`node -e 0\` measured the same way (a command is compared with the median of its own). \`list\` reads the shipped schedules.json and skills; ` +
      `\`runs\`/\`show\` a ledger of ${count(RUNS)} runs (bench/lib/fill-ledger.ts); \`run noop --dry-run\` is the ` +
      `process's wall time minus the run's own (its ledger row's start to finish); the daemon is timed from spawn to ` +
      `"sundial is running" with 0 jobs and one skill.`,
    figures: [
      { figure: "`node -e 0` (the baseline, all its starts)", sundial: ms(node) },
      vsNode("`sundial list --json`, shipped schedules.json", list, "about 0.87 s (10.5× node)"),
      vsNode(`\`sundial runs --json\`, ${count(RUNS)} runs`, runs, "0.86–0.90 s"),
      vsNode(`\`sundial show <id> --json\`, ${count(RUNS)} runs`, show, "0.86–0.90 s"),
      {
        figure: "`sundial run <job> --dry-run`, minus the run's own time",
        sundial: ms(dryRun.whole),
        target: `< ${ms(DRY_RUN_TARGET_MS)}`,
        before: "about 2 s",
        pass: dryRun.whole < DRY_RUN_TARGET_MS,
      },
      {
        figure: "daemon start to ready, 0 jobs",
        sundial: ms(daemon),
        target: `< ${ms(DAEMON_TARGET_MS)}`,
        before: "0.97 s",
        pass: daemon < DAEMON_TARGET_MS,
      },
    ],
    notes: [
      `Load average ${loadAtStart} at the start, ${load1()} at the end (2 cores: the absolute figures move with it).`,
      `Each start's times: node ${nodeTimes.map(ms).join(", ")}; daemon ${readies.map(ms).join(", ")}.`,
    ],
  };
}
