import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { githubPrDefinition, githubPrDelivery, PR_BODY_LIMIT } from "../../src/deliver/github-pr.ts";
import { NonRetryableError, ServiceError } from "../../src/errors.ts";
import { confinePath } from "../../src/integrations/github/safe-path.ts";
import { slugify } from "../../src/util/slug.ts";
import type { DeliveryTarget, Output } from "../../src/types.ts";
import { startGitHubEmulator, type GitHubEmulator, type GitHubRepoState } from "../emulators/github.ts";
import { deliveryContext, describeDeliveryContract } from "./contract.ts";

type Target = Extract<DeliveryTarget, { to: "github-pr" }>;
const target: Target = {
  to: "github-pr",
  repo: "acme/blog",
  base: "main",
  dir: "content/posts",
  labels: [],
  draft: false,
};
const adapter = githubPrDelivery({ throttle: false });
const dataDir = await mkdtemp(join(tmpdir(), "sundial-github-pr-"));
const png = new Uint8Array([
  0x89,
  0x50,
  0x4e,
  0x47,
  0x0d,
  0x0a,
  0x1a,
  0x0a,
  ...Array.from({ length: 256 }, (_, i) => 255 - i),
]);
const article: Output = {
  title: "My First Post",
  summary: "Why sundials still matter.",
  markdown: "# My First Post\n\nHello, world.\n",
  files: [
    { path: "my-first-post.md", content: "---\ntitle: My First Post\n---\n\nHello, world.\n" },
    { path: "my-first-post.png", content: png },
  ],
};
const branch = "sundial/contract-job/my-first-post";

describeDeliveryContract("github-pr", async () => {
  const emulator = await startGitHubEmulator();
  emulator.addRepo("acme/blog");
  const env = { GITHUB_TOKEN: emulator.token, GITHUB_API_URL: emulator.url };
  return {
    adapter,
    target,
    env,
    dataDir,
    failing: { target: { ...target, repo: "acme/missing" }, env },
    sentCount: () => emulator.requests.length,
    close: () => emulator.close(),
  };
});

