/**
 * @module bench — `npm run bench [-- --quick] [-- --only=1,2]`: measures the figures of the
 * benchmarks issue on this machine, one benchmark after another (never in parallel: they would
 * share the cores), beside croner and node-cron measured the same way, and writes BENCHMARKS.md.
 * Benchmarks report; they never fail: a missed target is a MISS in the report, exit code 0.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { capacity } from "./capacity.ts";
import { precision } from "./precision.ts";
import { throughput } from "./throughput.ts";
import { idle } from "./idle.ts";
import { ledgerScale } from "./ledger-scale.ts";
import { apiScale } from "./api.ts";
import { dashboard } from "./dashboard.ts";
import { blogSkillPresent, fanout, type FanoutResult } from "./fanout.ts";
import { promptCache } from "./cache.ts";
import { budgetCheck } from "./budget.ts";
import { postgresLedger } from "./postgres.ts";
import { memory } from "./memory.ts";
import { coldCli } from "./cold-cli.ts";
import { describeMachine, load1 } from "./lib/machine.ts";
import { repoRoot } from "./lib/workspace.ts";
import { renderReport } from "./report.ts";
import type { BenchOptions, Section } from "./lib/section.ts";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args
  .find((arg) => arg.startsWith("--only="))
  ?.slice("--only=".length)
  .split(",")
  .map(Number);
const options: BenchOptions = { quick, log: (line) => process.stderr.write(`${line}\n`) };

let blogRuns: FanoutResult["cache"] | null = null;
const missing = (id: number, title: string, what: string): Section => ({
  id,
  title,
  method: "",
  figures: [],
  notes: [],
  skipped: what,
});
// Fan-out and prompt cache run last: they need the shipped skills, and the cache figures of
// blog-autopilot come from the fan-out's workspace.
const benchmarks: { id: number; name: string; run: (o: BenchOptions) => Promise<Section> }[] = [
  { id: 1, name: "schedule capacity", run: capacity },
  { id: 2, name: "fire precision", run: precision },
  { id: 3, name: "sustained throughput", run: throughput },
  { id: 4, name: "idle cost", run: idle },
  { id: 6, name: "ledger at scale", run: ledgerScale },
  { id: 8, name: "operator API at scale", run: apiScale },
  { id: 9, name: "dashboard", run: dashboard },
  {
    id: 5,
    name: "parallel fan-out",
    run: async (o) => {
      if (!blogSkillPresent())
        return missing(5, "Parallel fan-out", "skills/blog-autopilot/index.ts does not exist yet");
      const result = await fanout(o);
      blogRuns = result.cache;
      return result.section;
    },
  },
  { id: 7, name: "prompt cache", run: (o) => promptCache(o, blogRuns) },
  { id: 10, name: "budget check", run: budgetCheck },
  { id: 11, name: "postgres ledger", run: postgresLedger },
  { id: 12, name: "memory over 100,000 runs", run: memory },
  { id: 13, name: "cold commands", run: coldCli },
];

const machine = describeMachine();
const started = Date.now();
const sections: Section[] = [];
const loads: string[] = [];
for (const bench of benchmarks) {
  if (only && !only.includes(bench.id)) continue;
  options.log(`${bench.id}. ${bench.name} (load average ${load1()})`);
  loads.push(load1());
  try {
    sections.push(await bench.run(options));
  } catch (error) {
    options.log(`  failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    sections.push({
      id: bench.id,
      title: bench.name,
      method: "",
      figures: [],
      notes: [],
      skipped: `the benchmark failed: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
    });
  }
}
sections.sort((a, b) => a.id - b.id);
const report = renderReport({
  machine,
  sections,
  quick,
  durationMs: Date.now() - started,
  loads,
  date: new Date(started),
  command: `npm run bench${args.length ? ` -- ${args.join(" ")}` : ""}`,
});
const file = only ? join(repoRoot, ".tmp", "BENCHMARKS.partial.md") : join(repoRoot, "BENCHMARKS.md");
// Figures measured by hand for design choices, kept here so code comments need not carry them.
writeFileSync(file, `${report.trimEnd()}\n${readFileSync(join(repoRoot, "bench", "design-figures.md"), "utf8")}`);
options.log(`wrote ${file} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.stdout.write(report);
