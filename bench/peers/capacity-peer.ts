/**
 * @module bench/peers/capacity-peer — builds the capacity benchmark's 10,000 schedules with a bare
 * library in this fresh process: `croner` (one paused `Cron` with `timezone` each) or `node-cron`
 * (one `createTask` with `timezone` each, not started). Prints memory and build time as JSON.
 */
import { Cron } from "croner";
import cron from "node-cron";
import { drawSchedules } from "../lib/draw.ts";

const [library, total = "10000"] = process.argv.slice(2);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const schedules = drawSchedules(Number(total));
const noop = () => undefined;
const cpu = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

gc();
const rssBaseline = process.memoryUsage().rss;
const kept: unknown[] = [];
const cpuBefore = cpu();
const started = performance.now();
for (const { cron: pattern, timezone } of schedules) {
  if (library === "croner") kept.push(new Cron(pattern, { timezone, paused: true }, noop));
  else if (library === "node-cron") kept.push(cron.createTask(pattern, noop, { timezone }));
  else throw new Error(`unknown library ${library}`);
}
const buildMs = performance.now() - started;
const cpuMs = cpu() - cpuBefore;
const rssBeforeGc = process.memoryUsage().rss;
gc();
const rssAfterGc = process.memoryUsage().rss;
process.stdout.write(
  JSON.stringify({ library, jobs: kept.length, buildMs, cpuMs, rssBaseline, rssBeforeGc, rssAfterGc }),
);
process.exit(0);
