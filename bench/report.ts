/** @module bench/report — BENCHMARKS.md: the machine, the command, and one table per benchmark. */
import type { Machine } from "./lib/machine.ts";
import type { Section } from "./lib/section.ts";

export interface ReportInput {
  machine: Machine;
  sections: Section[];
  quick: boolean;
  durationMs: number;
  loads: string[];
  date: Date;
  command: string;
}

const verdict = (pass: boolean | undefined) => (pass === undefined ? "" : pass ? "PASS" : "**MISS**");
const cell = (text: string | undefined) => (text ?? "").replace(/\|/g, "\\|");

function summary(sections: Section[]): string[] {
  const rows = sections.flatMap((s) =>
    s.figures
      .filter((f) => f.target)
      .map(
        (f) =>
          `| ${s.id}. ${cell(s.title)} | ${cell(f.figure)} | ${cell(f.before ?? "")} | ${cell(f.sundial)} | ${cell(f.target)} | ${verdict(f.pass)} |`,
      ),
  );
  const skipped = sections
    .filter((s) => s.skipped)
    .map((s) => `| ${s.id}. ${cell(s.title)} | — | | not measured | — | ${cell(s.skipped)} |`);
  return [
    'Before: the figure on the round-one code, where this round\'s issues measured it (their "now" column).',
    "",
    "| benchmark | figure | before | Sundial | target | verdict |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
    ...skipped,
  ];
}

function section(s: Section): string[] {
  const out = [`## ${s.id}. ${s.title}`, ""];
  if (s.skipped) return [...out, `Not measured: ${s.skipped}`, ""];
  if (s.method) out.push(s.method, "");
  const peers = s.figures.some((f) => f.croner !== undefined || f.nodeCron !== undefined);
  out.push(
    peers ? "| figure | Sundial | croner | node-cron | target | verdict |" : "| figure | Sundial | target | verdict |",
  );
  out.push(peers ? "| --- | --- | --- | --- | --- | --- |" : "| --- | --- | --- | --- |");
  for (const f of s.figures) {
    const peerCells = peers ? ` ${cell(f.croner ?? "—")} | ${cell(f.nodeCron ?? "—")} |` : "";
    out.push(`| ${cell(f.figure)} | ${cell(f.sundial)} |${peerCells} ${cell(f.target ?? "")} | ${verdict(f.pass)} |`);
  }
  if (s.notes.length) out.push("", ...s.notes.map((note) => `- ${note}`));
  return [...out, ""];
}

export function renderReport(input: ReportInput): string {
  const { machine } = input;
  return [
    "# Benchmarks",
    "",
    "Measured by `bench/` (see `bench/index.ts`); regenerate with the command below. Benchmarks report and never fail the",
    "test suite. Each figure is one run on a shared machine, so treat timings as ± tens of percent; memory is steadier.",
    "",
    `- command: \`${input.command}\`${input.quick ? " (quick: idle window shortened to 15 s)" : ""}`,
    `- date: ${input.date.toISOString()}; took ${Math.round(input.durationMs / 1000)} s`,
    `- machine: ${machine.nproc} cores (nproc), ${machine.cpuModel}, ${machine.memory}, ${machine.os}`,
    `- Node ${machine.node}`,
    `- 1-minute load average when each benchmark began: ${input.loads.join(", ")} (other work may have been running on this machine)`,
    '- where a target is missed: `node bin/run-ts.js bench/profile.ts <jobs> [--cron "<pattern>"] [--seconds N] [--patterns P]` profiles the daemon in-process; ' +
      "`BENCH_SUNDIAL_BIN=<checkout>/bin/sundial.js npm run bench` measures another checkout (a candidate fix) with these benchmarks",
    "",
    "## Summary",
    "",
    ...summary(input.sections),
    "",
    ...input.sections.flatMap(section),
  ].join("\n");
}
