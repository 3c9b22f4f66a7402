/**
 * `sundial run <job> --dry-run` of blog-autopilot: YouTube, Claude and Leonardo are called for
 * real, but no pull request is opened, no Discord message posted and the job's state is not
 * touched; stdout shows the PR (branch, title, body, every file) and every Discord message.
 */
import { describe, expect, it } from "vitest";
import {
  addVideos,
  cleanedAfterEach,
  articleMarker,
  articleRequests,
  blogJob,
  blogWorkspace,
  CHANNEL_A,
  POSTS_DIR,
  REPO,
  scriptedArticle,
  startEmulators,
  transcriptRequests,
  video,
  watchUrl,
} from "./blog-fixtures.ts";

const held = cleanedAfterEach();

describe("blog-autopilot --dry-run", () => {
  it(
    "writes the article for real but delivers nothing, changes no state and prints what would be sent",
    { timeout: 90_000 },
    async () => {
      const e = (held.emulators = await startEmulators([video("vidD0000001", CHANNEL_A, "full", 60)]));
      const w = (held.ws = blogWorkspace(e.env, [blogJob({ cron: "0 0 1 1 *", params: { channels: [CHANNEL_A] } })]));
      // A real run first, so the job has state (the first video seen) that the dry run must leave alone.
      const real = await w.runCli(["run", "blog", "--params", JSON.stringify({ heroImage: false })]);
      expect(real.code, real.stderr).toBe(0);
      expect(e.github.repos.get(REPO)?.pulls).toHaveLength(1);

      addVideos(e.youtube, [video("vidD0000002", CHANNEL_A, "full", 10), video("vidD0000003", CHANNEL_A, "none", 20)]);
      const stateBefore = w.query("SELECT * FROM job_state ORDER BY job, key");
      const sent = {
        github: e.github.requests.length,
        discord: e.discord.requests.length,
        claude: e.anthropic.requests.length,
      };

      const dry = await w.runCli(["run", "blog", "--dry-run"]);
      expect(dry.code, dry.stderr).toBe(0);

      // Sources, Claude and the image service were used for real…
      expect(articleRequests(e.anthropic, "vidD0000002")).toBe(1);
      expect(e.anthropic.requests).toHaveLength(sent.claude + 1);
      expect(transcriptRequests(e.youtube, "vidD0000003")).toBe(1);
      expect(e.leonardo.generations).toHaveLength(1);
      // …nothing was delivered and the state is as it was (the caption-less video is not marked skipped).
      // (The blog's repository is read, to preview the article in its shape; nothing is written to it.)
      expect(e.github.requests.slice(sent.github).filter((request) => request.method !== "GET")).toEqual([]);
      expect(e.discord.requests).toHaveLength(sent.discord);
      expect(e.github.repos.get(REPO)?.pulls).toHaveLength(1);
      expect(w.query("SELECT * FROM job_state ORDER BY job, key")).toEqual(stateBefore);
      expect(w.runs("blog").at(-1)).toMatchObject({ dry_run: 1, status: "skipped" });

      const out = dry.stdout;
      const id = "vidD0000002";
      const article = scriptedArticle(id);
      const slug = `how-${id.toLowerCase()}-works`;
      // The pull request: branch, title, body and every file with its content.
      expect(out).toContain(`GitHub pull request on ${REPO}: sundial/blog/${slug} → main`);
      expect(out).toContain(`Title: ${article.title}`);
      expect(out).toMatch(
        new RegExp(`Body:\\n${article.description.replace(/[.?*+()]/g, "\\$&")}\\n\\n[^]*${articleMarker(id)}`),
      );
      expect(out).toContain(`--- ${POSTS_DIR}/${slug}.md\n---\ntitle: ${article.title}\n`);
      expect(out).toContain(`source: ${watchUrl(id)}\ndraft: true\n---\n`);
      expect(out).toMatch(new RegExp(`--- ${POSTS_DIR}/${slug}\\.png\\n<\\d+ bytes, image/png>`));
      // Discord: every message as it would be sent, the header with the image, then the article.
      expect(out).toMatch(/Discord → channel \d+: \d+ messages?, pinging nobody/);
      const messages = Number(/Discord → channel \d+: (\d+) message/.exec(out)?.[1]);
      for (let i = 1; i <= messages; i++) expect(out).toContain(`── message ${i} of ${messages} ──`);
      expect(out).toContain(`[embed] ${article.title}`);
      expect(out).toContain(`[attachment] ${slug}.png`);
      expect(out.split("Discord →")[1]).toContain(articleMarker(id));
      // The video already delivered is not written about again.
      expect(out).not.toContain("vidD0000001");
    },
  );
});
