import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NonRetryableError, ServiceError } from "../../src/errors.ts";
import { createGitHubSource } from "../../src/integrations/github/source.ts";
import { startGitHubEmulator, type GitHubEmulator, type GitHubRepoState } from "../emulators/github.ts";

const NOW = Date.parse("2025-06-10T12:00:00Z");
const log = pino({ level: "silent" });

describe("GitHub repository source", () => {
  let emulator: GitHubEmulator;
  let tool: GitHubRepoState;
  // Throttling stays on here (reads are not spaced), so the plugin is exercised too.
  const source = (token = emulator.token) =>
    createGitHubSource({
      env: { GITHUB_TOKEN: token, GITHUB_API_URL: emulator.url },
      signal: new AbortController().signal,
      log,
      now: () => NOW,
    });
  const merged = (number: number, at: string) =>
    tool.addPull({ number, title: `Change ${number}`, state: "closed", mergedAt: at, updatedAt: at, createdAt: at });

  beforeEach(async () => {
    emulator = await startGitHubEmulator();
    tool = emulator.addRepo("acme/tool");
    tool.addRelease({
      id: 1,
      tagName: "v1.0.0",
      createdAt: "2025-05-01T00:00:00Z",
      publishedAt: "2025-05-01T00:00:00Z",
    });
    tool.addRelease({
      id: 2,
      tagName: "v1.1.0",
      name: " Faster ",
      body: "  Much faster. <!-- template -->\n\n",
      createdAt: "2025-06-08T09:00:00Z",
      publishedAt: "2025-06-08T10:00:00Z",
    });
    tool.addRelease({ id: 3, tagName: "v1.2.0", draft: true, createdAt: "2025-06-09T00:00:00Z", publishedAt: null });
    merged(1, "2025-06-07T08:00:00Z").body = "Adds a cache.\n";
    tool.addPull({ number: 2, title: "Closed unmerged", state: "closed", updatedAt: "2025-06-08T00:00:00Z" });
    merged(3, "2025-05-20T00:00:00Z");
    tool.addPull({ number: 4, title: "Still open", updatedAt: "2025-06-09T00:00:00Z" });
  });
  afterEach(() => emulator.close());

  it("returns only releases published and pull requests merged since `since`, newest first", async () => {
    const items = await source()({ type: "github", repo: "acme/tool" }, { since: "2025-06-05T00:00:00Z" });
    expect(items).toEqual([
      {
        id: "github:acme/tool:release:2",
        title: "acme/tool Faster",
        url: "https://github.com/acme/tool/releases/tag/v1.1.0",
        summary: "Much faster.",
        publishedAt: "2025-06-08T10:00:00Z",
        source: "acme/tool",
      },
      {
        id: "github:acme/tool:pr:1",
        title: "Change 1 (#1)",
        url: "https://github.com/acme/tool/pull/1",
        summary: "Adds a cache.",
        publishedAt: "2025-06-07T08:00:00Z",
        source: "acme/tool",
      },
    ]);
    const pullsQuery = emulator.requests.find((r) => r.path === "/repos/acme/tool/pulls")?.query;
    expect(pullsQuery).toMatchObject({ state: "closed", sort: "updated", direction: "desc" });
  });

  it("looks back seven days when there is no `since`, and names items after the source", async () => {
    merged(5, "2025-06-03T13:00:00Z");
    merged(6, "2025-06-03T11:00:00Z");
    const items = await source()({ type: "github", repo: "acme/tool", name: "Tool" }, { since: null });
    expect(items.map((item) => item.id)).toEqual([
      "github:acme/tool:release:2",
      "github:acme/tool:pr:1",
      "github:acme/tool:pr:5",
    ]);
    expect(new Set(items.map((item) => item.source))).toEqual(new Set(["Tool"]));
  });

  it("reads further pages while every item is still new", async () => {
    for (let n = 10; n < 160; n++)
      merged(n, `2025-06-09T${String(Math.floor(n / 60)).padStart(2, "0")}:${String(n % 60).padStart(2, "0")}:00Z`);
    const items = await source()({ type: "github", repo: "acme/tool" }, { since: "2025-06-05T00:00:00Z" });
    expect(items.filter((item) => item.id.includes(":pr:"))).toHaveLength(151);
    expect(emulator.requests.filter((r) => r.path === "/repos/acme/tool/pulls").map((r) => r.query.page)).toEqual([
      "1",
      "2",
    ]);
  });

  it("fails naming GitHub, what it was reading and the cause, without the token", async () => {
    const failure = (promise: Promise<unknown>) =>
      promise.then(
        () => expect.unreachable("fetch should fail"),
        (error: unknown) => error as ServiceError,
      );
    const missing = await failure(source()({ type: "github", repo: "acme/missing" }));
    expect(missing).toBeInstanceOf(ServiceError);
    expect(missing.message).toMatch(/^GitHub: listing releases of acme\/missing failed: HTTP 404 Not Found/);
    expect(missing.retryable).toBe(false);
    const token = "ghp_notTheRightToken";
    const denied = await failure(source(token)({ type: "github", repo: "acme/tool" }));
    expect(denied.message).toMatch(/HTTP 401 Bad credentials/);
    expect(denied.message).not.toContain(token);
    await expect(source()({ type: "github", repo: "not a repo" })).rejects.toBeInstanceOf(NonRetryableError);
  });

  it("retries a 503, then answers", async () => {
    emulator.failNext(1, { status: 503, retryAfter: 0 });
    const items = await source()({ type: "github", repo: "acme/tool" }, { since: "2025-06-05T00:00:00Z" });
    expect(items).toHaveLength(2);
    expect(emulator.requests.filter((r) => r.path === "/repos/acme/tool/releases")).toHaveLength(2);
  });

  it("aborts a request that has not answered within the per-request timeout (connection closed), then retries it", async () => {
    emulator.failNext(1, { delayMs: 5000, path: "/releases" });
    const timed = createGitHubSource({
      env: { GITHUB_TOKEN: emulator.token, GITHUB_API_URL: emulator.url },
      signal: new AbortController().signal,
      log,
      now: () => NOW,
      timeoutMs: 300,
    });
    const started = Date.now();
    const items = await timed({ type: "github", repo: "acme/tool" }, { since: "2025-06-05T00:00:00Z" });
    expect(items).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(4000);
    const releases = emulator.requests.filter((request) => request.path === "/repos/acme/tool/releases");
    expect(releases[0]?.closedEarly).toBe(true);
    expect(releases).toHaveLength(2);
  });

  it("aborts the requests of one fetch when its own signal is aborted (a source timeout)", async () => {
    emulator.failNext(1, { delayMs: 5000, path: "/releases" });
    const call = new AbortController();
    const pending = source()({ type: "github", repo: "acme/tool" }, { signal: call.signal });
    await expect
      .poll(() => emulator.requests.some((request) => request.path === "/repos/acme/tool/releases"))
      .toBe(true);
    call.abort(new Error("source timeout"));
    await expect(pending).rejects.toThrow("source timeout");
    await expect
      .poll(() => emulator.requests.find((request) => request.path === "/repos/acme/tool/releases")?.closedEarly)
      .toBe(true);
  });
});
