/**
 * @module run-policies.test — the job's policies under `sundial run`: retries that resume after the
 * last finished step, non-retryable errors, timeouts through ctx.signal, and overlap "skip" when
 * the same job is run twice at once.
 */
import { afterAll, describe, it, expect } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pLimit from "p-limit";
import { createWorkspace, type CliResult } from "../helpers/workspace.ts";

const SKILLS = {
  flaky: `import { appendFileSync } from "node:fs";
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "flaky",
  description: "Fails on its first attempt, after a step that must not run twice.",
  params: z.object({ counter: z.string() }),
  async run(ctx) {
    const fetched = await ctx.step("fetch", async () => { appendFileSync(ctx.params.counter, "fetch\\n"); return { items: 3 }; });
    if (ctx.run.attempt === 1) throw new Error("transient: connection reset");
    return { title: "Flaky", markdown: "items: " + fetched.items + ", attempt " + ctx.run.attempt };
  },
});
`,
  fatal: `import { defineSkill, NonRetryableError, z } from "sundial";
export default defineSkill({
  name: "fatal",
  description: "Fails in a way no retry can fix.",
  params: z.object({}),
  async run() {
    throw new NonRetryableError("the API key was rejected");
  },
});
`,
  slow: `import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "slow",
  description: "Waits 5 s, honouring ctx.signal.",
  params: z.object({}),
  async run(ctx) {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, 5000);
      ctx.signal.addEventListener("abort", () => { clearTimeout(timer); reject(ctx.signal.reason); }, { once: true });
    });
    return { title: "Slow", markdown: "done" };
  },
});
`,
  gated: `import { existsSync } from "node:fs";
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "gated",
  description: "Runs until the test opens its gate (a file), honouring ctx.signal.",
  params: z.object({ gate: z.string() }),
  async run(ctx) {
    while (!existsSync(ctx.params.gate)) {
      ctx.signal.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return { title: "Gated", markdown: "through" };
  },
});
`,
};

const ws = createWorkspace({ skills: SKILLS });
const counter = join(ws.dir, "fetch-count.txt");
const gate = join(ws.dir, "gate");
const job = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  skill: id,
  cron: "0 9 * * *",
  retries: 0,
  deliver: [{ to: "stdout" }],
  ...extra,
});
ws.writeSchedules({
  jobs: [
    job("flaky", { retries: 2, retryBackoff: "100ms", params: { counter } }),
    job("fatal", { retries: 3, retryBackoff: "100ms" }),
    job("slow", { timeout: "1s" }),
    job("gated", { overlap: "skip", timeout: "60s", params: { gate } }),
  ],
});
afterAll(() => ws.cleanup());

const cli = (...args: string[]) => ws.runCli(["run", ...args], { LOG_LEVEL: "warn" }, 150_000);
// Each process spends seconds booting; a few at a time keep a shared 2-core machine responsive.
const limit = pLimit(4);
const queued = (...args: string[]) => {
  const result = limit(() => cli(...args));
  // Awaited by its test; a failure before then must not surface as an unhandled rejection.
  result.catch(() => undefined);
  return result;
};

// Queued now; each test awaits its own.
const runs = { flaky: queued("flaky"), fatal: queued("fatal"), slow: queued("slow") };

/** The job's only run, as stored. */
function onlyRun(jobId: string) {
  const rows = ws.runs(jobId);
  expect(rows, `runs of ${jobId}`).toHaveLength(1);
  return rows[0]!;
}

// Generous: the processes boot on a 2-core machine shared with other test runs.
describe("sundial run, retries and timeouts", { timeout: 240_000 }, () => {
  it("retries a failed attempt and resumes after the step that already succeeded", async () => {
    const result = await runs.flaky;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("items: 3, attempt 2");
    expect(onlyRun("flaky")).toMatchObject({ trigger: "manual", status: "succeeded", attempt: 2 });
    expect(readFileSync(counter, "utf8")).toBe("fetch\n");
  });

  it("fails at once on a NonRetryableError, whatever the retries", async () => {
    const result = await runs.fatal;
    expect(result.code).toBe(1);
    expect(onlyRun("fatal")).toMatchObject({ status: "failed", attempt: 1, error: "the API key was rejected" });
  });

  it("aborts a run at its timeout through ctx.signal and records timed_out, exit 1", async () => {
    const result = await runs.slow;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("timed_out");
    const run = onlyRun("slow");
    expect(run.status).toBe("timed_out");
    expect(run.error).toMatch(/timed out/);
  });
});

describe("sundial run twice at once, overlap skip", () => {
  it("runs one and records the other skipped with an overlap reason; both exit 0", async () => {
    const both: Promise<CliResult>[] = [cli("gated"), cli("gated")];
    try {
      // The gate opens only once both processes have claimed their row, so their runs truly overlap.
      const deadline = Date.now() + 150_000;
      while (ws.runs("gated").length < 2 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      writeFileSync(gate, "");
    }
    const results = await Promise.all(both);
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    const rows = ws.runs("gated");
    expect(rows.map((r) => r.status).sort()).toEqual(["skipped", "succeeded"]);
    expect(rows.find((r) => r.status === "skipped")?.reason).toMatch(/^overlap:/);
  }, 240_000);
});
