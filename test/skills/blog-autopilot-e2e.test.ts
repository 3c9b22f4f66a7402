/**
 * blog-autopilot on the daemon as a process, fired every second against the emulators: one pull
 * request and one Discord message per video however often it fires, complete front matter, the
 * hero image beside the article, and videos without usable captions skipped once, not every run.
 */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CHANNEL_ID } from "../emulators/discord.ts";
import { ONE_PIXEL_PNG } from "../emulators/leonardo.ts";
import { waitFor, type Workspace } from "../helpers/workspace.ts";
import {
  articleMarker,
  cleanedAfterEach,
  articleRequests,
  blogJob,
  blogWorkspace,
  CHANNEL_A,
  CHANNEL_B,
  POSTS_DIR,
  REPO,
  scriptedArticle,
  startEmulators,
  transcriptMarker,
  transcriptRequests,
  video,
  videoIdOf,
  watchUrl,
} from "./blog-fixtures.ts";

const held = cleanedAfterEach();

const stateOf = (w: Workspace, key: string) => {
  const row = w.query<{ value: string }>("SELECT value FROM job_state WHERE job = 'blog' AND key = ?", key)[0];
  return row ? (JSON.parse(row.value) as Record<string, Record<string, unknown>>) : {};
};

describe("blog-autopilot every second on the daemon", () => {
  it(
    "opens one PR and posts one Discord message per video, never twice, and skips caption-less and short videos once",
    { timeout: 150_000 },
    async () => {
      // Newest first, three per run: the first run takes A1, A2 (no captions) and B1; the second B2 (short) and A3.
      const videos = [
        video("vidA0000001", CHANNEL_A, "full", 10),
        video("vidA0000002", CHANNEL_A, "none", 20),
        video("vidB0000001", CHANNEL_B, "full", 30),
        video("vidB0000002", CHANNEL_B, "short", 40),
        video("vidA0000003", CHANNEL_A, "full", 50),
      ];
      const good = videos.filter((v) => v.captions === "full").map((v) => v.id);
      const e = (held.emulators = await startEmulators(videos));
      const w = (held.ws = blogWorkspace(e.env, [
        blogJob({ params: { frontMatter: { author: "Ada", title: "not this one" } } }),
      ]));
      const repo = e.github.repos.get(REPO) as NonNullable<ReturnType<typeof e.github.repos.get>>;

      const daemon = await w.start();
      const first = await waitFor(() => w.runs("blog")[0], { what: "the first run" });
      await waitFor(
        () => repo.pulls.length >= 3 && e.discord.messages.filter((m) => m.content.includes("/pull/")).length >= 3,
        {
          timeoutMs: 75_000,
          what: "three pull requests and their Discord messages",
        },
      );
      // Many more fires after the last delivery: none may open, post or ask anything again.
      const until = Math.max(first.scheduled_for + 8_000, Date.now() + 3_000);
      await waitFor(() => (w.runs("blog").at(-1)?.scheduled_for ?? 0) >= until, {
        timeoutMs: 30_000,
        what: "eight seconds of fires and three more",
      });
      await daemon.stop("SIGTERM");

      const runs = w.runs("blog");
      expect(runs.filter((run) => run.status === "failed" || run.status === "timed_out")).toEqual([]);
      const succeeded = runs.filter((run) => run.status === "succeeded");
      expect(succeeded).toHaveLength(2);
      // The second run read the cached system prompt the first one wrote.
      const [usage] = w.query<{ cache_read_tokens: number }>(
        "SELECT cache_read_tokens FROM runs WHERE id = ?",
        succeeded[1]?.id,
      );
      expect(usage?.cache_read_tokens).toBeGreaterThan(1000);
      expect(
        runs.filter((run) => run.status === "skipped" && run.reason === "no new videos").length,
      ).toBeGreaterThanOrEqual(3);

      // One pull request per good video, each with its article and image, opened once.
      expect(repo.pulls).toHaveLength(3);
      const seen = stateOf(w, "seen");
      for (const id of good) {
        const expected = scriptedArticle(id);
        const slug = `how-${id.toLowerCase()}-works`;
        const pull = repo.pulls.find((p) => p.head === `sundial/blog/${slug}`);
        expect(pull, `the PR of ${id}`).toBeDefined();
        expect(pull).toMatchObject({ title: expected.title, state: "open", labels: ["autopilot"] });
        expect(pull?.body).toContain(expected.description);
        const files = repo.files(`sundial/blog/${slug}`) as Map<string, Buffer>;
        expect([...files.keys()].sort()).toEqual(["README.md", `${POSTS_DIR}/${slug}.md`, `${POSTS_DIR}/${slug}.png`]);
        expect(files.get(`${POSTS_DIR}/${slug}.png`)?.equals(ONE_PIXEL_PNG)).toBe(true);

        const text = files.get(`${POSTS_DIR}/${slug}.md`)?.toString("utf8") ?? "";
        const [, yaml = "", body = ""] = /^---\n([\s\S]*?)\n---\n\n([\s\S]*)$/.exec(text) ?? [];
        const run = runs.find((r) => w.steps(r.id).some((s) => s.step_id === `article:${id}`));
        expect(parse(yaml)).toEqual({
          title: expected.title,
          date: new Date(run?.scheduled_for ?? 0).toISOString().slice(0, 10),
          description: expected.description,
          tags: ["testing", "video"],
          image: `${slug}.png`,
          source: watchUrl(id),
          draft: true,
          author: "Ada",
        });
        // The model's H1 title is gone (the blog renders the title); its text and the source link are there.
        expect(body.startsWith("An introduction.")).toBe(true);
        expect(body).toContain(articleMarker(id));
        expect(body).toContain(`](${watchUrl(id)})`);
        // The article was asked for with this video's transcript and no other's.
        const asked = e.anthropic.requests.filter((r) => r.body && videoIdOf(r.body) === id);
        expect(asked).toHaveLength(1);
        const prompt = JSON.stringify(asked[0]?.body?.messages);
        expect(prompt).toContain(transcriptMarker(id));
        for (const other of videos.filter((v) => v.id !== id)) expect(prompt).not.toContain(transcriptMarker(other.id));

        // Exactly one Discord message links this PR: it names the article and carries the image.
        const url = `https://github.com/${REPO}/pull/${pull?.number}`;
        const linking = e.discord.messages.filter((m) => m.content.includes(url));
        expect(linking).toHaveLength(1);
        expect(linking[0]).toMatchObject({ channelId: CHANNEL_ID });
        expect(linking[0]?.embeds[0]).toMatchObject({ title: expected.title, url });
        expect(linking[0]?.attachments.map((a) => a.filename)).toEqual([`${slug}.png`]);
        expect(e.discord.messages.filter((m) => m.embeds.some((embed) => embed.title === expected.title))).toHaveLength(
          1,
        );
        // The article's text follows once (markdown is the article), never posted twice.
        expect(e.discord.messages.filter((m) => m.content.includes(articleMarker(id)))).toHaveLength(1);
        expect(seen[id]).toMatchObject({ slug, url });
      }
      expect(e.anthropic.requests).toHaveLength(3);
      expect(e.leonardo.generations).toHaveLength(3);
      // The system prompt from prompts/system.md went with every request, marked for caching.
      for (const request of e.anthropic.requests) {
        expect(request.body?.system).toEqual([
          expect.objectContaining({
            cache_control: { type: "ephemeral" },
            text: expect.stringContaining("ghostwriter"),
          }),
        ]);
      }

      // Skipped once, with the reason kept, never fetched again, never written about.
      const skipped = stateOf(w, "skipped");
      expect(Object.keys(skipped).sort()).toEqual(["vidA0000002", "vidB0000002"]);
      expect(skipped.vidA0000002?.reason).toMatch(/^no captions: /);
      expect(skipped.vidB0000002?.reason).toMatch(/^transcript too short: \d+ characters, the minimum is 1500$/);
      for (const id of ["vidA0000002", "vidB0000002"]) {
        expect(transcriptRequests(e.youtube, id), `transcript requests for ${id}`).toBe(1);
        expect(articleRequests(e.anthropic, id)).toBe(0);
      }
      for (const id of good) expect(transcriptRequests(e.youtube, id)).toBe(1);
      expect(Object.keys(seen).sort()).toEqual([...good].sort());
      // The skip is in the run's log too.
      expect(
        daemon
          .logs()
          .filter((log) => log.msg === "video skipped")
          .map((log) => log.video),
      ).toEqual(["vidA0000002", "vidB0000002"]);
    },
  );
});
