/**
 * @module blog-autopilot-hostile.test — an article whose model output carries `<script>`,
 * `<img onerror>` and a `javascript:` link, delivered by `sundial run` to the GitHub emulator: the
 * file in the pull request has them neutralized (code kept as written), and the PR body lists the
 * article's external links for the reviewer.
 */
import { describe, expect, it } from "vitest";
import type { MessagesBody } from "../emulators/anthropic.ts";
import {
  CHANNEL_A,
  blogJob,
  blogWorkspace,
  cleanedAfterEach,
  POSTS_DIR,
  REPO,
  scriptedArticle,
  startEmulators,
  video,
  videoIdOf,
  watchUrl,
} from "./blog-fixtures.ts";

const held = cleanedAfterEach();

function hostileArticle(body: MessagesBody) {
  const id = videoIdOf(body) as string;
  const markdown = [
    "An introduction. <script>steal(document.cookie)</script>",
    "",
    '<img src="x" onerror="alert(1)">',
    "",
    "## Links",
    "",
    "Read [the docs](https://docs.example.test/guide) or [win a prize](javascript:alert(1)) or ![tracker](data:image/gif;base64,R0lGOD).",
    "",
    "```html",
    "<script>console.log('shown as code')</script>",
    "```",
    "",
    `*This article is based on my video [the video](${watchUrl(id)}).*`,
  ].join("\n");
  return { json: { ...scriptedArticle(id), markdown } };
}

describe("blog-autopilot with a hostile article", () => {
  it(
    "puts a neutralized article in the pull request and lists its external links in the PR body",
    { timeout: 120_000 },
    async () => {
      const clip = video("vidH0000001", CHANNEL_A, "full", 10);
      const e = (held.emulators = await startEmulators([clip]));
      e.anthropic.responder = hostileArticle;
      const job = blogJob({
        cron: "0 0 1 1 *",
        params: { channels: [CHANNEL_A], heroImage: false },
        deliver: [{ to: "github-pr", repo: REPO, base: "main", dir: POSTS_DIR, labels: [] }],
      });
      const w = (held.ws = blogWorkspace(e.env, [job]));
      const result = await w.runCli(["run", "blog"], {}, 110_000);
      expect(result.code, result.stderr).toBe(0);

      const repo = e.github.repos.get(REPO) as NonNullable<ReturnType<typeof e.github.repos.get>>;
      expect(repo.pulls).toHaveLength(1);
      const pull = repo.pulls[0]!;
      const slug = "how-vidh0000001-works";
      const text = repo.files(pull.head)?.get(`${POSTS_DIR}/${slug}.md`)?.toString("utf8") ?? "";
      const body = text.replace(/^---\n[\s\S]*?\n---\n/, "");
      const outsideCode = body.replace(/```html\n[\s\S]*?```/, "");
      expect(outsideCode).not.toMatch(/<script|<img|\]\(\s*<?\s*(javascript|data):/i);
      expect(body).toContain("&lt;script&gt;steal(document.cookie)&lt;/script&gt;");
      expect(body).toContain('&lt;img src="x" onerror="alert(1)"&gt;');
      expect(body).toContain("or win a prize or");
      expect(body).toContain("```html\n<script>console.log('shown as code')</script>\n```");
      expect(body).toContain("[the docs](https://docs.example.test/guide)");

      expect(pull.body).toContain(
        `External links in this article (2; check each before merging):\n- \`https://docs.example.test/guide\`\n- \`${watchUrl("vidH0000001")}\``,
      );
      expect(pull.body).not.toMatch(/<script>steal|<img src|\]\(javascript:/);
    },
  );
});
