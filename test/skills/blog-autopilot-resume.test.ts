/**
 * blog-autopilot killed (SIGKILL) after its articles were written, while the pull requests are
 * being opened: the next start resumes the run, the PRs and Discord messages appear once each, and
 * Claude is not asked for those articles again.
 */
import { describe, expect, it } from "vitest";
import { CHANNEL_ID } from "../emulators/discord.ts";
import { waitFor } from "../helpers/workspace.ts";
import {
  articleRequests,
  blogJob,
  cleanedAfterEach,
  blogWorkspace,
  CHANNEL_A,
  CHANNEL_B,
  REPO,
  startEmulators,
  video,
} from "./blog-fixtures.ts";

const held = cleanedAfterEach();

describe("blog-autopilot killed between writing and delivering", () => {
  it("delivers every article after the restart without asking Claude again", { timeout: 150_000 }, async () => {
    const videos = [
      video("vidK0000001", CHANNEL_A, "full", 10),
      video("vidK0000002", CHANNEL_B, "full", 20),
      video("vidK0000003", CHANNEL_A, "full", 30),
    ];
    const ids = videos.map((v) => v.id);
    const e = (held.emulators = await startEmulators(videos));
    const w = (held.ws = blogWorkspace(e.env, [
      blogJob({
        params: { heroImage: false },
        deliver: [
          { to: "github-pr", repo: REPO, base: "main", dir: "content/posts" },
          { to: "discord", channel: CHANNEL_ID },
        ],
      }),
    ]));
    const repo = e.github.repos.get(REPO) as NonNullable<ReturnType<typeof e.github.repos.get>>;
    // Each article is delivered as soon as it is written, so the three deliveries overlap: the
    // first GitHub write of each (its blob upload; the run's earlier reads learn the blog) hangs
    // long enough for the kill to land while they all wait.
    e.github.failNext(ids.length, { delayMs: 20_000, method: "POST" });

    const first = await w.start();
    const victim = await waitFor(
      () =>
        w.runs("blog").find((run) => {
          const steps = w.steps(run.id);
          const articles = steps.filter((s) => s.step_id.startsWith("article:") && s.status === "succeeded");
          return (
            run.status === "running" &&
            articles.length === ids.length &&
            steps.some((s) => s.step_id.startsWith("deliver:") && s.status === "running")
          );
        }),
      { timeoutMs: 45_000, what: "a run with every article written, delivering" },
    );
    await first.stop("SIGKILL");
    const written = w.steps(victim.id).filter((s) => s.step_id.startsWith("article:"));
    expect(written.map((s) => [s.step_id, s.status]).sort()).toEqual(
      ids.map((id) => [`article:${id}`, "succeeded"]).sort(),
    );
    expect(e.anthropic.requests).toHaveLength(3);
    expect(repo.pulls).toHaveLength(0);
    expect(e.discord.messages).toHaveLength(0);

    const second = await w.start();
    const resumed = await waitFor(
      () => w.runs("blog").find((run) => run.resume_of === victim.id && run.finished_at !== null),
      {
        timeoutMs: 75_000,
        what: "the resumed run to finish",
      },
    );
    // A few more fires: nothing new, nothing sent again.
    const until = Date.now() + 3_000;
    await waitFor(() => (w.runs("blog").at(-1)?.scheduled_for ?? 0) >= until, {
      timeoutMs: 30_000,
      what: "three more seconds of fires",
    });
    await second.stop("SIGTERM");

    expect(resumed).toMatchObject({ trigger: "resume", status: "succeeded" });
    const steps = w.steps(resumed.id);
    for (const id of ids) {
      // The article step was copied from the killed run, not run again.
      expect(steps.find((s) => s.step_id === `article:${id}`)).toMatchObject({
        status: "succeeded",
        reused_from: victim.id,
      });
      expect(articleRequests(e.anthropic, id)).toBe(1);
    }
    expect(e.anthropic.requests).toHaveLength(3);
    expect(repo.pulls).toHaveLength(3);
    expect(new Set(repo.pulls.map((p) => p.head)).size).toBe(3);
    for (const pull of repo.pulls) {
      const url = `https://github.com/${REPO}/pull/${pull.number}`;
      expect(e.discord.messages.filter((m) => m.content.includes(url))).toHaveLength(1);
    }
    // Slots while it was down are "missed" (catchUp: none); later ones found nothing new.
    const later = w.runs("blog").filter((run) => run.id > resumed.id);
    expect(
      later.filter(
        (run) =>
          run.status !== "missed" && !(run.status === "skipped" && /^(no new videos|overlap:)/.test(run.reason ?? "")),
      ),
    ).toEqual([]);
  });
});
