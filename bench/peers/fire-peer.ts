/**
 * @module bench/peers/fire-peer — `jobs` callbacks on "*\/<every> * * * * *" with bare croner or
 * node-cron in this fresh process; records, for `bursts` slots that begin at least 1.5 s after
 * start-up, each callback's lag (callback time − the slot's time) and the CPU used per callback.
 * Prints JSON: { bursts: [{ slot, lags: number[], cpuMs }] }.
 */
import { Cron } from "croner";
import cron from "node-cron";

const [library = "croner", jobsText = "1000", everyText = "5", burstsText = "3"] = process.argv.slice(2);
const jobs = Number(jobsText);
const everyMs = Number(everyText) * 1000;
const bursts = Number(burstsText);
const pattern = `*/${everyText} * * * * *`;
const cpu = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

const firstSlot = Math.ceil((Date.now() + 1500) / everyMs) * everyMs;
const lagsBySlot = new Map<number, number[]>();
const cpuAtSlot = new Map<number, number>();
const results: { slot: number; lags: number[]; cpuMs: number }[] = [];
const stops: (() => unknown)[] = [];

function onFire(): void {
  const now = Date.now();
  const slot = Math.floor(now / everyMs) * everyMs;
  if (slot < firstSlot) return;
  const lags = lagsBySlot.get(slot) ?? [];
  lags.push(now - slot);
  lagsBySlot.set(slot, lags);
  if (lags.length === jobs) {
    results.push({ slot, lags, cpuMs: cpu() - (cpuAtSlot.get(slot) ?? cpu()) });
    if (results.length === bursts) finish();
  }
}

function finish(): void {
  for (const stop of stops) stop();
  process.stdout.write(JSON.stringify({ library, pattern, bursts: results }));
  process.exit(0);
}

// CPU is read just before each slot, so a burst's figure is what its callbacks cost.
for (let i = 0; i < bursts + 2; i++) {
  const slot = firstSlot + i * everyMs;
  setTimeout(() => cpuAtSlot.set(slot, cpu()), Math.max(0, slot - 300 - Date.now()));
}
for (let i = 0; i < jobs; i++) {
  if (library === "croner") {
    const job = new Cron(pattern, onFire);
    stops.push(() => job.stop());
  } else {
    const task = cron.schedule(pattern, onFire);
    stops.push(() => task.stop());
  }
}
setTimeout(
  () => {
    process.stderr.write(`fire-peer: only ${results.length} of ${bursts} bursts completed\n`);
    finish();
  },
  firstSlot - Date.now() + (bursts + 6) * everyMs,
).unref();
