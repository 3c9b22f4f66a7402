/**
 * blog-autopilot works on its videos in parallel: with the emulated Claude taking a second per
 * answer, the four article steps of one `sundial run` overlap in time. The wall time and the sum
 * of the step times are printed for the record, not asserted (the machine's cores are shared).
 */
import { describe, expect, it } from "vitest";
import {
  blogJob,
  cleanedAfterEach,
  blogWorkspace,
  CHANNEL_A,
  CHANNEL_B,
  startEmulators,
  video,
} from "./blog-fixtures.ts";

const held = cleanedAfterEach();

describe("blog-autopilot over four videos with a slow Claude", () => {
  it(
    "writes the four articles at once: every article step starts before the first one ends",
    { timeout: 90_000 },
    async () => {
      const videos = [
        video("vidP0000001", CHANNEL_A, "full", 10),
        video("vidP0000002", CHANNEL_B, "full", 20),
        video("vidP0000003", CHANNEL_A, "full", 30),
        video("vidP0000004", CHANNEL_B, "full", 40),
      ];
      const e = (held.emulators = await startEmulators(videos));
      e.anthropic.delayMs = 1_000;
      const job = blogJob({
        cron: "0 0 1 1 *",
        params: { maxVideos: 4, concurrency: 4, heroImage: false },
        deliver: [{ to: "stdout" }],
      });
      const w = (held.ws = blogWorkspace(e.env, [job]));

      const result = await w.runCli(["run", "blog"]);
      expect(result.code, result.stderr).toBe(0);
      const [run] = w.runs("blog");
      expect(run).toMatchObject({ status: "succeeded", trigger: "manual" });
      const steps = w.steps(run?.id ?? 0);
      const articles = steps.filter((s) => s.step_id.startsWith("article:"));
      expect(articles.map((s) => s.step_id).sort()).toEqual(videos.map((v) => `article:${v.id}`));
      const firstEnd = Math.min(...articles.map((s) => s.finished_at as number));
      for (const step of articles) {
        expect(step.status).toBe("succeeded");
        // Each waited for its one-second answer…
        expect((step.finished_at as number) - step.started_at, step.step_id).toBeGreaterThanOrEqual(1_000);
        // …while the others were already waiting for theirs.
        expect(step.started_at, `${step.step_id} started before the first article was done`).toBeLessThan(firstEnd);
      }
      expect(e.anthropic.requests).toHaveLength(4);

      const wallMs = (run?.finished_at as number) - (run?.started_at as number);
      const sumMs = steps
        .filter((s) => !s.step_id.startsWith("deliver:"))
        .reduce((sum, s) => sum + ((s.finished_at as number) - s.started_at), 0);
      const articleSumMs = articles.reduce((sum, s) => sum + ((s.finished_at as number) - s.started_at), 0);
      const longest = Math.max(
        ...videos.map((v) =>
          steps
            .filter((s) => s.step_id.endsWith(`:${v.id}`))
            .reduce((sum, s) => sum + ((s.finished_at as number) - s.started_at), 0),
        ),
      );
      console.log(
        `blog-autopilot, 4 videos, Claude delayed 1 s per call: run wall time ${wallMs} ms; longest single branch (transcript + article) ${longest} ms; ` +
          `sum of all step times ${sumMs} ms (article steps alone ${articleSumMs} ms)`,
      );
    },
  );

  it(
    "one video at a time: fetches every transcript ahead, and delivers each article before the next is written",
    { timeout: 90_000 },
    async () => {
      const videos = [
        video("vidQ0000001", CHANNEL_A, "full", 10),
        video("vidQ0000002", CHANNEL_B, "full", 20),
        video("vidQ0000003", CHANNEL_A, "full", 30),
      ];
      const e = (held.emulators = await startEmulators(videos));
      e.anthropic.delayMs = 500;
      const job = blogJob({
        cron: "0 0 1 1 *",
        params: { maxVideos: 3, concurrency: 1, heroImage: false },
        deliver: [{ to: "stdout" }],
      });
      const w = (held.ws = blogWorkspace(e.env, [job]));

      const result = await w.runCli(["run", "blog"]);
      expect(result.code, result.stderr).toBe(0);
      const steps = w.steps(w.runs("blog")[0]?.id ?? 0);
      const step = (id: string) => {
        const found = steps.find((s) => s.step_id === id);
        expect(found, id).toBeDefined();
        return found as (typeof steps)[number];
      };
      const articles = videos.map((v) => step(`article:${v.id}`)).sort((a, b) => a.started_at - b.started_at);
      // One article at a time…
      for (let i = 1; i < articles.length; i++)
        expect(articles[i]?.started_at).toBeGreaterThanOrEqual(articles[i - 1]?.finished_at as number);
      // …with every transcript in before the second article starts…
      for (const v of videos)
        expect(step(`transcript:${v.id}`).finished_at).toBeLessThanOrEqual(articles[1]?.started_at as number);
      // …and each article out before the last one is written.
      const firstWritten = (articles[0]?.step_id ?? "").slice("article:".length);
      expect(step(`deliver:${firstWritten}:0:stdout`).finished_at).toBeLessThan(articles[2]?.finished_at as number);
    },
  );
});
