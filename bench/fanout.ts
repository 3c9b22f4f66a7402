/**
 * @module bench/fanout — 5. parallel fan-out: blog-autopilot over 8 new videos against the
 * YouTube, Anthropic (each answer delayed 1 s), GitHub and Discord emulators, at concurrency 1 and
 * at the skill's default; the ratio of the run's wall times. Also hands its second workspace to
 * the prompt-cache benchmark (a second run over new videos reads the cached system prompt).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  addVideos,
  blogJob,
  CHANNEL_A,
  CHANNEL_B,
  startEmulators,
  video,
  type Emulators,
} from "../test/skills/blog-fixtures.ts";
import { cacheShare, runJob, type RecordedRun } from "./lib/skill-runs.ts";
import { ms } from "./lib/stats.ts";
import { BenchWorkspace, repoRoot } from "./lib/workspace.ts";
import type { BenchOptions, Section } from "./lib/section.ts";

const VIDEOS = 8;
const ROUNDS = 3;

/** The run with the middle wall time. */
const middle = <T extends { wallMs: number }>(runs: T[]): T =>
  [...runs].sort((a, b) => a.wallMs - b.wallMs)[Math.floor(runs.length / 2)] as T;
const DELAY_MS = 1000;

export function blogSkillPresent(): boolean {
  return existsSync(join(repoRoot, "skills", "blog-autopilot", "index.ts"));
}

const videosOf = (prefix: string, count: number, minutesAgo = 10) =>
  Array.from({ length: count }, (_, i) =>
    video(
      `${prefix}${String(i + 1).padStart(11 - prefix.length, "0")}`,
      i % 2 ? CHANNEL_B : CHANNEL_A,
      "full",
      minutesAgo + i,
    ),
  );

/** Where a run's wall time went: before its first step, and after its last article was written. */
export interface Phases {
  beforeFirstStepMs: number;
  afterLastArticleMs: number;
}

function phasesOf(ws: BenchWorkspace, runId: number): Phases {
  const [run] = ws.query<{ started_at: number; finished_at: number }>(
    `SELECT started_at, finished_at FROM runs WHERE id = ?`,
    runId,
  );
  const steps = ws.query<{ step_id: string; started_at: number; finished_at: number }>(
    `SELECT step_id, started_at, finished_at FROM steps WHERE run_id = ?`,
    runId,
  );
  const firstStep = Math.min(...steps.map((s) => s.started_at));
  const lastArticle = Math.max(...steps.filter((s) => s.step_id.startsWith("article:")).map((s) => s.finished_at));
  return {
    beforeFirstStepMs: firstStep - (run?.started_at ?? firstStep),
    afterLastArticleMs: (run?.finished_at ?? lastArticle) - lastArticle,
  };
}

async function blogRun(
  concurrency: number | undefined,
  then?: (ws: BenchWorkspace, e: Emulators) => Promise<void>,
): Promise<RecordedRun & Phases> {
  const e = await startEmulators(videosOf("vidF", VIDEOS));
  const ws = new BenchWorkspace("fanout", {});
  try {
    e.anthropic.delayMs = DELAY_MS;
    ws.copySkill("blog-autopilot");
    const params = { maxVideos: VIDEOS, heroImage: false, ...(concurrency ? { concurrency } : {}) };
    ws.writeSchedules({ jobs: [blogJob({ cron: "0 0 1 1 *", params })] });
    const run = { ...(await runJob(ws, "blog", e.env)) };
    const phases = phasesOf(ws, run.id);
    await then?.(ws, e);
    return { ...run, ...phases };
  } finally {
    ws.cleanup();
    await e.close();
  }
}

export interface FanoutResult {
  section: Section;
  /** The prompt-cache figures of blog-autopilot (first run, and a second over two new videos). */
  cache: { first: RecordedRun; second: RecordedRun };
}

export async function fanout(options: BenchOptions): Promise<FanoutResult> {
  // Imported here, not at the top, so the other benchmarks run while the skill does not exist yet.
  const { blogParams } = await import("../skills/blog-autopilot/params.ts");
  const defaultConcurrency = blogParams.parse({ channels: [CHANNEL_A] }).concurrency;
  // Alternating runs, the middle one of each kept: one run on a shared machine is a coin toss.
  const serialRuns: (RecordedRun & Phases)[] = [];
  const parallelRuns: (RecordedRun & Phases)[] = [];
  let second: RecordedRun | undefined;
  for (let round = 0; round < ROUNDS; round++) {
    serialRuns.push(await blogRun(1));
    parallelRuns.push(
      await blogRun(undefined, async (ws, e) => {
        if (second) return;
        addVideos(e.youtube, videosOf("vidN", 2, 1));
        second = await runJob(ws, "blog", e.env);
      }),
    );
    options.log(
      `  round ${round + 1}: concurrency 1 ${ms(serialRuns.at(-1)?.wallMs ?? 0)}, concurrency ${defaultConcurrency} ${ms(parallelRuns.at(-1)?.wallMs ?? 0)}`,
    );
  }
  const serial = middle(serialRuns);
  const parallel = middle(parallelRuns);
  const ratio = serial.wallMs / parallel.wallMs;
  const target = 0.95 * Math.min(defaultConcurrency, VIDEOS);
  return {
    cache: { first: parallel, second: second as RecordedRun },
    section: {
      id: 5,
      title: "Parallel fan-out (blog-autopilot, 8 videos, Claude 1 s per answer)",
      method:
        `\`sundial run\` of a blog-autopilot job (heroImage off, maxVideos ${VIDEOS}, delivering a pull request and a Discord message per article) ` +
        `against the YouTube, Anthropic (\`delayMs: ${DELAY_MS}\`), GitHub and Discord emulators of test/emulators, fresh emulators and workspace each time, ${ROUNDS} alternating rounds; ` +
        `wall time = the run's finished_at − started_at in the ledger. Each article is delivered as soon as it is written (\`ctx.deliver\`), its pull request then its Discord message; transcripts are fetched ahead of the articles.`,
      figures: [
        { figure: `wall time, concurrency 1 (middle of ${ROUNDS})`, sundial: ms(serial.wallMs) },
        {
          figure: `wall time, concurrency ${defaultConcurrency} (the default; middle of ${ROUNDS})`,
          sundial: ms(parallel.wallMs),
        },
        {
          figure: "ratio",
          sundial: `${ratio.toFixed(2)}×`,
          target: `≥ ${target.toFixed(1)}× (0.95 × min(${defaultConcurrency}, 8))`,
          before: "3.61×",
          pass: ratio >= target,
        },
        {
          figure: "process wall time (spawn to exit), concurrency 1 / default",
          sundial: `${ms(serial.processMs)} / ${ms(parallel.processMs)}`,
        },
      ],
      notes: [
        `Every run's wall time, concurrency 1: ${serialRuns.map((run) => ms(run.wallMs)).join(", ")}; concurrency ${defaultConcurrency}: ${parallelRuns.map((run) => ms(run.wallMs)).join(", ")}.`,
        `Before the first step (the run's state reads and, in a fresh process, importing the integrations): ${ms(serial.beforeFirstStepMs)} / ${ms(parallel.beforeFirstStepMs)}.`,
        `From the last article written to the end of the run (that article's pull request and Discord message): ${ms(serial.afterLastArticleMs)} / ${ms(parallel.afterLastArticleMs)}.`,
        `Share of input tokens from cache in these runs: ${(100 * cacheShare(serial)).toFixed(0)}% / ${(100 * cacheShare(parallel)).toFixed(0)}%.`,
      ],
    },
  };
}
