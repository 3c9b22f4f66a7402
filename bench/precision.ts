/**
 * @module bench/precision — 2. fire precision: 1,000 jobs due in the same second, no-op skill,
 * measured over several such seconds: fire lag from the ledger (started_at − scheduled_for) and as
 * the skill saw it, time until all 1,000 rows of the second are final, and the daemon's CPU per
 * run; beside bare croner and node-cron firing the same 1,000 callbacks.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { cpuMs } from "./lib/proc.ts";
import { lagsBySlot, PROBE_SKILL } from "./lib/probe-skill.ts";
import { runPeer } from "./lib/peer.ts";
import { ms, percentile } from "./lib/stats.ts";
import { BenchWorkspace } from "./lib/workspace.ts";
import type { BenchOptions, Section } from "./lib/section.ts";

const JOBS = 1000;
const EVERY_S = 5;
const BURSTS = 3;
const PATTERN = `*/${EVERY_S} * * * * *`;

interface Burst {
  slot: number;
  ledgerLags: number[];
  allFinalMs: number;
  cpuMs: number;
}

interface PeerFire {
  bursts: { slot: number; lags: number[]; cpuMs: number }[];
}

/** Waits until every row of `slot` is final; returns ms from the slot to the last finished_at. */
async function untilFinal(
  db: Database.Database,
  slot: number,
  deadline: number,
): Promise<{ lags: number[]; lastFinish: number }> {
  const rows = db.prepare(`SELECT started_at AS started, finished_at AS finished FROM runs WHERE scheduled_for = ?`);
  for (;;) {
    const list = rows.all(slot) as { started: number | null; finished: number | null }[];
    if (list.length >= JOBS && list.every((row) => row.finished !== null)) {
      return {
        lags: list.map((row) => (row.started ?? row.finished ?? slot) - slot),
        lastFinish: Math.max(...list.map((row) => row.finished as number)),
      };
    }
    if (Date.now() > deadline)
      throw new Error(
        `slot ${new Date(slot).toISOString()}: ${list.length} rows, ${list.filter((r) => r.finished !== null).length} final after the deadline`,
      );
    await sleep(20);
  }
}

async function daemonBursts(
  options: BenchOptions,
): Promise<{ bursts: Burst[]; probe: Map<number, number[]>; statuses: string }> {
  const ws = new BenchWorkspace("precision", { probe: PROBE_SKILL });
  const probeFile = join(ws.dir, "probe.json");
  try {
    ws.writeSchedules({
      maxConcurrentRuns: JOBS,
      jobs: Array.from({ length: JOBS }, (_, i) => ({ id: `job-${i}`, skill: "probe", cron: PATTERN })),
    });
    const daemon = await ws.start({ BENCH_PROBE_FILE: probeFile });
    const db = new Database(ws.dbFile, { readonly: true });
    db.pragma("busy_timeout = 5000");
    const everyMs = EVERY_S * 1000;
    const first = Math.ceil((Date.now() + 1500) / everyMs) * everyMs;
    const bursts: Burst[] = [];
    try {
      for (let i = 0; i < BURSTS; i++) {
        const slot = first + i * everyMs;
        await sleep(Math.max(0, slot - 300 - Date.now()));
        const cpuBefore = cpuMs(daemon.pid);
        const { lags, lastFinish } = await untilFinal(db, slot, slot + 60_000);
        const burst = { slot, ledgerLags: lags, allFinalMs: lastFinish - slot, cpuMs: cpuMs(daemon.pid) - cpuBefore };
        options.log(
          `  daemon burst ${i + 1}: p50 ${ms(percentile(lags, 50))}, p99 ${ms(percentile(lags, 99))}, all final after ${ms(burst.allFinalMs)}, cpu ${ms(burst.cpuMs)}`,
        );
        bursts.push(burst);
      }
    } finally {
      db.close();
    }
    const statuses = ws
      .query<{ status: string; n: number }>(`SELECT status, COUNT(*) AS n FROM runs GROUP BY status`)
      .map((r) => `${r.n} ${r.status}`)
      .join(", ");
    await daemon.stop();
    const notes = JSON.parse(readFileSync(probeFile, "utf8")) as number[];
    return { bursts, probe: lagsBySlot(notes), statuses };
  } finally {
    ws.cleanup();
  }
}

export async function precision(options: BenchOptions): Promise<Section> {
  const { bursts, probe, statuses } = await daemonBursts(options);
  const peers: Record<string, PeerFire> = {};
  for (const library of ["croner", "node-cron"]) {
    peers[library] = await runPeer<PeerFire>("fire-peer.ts", [library, String(JOBS), String(EVERY_S), String(BURSTS)]);
    const all = peers[library]?.bursts.flatMap((b) => b.lags) ?? [];
    options.log(`  ${library}: p50 ${ms(percentile(all, 50))}, p99 ${ms(percentile(all, 99))}`);
  }
  const ledgerLags = bursts.flatMap((b) => b.ledgerLags);
  const skillLags = bursts.flatMap((b) => probe.get(b.slot) ?? []);
  const worstFinal = Math.max(...bursts.map((b) => b.allFinalMs));
  const cpuPerRun = bursts.reduce((sum, b) => sum + b.cpuMs, 0) / (bursts.length * JOBS);
  const peerLags = (library: string) => peers[library]?.bursts.flatMap((b) => b.lags) ?? [];
  const peerAll = (library: string) =>
    ms(Math.max(...(peers[library]?.bursts.map((b) => Math.max(...b.lags)) ?? [Number.NaN])));
  const peerCpu = (library: string) => {
    const list = peers[library]?.bursts ?? [];
    return `${((1000 * list.reduce((s, b) => s + b.cpuMs, 0)) / (list.length * JOBS)).toFixed(0)} µs`;
  };
  const p99 = percentile(ledgerLags, 99);
  return {
    id: 2,
    title: "Fire precision (1,000 jobs due in the same second)",
    method:
      `1,000 jobs on \`${PATTERN}\` (UTC) with a no-op skill, \`maxConcurrentRuns: ${JOBS}\` so all may start together, in one fresh daemon; ` +
      `${BURSTS} consecutive due seconds measured, the first at least 1.5 s after ready. Lag = started_at − scheduled_for from the ledger ` +
      `(and, separately, when the skill's run() really began, noted by the skill); "all final" = last finished_at − the second. ` +
      `Daemon work per run = the daemon's CPU time (/proc utime+stime, all threads) from 300 ms before the second until all its rows are final, ÷ 1,000. ` +
      `Peers: 1,000 callbacks on the same pattern in a fresh process (croner \`new Cron(p, fn)\`, node-cron \`schedule(p, fn)\`), lag = callback time − the second.`,
    figures: [
      {
        figure: "fire lag p50 (ledger started_at)",
        sundial: ms(percentile(ledgerLags, 50)),
        croner: ms(percentile(peerLags("croner"), 50)),
        nodeCron: ms(percentile(peerLags("node-cron"), 50)),
      },
      {
        figure: "fire lag p99 (ledger started_at)",
        sundial: ms(p99),
        croner: ms(percentile(peerLags("croner"), 99)),
        nodeCron: ms(percentile(peerLags("node-cron"), 99)),
        target: "≤ 50 ms",
        pass: p99 <= 50,
      },
      {
        figure: "skill run() began, lag p50 / p99",
        sundial: `${ms(percentile(skillLags, 50))} / ${ms(percentile(skillLags, 99))}`,
        target: "p99 < 50 ms",
        before: "p99 117 ms",
        pass: percentile(skillLags, 99) < 50,
      },
      {
        figure: "all 1,000 final (worst second) / last callback",
        sundial: ms(worstFinal),
        croner: peerAll("croner"),
        nodeCron: peerAll("node-cron"),
      },
      {
        figure: "daemon CPU per run / per callback",
        sundial: `${(cpuPerRun * 1000).toFixed(0)} µs`,
        croner: peerCpu("croner"),
        nodeCron: peerCpu("node-cron"),
        target: "< 1 ms",
        pass: cpuPerRun < 1,
      },
    ],
    notes: [
      `Rows in the ledger at the end: ${statuses}.`,
      "The ledger's started_at is written when the slot is claimed (one timestamp for the whole batch), so it measures the scheduler's wake-up and claim; the skill's own clock shows when run() began.",
      `With the default \`maxConcurrentRuns\` (16) the 1,000 runs of a second would wait for 16 slots; the benchmark sets it to ${JOBS}.`,
      ...bursts.map((b, i) => {
        const skill = probe.get(b.slot) ?? [];
        return `Second ${i + 1}: ledger lag p50 ${ms(percentile(b.ledgerLags, 50))}, p99 ${ms(percentile(b.ledgerLags, 99))}; run() began p50 ${ms(percentile(skill, 50))}, p99 ${ms(percentile(skill, 99))}; all final after ${ms(b.allFinalMs)}; daemon CPU ${ms(b.cpuMs)}.`;
      }),
    ],
  };
}
