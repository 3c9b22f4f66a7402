/** @module format — plain-text tables, costs, the step timeline that `show` prints, and `--json` documents. */
import type { RunRecord, StepRecord } from "../types.ts";
import { formatDuration } from "../util/duration.ts";
import { escapeJsonControls, stripControlsOneLine } from "../util/terminal-text.ts";

/**
 * JSON keeps stored text exact; JSON.stringify already writes C0 controls as \u escapes, and this
 * writes the rest a terminal would act on (DEL, C1, bidi overrides) the same way.
 */
export function printJson(value: unknown, scrub: (text: string) => string = (text) => text): void {
  const json = escapeJsonControls(JSON.stringify(value, null, 2));
  process.stdout.write(`${scrub(json)}\n`);
}

export function formatCost(cost: number | null): string {
  if (cost === null) return "cost unknown";
  return `$${cost < 0.01 && cost > 0 ? cost.toFixed(4) : cost.toFixed(2)}`;
}

export function table(headers: string[], given: string[][]): string {
  // Cells hold stored text from outside (errors, reasons): no escape can clear the screen or fake a row.
  const rows = given.map((row) => row.map(stripControlsOneLine));
  // Every column but the last is capped, so one long reason cannot push the table off the screen.
  const widths = headers.map((header, i) => {
    const widest = Math.max(header.length, ...rows.map((row) => (row[i] ?? "").length));
    return i === headers.length - 1 ? widest : Math.min(60, widest);
  });
  const cell = (text: string, i: number) =>
    text.length > (widths[i] as number)
      ? `${text.slice(0, (widths[i] as number) - 1)}…`
      : text.padEnd(widths[i] as number);
  return [headers, ...rows].map((row) => row.map(cell).join("  ").trimEnd()).join("\n") + "\n";
}

/**
 * Steps on one time axis, so a reader sees what ran in parallel, with the run's wall time beside
 * the sum of its steps' times.
 */
export function timeline(run: RunRecord, steps: StepRecord[], width = 40): string[] {
  const start = Date.parse(run.startedAt ?? steps[0]?.startedAt ?? run.scheduledFor);
  const end = Date.parse(run.finishedAt ?? new Date().toISOString());
  const span = Math.max(1, end - start);
  const nameWidth = Math.min(40, Math.max(4, ...steps.map((s) => s.id.length)));
  let sum = 0;
  const lines = steps.map((step) => {
    const s = Date.parse(step.startedAt);
    const e = step.finishedAt ? Date.parse(step.finishedAt) : end;
    if (step.reusedFrom === null) sum += e - s;
    const from = Math.max(0, Math.min(width - 1, Math.floor(((s - start) / span) * width)));
    const to = Math.max(from + 1, Math.min(width, Math.ceil(((e - start) / span) * width)));
    const bar =
      step.reusedFrom !== null
        ? " ".repeat(width)
        : `${" ".repeat(from)}${"█".repeat(to - from)}${" ".repeat(width - to)}`;
    const note =
      step.reusedFrom !== null ? `reused from #${step.reusedFrom}` : `${step.status} ${formatDuration(e - s)}`;
    const id = stripControlsOneLine(step.id);
    const name = id.length > nameWidth ? `${id.slice(0, nameWidth - 1)}…` : id.padEnd(nameWidth);
    return `  ${name} │${bar}│ ${note}${step.error ? ` — ${stripControlsOneLine(step.error)}` : ""}`;
  });
  return [
    "steps",
    ...lines,
    `  wall time ${formatDuration(end - start)} · sum of step times ${formatDuration(sum)}${sum > (end - start) * 1.05 ? " (steps ran in parallel)" : ""}`,
  ];
}