describe("github-pr delivery", () => {
  let emulator: GitHubEmulator;
  let blog: GitHubRepoState;
  const ctx = (signal?: AbortSignal, token = emulator.token) =>
    deliveryContext({ env: { GITHUB_TOKEN: token, GITHUB_API_URL: emulator.url }, dataDir }, signal);
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => expect.unreachable("delivery should fail"),
      (error: unknown) => error as Error,
    );
  const sent = (method: string, pathEnd: string) =>
    emulator.requests.filter((r) => r.method === method && r.path.endsWith(pathEnd));

  beforeEach(async () => {
    emulator = await startGitHubEmulator();
    blog = emulator.addRepo("acme/blog");
  });
  afterEach(() => emulator.close());

  it("opens one pull request per output with every file, text and PNG bytes intact, in one commit under dir", async () => {
    const receipt = await adapter.deliver(article, target, ctx());
    expect(receipt).toEqual({
      to: "github-pr",
      url: "https://github.com/acme/blog/pull/1",
      detail: { number: 1, branch, commit: expect.any(String), updated: false },
    });
    const files = blog.files(branch);
    expect(files?.get("content/posts/my-first-post.md")?.toString()).toBe(article.files?.[0]?.content);
    expect(new Uint8Array(files?.get("content/posts/my-first-post.png") ?? [])).toEqual(png);
    expect(files?.get("README.md")?.toString()).toBe("# Hello\n");
    expect(blog.commits.get(receipt.detail?.commit as string)?.parents).toEqual([blog.refs.get("heads/main")]);
    expect(sent("POST", "/git/commits")).toHaveLength(1);
    // The markdown went inside the tree request; only the PNG needed a blob of its own.
    expect(sent("POST", "/git/blobs").map((r) => (r.body as { encoding?: string }).encoding)).toEqual(["base64"]);
    expect(blog.pulls.map((p) => [p.title, p.head, p.base, p.state])).toEqual([
      ["My First Post", branch, "main", "open"],
    ]);
    expect(blog.pulls[0]?.body).toContain("Why sundials still matter.");

    const second = await adapter.deliver({ title: "Another Post", markdown: "Second article." }, target, ctx());
    expect(second.detail).toMatchObject({ number: 2, branch: "sundial/contract-job/another-post" });
    expect(blog.files("sundial/contract-job/another-post")?.get("content/posts/another-post.md")?.toString()).toBe(
      "Second article.",
    );
  });

  it("reads the base branch once per run, however many pull requests the run opens", async () => {
    const outputs = ["One", "Two", "Three"].map((title) => ({ title, markdown: `${title}.` }));
    await Promise.all(outputs.map((output) => adapter.deliver(output, target, ctx())));
    expect(sent("GET", "/git/ref/heads/main")).toHaveLength(1);
    expect(blog.pulls).toHaveLength(3);
    for (const pull of blog.pulls)
      expect(blog.commits.get(blog.refs.get(`heads/${pull.head}`) as string)?.parents).toEqual([
        blog.refs.get("heads/main"),
      ]);
    await adapter.deliver({ title: "Four", markdown: "Four." }, target, { ...ctx(), runId: 2 });
    expect(sent("GET", "/git/ref/heads/main")).toHaveLength(2);
  });

  it("updates the open pull request, never duplicating it, when the same output is delivered again", async () => {
    await adapter.deliver(article, target, ctx());
    const changed = {
      ...article,
      title: "My First Post, revised",
      slug: "my-first-post",
      files: [{ path: "my-first-post.md", content: "Revised.\n" }],
    };
    const receipt = await adapter.deliver(changed, target, ctx());
    expect(receipt.detail).toMatchObject({ number: 1, branch, updated: true });
    expect(blog.pulls.filter((p) => p.state === "open")).toHaveLength(1);
    expect(blog.pulls[0]?.title).toBe("My First Post, revised");
    const files = blog.files(branch);
    expect(files?.get("content/posts/my-first-post.md")?.toString()).toBe("Revised.\n");
    expect(files?.has("content/posts/my-first-post.png")).toBe(false);
    expect(sent("PATCH", `/git/refs/heads/${branch}`)[0]?.body).toMatchObject({ force: true });
  });

  it("never overwrites a reviewer's commit on the branch: delivered again, it keeps their history, comments, and reports the pull request delivered", async () => {
    const first = await adapter.deliver(article, target, ctx());
    const fix = blog.push(branch, { "content/posts/my-first-post.md": "Fixed by a reviewer.\n" });
    const again = await adapter.deliver(
      { ...article, files: [{ path: "my-first-post.md", content: "Sundial's new version.\n" }] },
      target,
      { ...ctx(), runId: 2 },
    );
    expect(blog.inHistory(branch, fix)).toBe(true);
    expect(blog.inHistory(branch, first.detail?.commit as string)).toBe(true);
    expect(blog.files(branch)?.get("content/posts/my-first-post.md")?.toString()).toBe("Fixed by a reviewer.\n");
    expect(sent("PATCH", `/git/refs/heads/${branch}`)).toHaveLength(0);
    expect(again).toEqual({
      to: "github-pr",
      url: first.url,
      detail: { number: 1, branch, commit: fix, updated: false, edited: true },
    });
    expect(blog.pulls.map((p) => [p.number, p.state])).toEqual([[1, "open"]]);
    expect(blog.comments).toEqual([
      { id: expect.any(Number), number: 1, body: expect.stringMatching(/commits Sundial did not write/) },
    ]);
  });

  it("still replaces its own commit when the branch head is the one Sundial wrote", async () => {
    const first = await adapter.deliver(article, target, ctx());
    const again = await adapter.deliver(
      { ...article, files: [{ path: "my-first-post.md", content: "v2\n" }] },
      target,
      { ...ctx(), runId: 2 },
    );
    expect(again.detail).toMatchObject({ number: 1, updated: true });
    expect(again.detail?.edited).toBeUndefined();
    expect(blog.inHistory(branch, first.detail?.commit as string)).toBe(false);
    expect(blog.files(branch)?.get("content/posts/my-first-post.md")?.toString()).toBe("v2\n");
    expect(blog.comments).toEqual([]);
  });

  it.each([
    "a..b",
    ".hidden",
    "x.lock",
    "sp ace",
    "a~b",
    "a^b",
    "a:b",
    "a?b",
    "a*b",
    "a[b",
    "back\\slash",
    "a@{b",
    "a//b",
    "trailing/",
  ])("refuses branch prefix %s before sending anything, as git and GitHub would", async (branchPrefix) => {
    const error = await failure(adapter.deliver(article, { ...target, branchPrefix }, ctx()));
    expect(error).toBeInstanceOf(NonRetryableError);
    expect(error.message).toMatch(/is not a valid branch name; check branchPrefix/);
    expect(emulator.requests).toHaveLength(0);
  });

  it("is checked by an emulator that refuses ref names git check-ref-format refuses", async () => {
    const { main } = { main: blog.refs.get("heads/main") };
    const create = (ref: string) =>
      fetch(`${emulator.url}/repos/acme/blog/git/refs`, {
        method: "POST",
        headers: { authorization: `token ${emulator.token}`, "content-type": "application/json" },
        body: JSON.stringify({ ref, sha: main }),
      });
    for (const bad of [
      "refs/heads/a..b",
      "refs/heads/.x",
      "refs/heads/x.lock",
      "refs/heads/a b",
      "refs/heads/a~1",
      "refs/heads/a:b",
      "refs/heads/x/",
      "refs/heads/a//b",
      "refs/heads/x.",
    ]) {
      expect((await create(bad)).status, bad).toBe(422);
    }
    expect((await create("refs/heads/sundial/job/ok-name")).status).toBe(201);
  });

  it("waits out GitHub's 403 secondary rate limit with throttling on, as in production, then succeeds", async () => {
    const throttled = githubPrDelivery();
    emulator.secondaryRateLimit(1, 1, { path: "/pulls", method: "POST" });
    const started = Date.now();
    const receipt = await throttled.deliver(article, target, ctx());
    expect(receipt.detail).toMatchObject({ number: 1, updated: false });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(sent("POST", "/pulls")).toHaveLength(2);
    expect(blog.pulls).toHaveLength(1);
  });

  it("updates instead of failing when another attempt opened the pull request meanwhile", async () => {
    await adapter.deliver(article, target, ctx());
    emulator.failNext(1, { path: "/repos/acme/blog/pulls", status: 200, body: [] }); // the lookup misses it
    const receipt = await adapter.deliver(article, target, ctx());
    expect(sent("POST", "/pulls").length).toBe(2); // the second was refused with GitHub's 422
    expect(receipt.detail).toMatchObject({ number: 1, updated: true });
    expect(blog.pulls).toHaveLength(1);
  });

  it("never writes outside dir, whatever path the model produced", async () => {
    const hostile = [
      "../../.github/workflows/x.yml",
      "/etc/passwd",
      "a/../../b",
      "a\\..\\b",
      "．．/x.md",
      "‥/x.md",
      "x／..／..／y",
      "%2e%2e/x.md",
      ".git/config",
      "a/.github/x",
      "",
      "a\u0000b",
      `${"x".repeat(256)}.md`,
    ];
    for (const path of hostile) {
      const error = await failure(adapter.deliver({ ...article, files: [{ path, content: "pwned" }] }, target, ctx()));
      expect(error, path).toBeInstanceOf(NonRetryableError);
    }
    expect(emulator.requests).toHaveLength(0);
    await adapter.deliver(
      {
        ...article,
        files: [
          { path: "./nested//a.md", content: "a" },
          { path: "b／c.md", content: "c" },
        ],
      },
      target,
      ctx(),
    );
    expect([...(blog.files(branch)?.keys() ?? [])].sort()).toEqual([
      "README.md",
      "content/posts/b/c.md",
      "content/posts/nested/a.md",
    ]);
    const everyPath = [...blog.trees.values()].flatMap((tree) => [...tree.keys()]);
    expect(everyPath.every((path) => path === "README.md" || path.startsWith("content/posts/"))).toBe(true);
  });

  it("confines paths and slugifies titles into plain ASCII", () => {
    expect(confinePath("content/posts/", "2024/post.md")).toBe("content/posts/2024/post.md");
    expect(confinePath(".", "post.md")).toBe("post.md");
    expect(() => confinePath("content/../..", "post.md")).toThrow(NonRetryableError);
    expect(() => confinePath("content", "CON.md")).toThrow(/reserved/);
    expect(() => confinePath("content", "a\u202egpj.exe")).toThrow(/invisible/);
    expect(slugify("Ça va? Ünïcødé — straße ＦＵＬＬ！")).toBe("ca-va-unicode-strasse-full");
    expect(slugify("．．/‥/../etc")).toBe("etc");
    expect(slugify("🙂 ☃")).toBe("post");
    expect(slugify("one two three four five", { maxLength: 12 })).toBe("one-two");
  });

  it("applies labels and opens drafts as configured", async () => {
    const receipt = await adapter.deliver(article, { ...target, labels: ["autopilot", "blog"], draft: true }, ctx());
    expect(blog.pulls[0]).toMatchObject({ draft: true, labels: ["autopilot", "blog"] });
    expect(sent("POST", `/issues/${receipt.detail?.number as number}/labels`)[0]?.body).toEqual({
      labels: ["autopilot", "blog"],
    });
  });

  it("waits as long as a 429's retry-after asks, then succeeds", async () => {
    emulator.failNext(1, { status: 429, retryAfter: 1, body: { message: "Too many requests" } });
    const started = Date.now();
    await adapter.deliver(article, target, ctx());
    expect(Date.now() - started).toBeGreaterThanOrEqual(950); // backoff alone would be ≤ 500 ms
    const throttled = emulator.requests[0];
    expect(
      emulator.requests.filter(
        (r) =>
          r.method === throttled?.method &&
          r.path === throttled?.path &&
          JSON.stringify(r.body) === JSON.stringify(throttled?.body),
      ),
    ).toHaveLength(2);
    expect(blog.pulls).toHaveLength(1);
  });

  it("retries 5xx answers, then succeeds", async () => {
    emulator.failNext(2, { path: "/git/blobs", status: 502 });
    await adapter.deliver(article, target, ctx());
    expect(sent("POST", "/git/blobs")).toHaveLength(3); // the PNG's blob: two 502s, then the upload
    expect(new Uint8Array(blog.files(branch)?.get("content/posts/my-first-post.png") ?? [])).toEqual(png);
  });

  it.each([
    {
      status: 404,
      setup: () => undefined,
      repo: "acme/missing",
      token: undefined,
      expected: /GitHub: reading branch main of acme\/missing failed: HTTP 404 Not Found/,
    },
    {
      status: 401,
      setup: () => undefined,
      repo: "acme/blog",
      token: "ghp_wrong-test-token",
      expected: /GitHub: .* failed: HTTP 401 Bad credentials/,
    },
    {
      status: 422,
      setup: (e: GitHubEmulator) =>
        e.failNext(1, { path: "/git/blobs", status: 422, body: { message: `Invalid blob for ${e.token}` } }),
      repo: "acme/blog",
      token: undefined,
      expected:
        /GitHub: uploading content\/posts\/my-first-post.png to acme\/blog failed: HTTP 422 Invalid blob for \[REDACTED\]/,
    },
  ])(
    "fails at once on $status, naming GitHub and the cause without the token",
    async ({ setup, repo, token, expected }) => {
      setup(emulator);
      const error = await failure(adapter.deliver(article, { ...target, repo }, ctx(undefined, token)));
      expect(error).toBeInstanceOf(ServiceError);
      expect((error as ServiceError).retryable).toBe(false);
      expect(error.message).toMatch(expected);
      expect(error.message).not.toContain(token ?? emulator.token);
      // Nothing was retried: each request went once (requests that do not depend on each other go together).
      const keys = emulator.requests.map((r) => `${r.method} ${r.path} ${JSON.stringify(r.body)}`);
      expect(new Set(keys).size).toBe(keys.length);
    },
  );

  it("fails clearly when GitHub answers with a malformed body", async () => {
    emulator.failNext(1, { status: 200, body: "<html>proxy error" });
    const error = await failure(adapter.deliver(article, target, ctx()));
    expect(error.message).toMatch(
      /^GitHub: reading branch main of acme\/blog: unexpected response \(text "<html>proxy error"/,
    );
    expect(blog.pulls).toHaveLength(0);
  });

  it("stops, sending nothing more, when the signal aborts mid-delivery", async () => {
    // Every request is held a second, so the first requests (sent together) are all in flight and
    // none has been answered when the signal aborts: nothing that depends on them may follow.
    emulator.failNext(100, { delayMs: 1000 });
    const controller = new AbortController();
    let sentBeforeAbort = -1;
    let seen = 0;
    let quietSince = Date.now();
    const abortOnceAllSent = setInterval(() => {
      if (emulator.requests.length !== seen) {
        seen = emulator.requests.length;
        quietSince = Date.now();
      }
      if (seen === 0 || Date.now() - quietSince < 150) return;
      clearInterval(abortOnceAllSent);
      sentBeforeAbort = seen;
      controller.abort(new Error("shutting down"));
    }, 5);
    await expect(adapter.deliver(article, target, ctx(controller.signal))).rejects.toThrow("shutting down");
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(sentBeforeAbort).toBeGreaterThan(0);
    expect(emulator.requests).toHaveLength(sentBeforeAbort);
    expect(sent("POST", "/git/trees")).toHaveLength(0);
    expect(blog.pulls).toHaveLength(0);
  });

  it("refuses to start without a token, and says which variable is missing", async () => {
    expect(githubPrDefinition.requiredEnv(target)).toEqual(["GITHUB_TOKEN"]);
    await expect(adapter.deliver(article, target, ctx(undefined, ""))).rejects.toThrow(/GITHUB_TOKEN is not set/);
    expect(emulator.requests).toHaveLength(0);
  });

  it("previews the branch, title, body and every file without sending", async () => {
    const text = await adapter.preview(article, { ...target, labels: ["autopilot"], draft: true }, ctx());
    expect(text).toContain(`${branch} → main (draft)`);
    expect(text).toContain("Title: My First Post");
    expect(text).toContain("Why sundials still matter.");
    expect(text).toContain("--- content/posts/my-first-post.md\n---\ntitle: My First Post");
    expect(text).toContain(`--- content/posts/my-first-post.png\n<${png.byteLength} bytes, image/png>`);
    expect(emulator.requests).toHaveLength(0);
  });

  it("cuts a body beyond GitHub's limit and says so, and pings nobody", async () => {
    await adapter.deliver({ ...article, markdown: `cc @octocat\n\n${"word ".repeat(20_000)}` }, target, ctx());
    const body = blog.pulls[0]?.body ?? "";
    expect(body.length).toBeLessThanOrEqual(PR_BODY_LIMIT);
    expect(body).toMatch(/Truncated:.*GitHub allows 65,536/);
    expect(body).not.toMatch(/@octocat/);
  });
});
