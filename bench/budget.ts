/**
 * @module bench/budget — 10. the cost of one budget check, which runs before every Claude call: the
 * call's bound computed locally (a 20 KB prompt, structured-output schema included) and its
 * reservation checked against five caps (a job's perRun, perDay and perMonth; the top-level perDay
 * and perMonth) in one IMMEDIATE transaction on a real ledger file holding a year of spend for 100
 * jobs, then released; the settle after an answer is timed too.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { openSqliteStore } from "../src/ledger/sqlite.ts";
import type { SpendCap } from "../src/ledger/store.ts";
import { maxCallCost, utf8Bytes } from "../src/budget/estimate.ts";
import { utcDay } from "../src/budget/periods.ts";
import { median, ms, percentile } from "./lib/stats.ts";
import type { BenchOptions, Figure, Section } from "./lib/section.ts";

const TARGET_MS = 1;
const JOBS = 100;
const DAYS = 365;

export async function budgetCheck(options: BenchOptions): Promise<Section> {
  const dir = mkdtempSync(join(tmpdir(), "sundial-bench-budget-"));
  const file = join(dir, "sundial.db");
  try {
    const store = openSqliteStore(file);
    const now = Date.now();
    // A year of spend: 100 jobs × 365 days × one model, written straight into the table.
    const db = new Database(file);
    const insert = db.prepare(
      `INSERT INTO spend (job, day, model, calls, input_tokens, output_tokens, cost_usd) VALUES (?, ?, 'claude-sonnet-5-5', 3, 30000, 3000, 0.09)`,
    );
    db.transaction(() => {
      for (let j = 0; j < JOBS; j++)
        for (let d = 0; d < DAYS; d++) insert.run(`job-${j}`, utcDay(now - d * 86_400_000));
    })();
    db.close();
    const [claim] = await store.claimRuns(
      [{ job: "job-7", skill: "s", scheduledFor: now, trigger: "manual", overlap: "allow" }],
      { pid: process.pid, instance: "bench" },
      now,
    );
    const runId = claim?.runId as number;
    const caps: SpendCap[] = [
      { scope: "job", period: "run", limitUsd: 5 },
      { scope: "job", period: "day", limitUsd: 50 },
      { scope: "job", period: "month", limitUsd: 500 },
      { scope: "all", period: "day", limitUsd: 5_000 },
      { scope: "all", period: "month", limitUsd: 50_000 },
    ];
    const prompt = "A transcript line of about sixty characters, said slowly.\n".repeat(350);
    const schema = {
      type: "object",
      properties: {
        title: { type: "string" },
        body: { type: "string" },
        tags: { type: "array", items: { type: "string" } },
      },
    };
    const usage = { inputTokens: 5000, outputTokens: 1200, cacheWriteTokens: 0, cacheReadTokens: 0 };

    const checks: number[] = [];
    const settles: number[] = [];
    const rounds = options.quick ? 500 : 3000;
    for (let i = 0; i < rounds + 50; i++) {
      const started = performance.now();
      const request = {
        model: "claude-sonnet-5-5",
        max_tokens: 4096,
        messages: [{ role: "user", content: prompt }],
        output_config: { format: { type: "json_schema", schema } },
      };
      const bound = maxCallCost({
        model: request.model,
        cachedBytes: utf8Bytes("You write articles."),
        otherBytes: utf8Bytes(JSON.stringify(request)),
        messages: 1,
        maxTokens: 4096,
      });
      const result = await store.reserveSpend({ runId, job: "job-7", amountUsd: bound.usd as number, now, caps });
      const checked = performance.now();
      if (!result.reserved) throw new Error("the bench's caps are meant to have room");
      if (i % 2) await store.releaseSpend(result.id);
      else
        await store.settleSpend(result.id, {
          runId,
          job: "job-7",
          model: "claude-sonnet-5-5",
          usage,
          costUsd: 0.0000001,
          now,
        });
      const settled = performance.now();
      // The first 50 warm up the statements and the page cache.
      if (i >= 50) {
        checks.push(checked - started);
        if (i % 2 === 0) settles.push(settled - checked);
      }
    }
    store.close();
    const p50 = median(checks);
    const p99 = percentile(checks, 99);
    const figures: Figure[] = [
      {
        figure: "budget check before a call (bound + reservation, 5 caps), median",
        sundial: ms(p50),
        target: `< ${TARGET_MS} ms`,
        pass: p50 < TARGET_MS,
      },
      { figure: "budget check, 99th percentile", sundial: ms(p99) },
      { figure: "settle after the answer (spend row + run spend), median", sundial: ms(median(settles)) },
    ];
    options.log(`  budget check median ${ms(p50)}, p99 ${ms(p99)}`);
    return {
      id: 10,
      title: "Budget check (before every Claude call)",
      method: `${rounds} checks in one process on a real SQLite ledger file (WAL) holding ${JOBS * DAYS} spend rows (${JOBS} jobs × ${DAYS} days): each computes a 20 KB structured call's bound and reserves it against five caps in one IMMEDIATE transaction; half are then released, half settled.`,
      figures,
      notes: [
        "The check is local: no token-counting request is made. Reservations are rows, so concurrent runs and processes see each other's calls in flight.",
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
