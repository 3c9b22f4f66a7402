/**
 * The data-digest skill without the daemon: the new-items filter and its state, the markdown
 * rendering (links from the items, never from the model), gathering with broken and slow sources,
 * and a whole run against a fake context (no Claude call when nothing is new, state only on delivery).
 */
import { describe, expect, it } from "vitest";
import pino from "pino";
import type { ClaudeStructuredRequest, FeedItem, Output, SkillContext, SourceSpec } from "../../src/types.ts";
import skill from "../../skills/data-digest/index.ts";
import { githubSince, gatherSources, sourceLabel } from "../../skills/data-digest/gather.ts";
import { escapeMarkdown, renderPlainList, renderPlan } from "../../skills/data-digest/render.ts";
import { markDigested, readDigested, RETENTION_MS, selectNewItems } from "../../skills/data-digest/select.ts";
import { describeItems, readPrompt, type DigestPlan } from "../../skills/data-digest/synthesize.ts";
import { fillTemplate } from "../../src/index.ts";
import { ServiceError } from "../../src/errors.ts";

const NOW = Date.parse("2025-03-10T12:00:00Z");
const day = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const item = (id: string, extra: Partial<FeedItem> = {}): FeedItem => ({
  id,
  title: `Title ${id}`,
  url: `https://example.com/${id}`,
  source: "Blog",
  ...extra,
});

describe("selectNewItems", () => {
  it("keeps only items not digested before, once each, newest first (undated last), capped at maxItems", () => {
    const gathered = [
      item("old", { publishedAt: iso(NOW - 3 * day) }),
      item("undated"),
      item("done", { publishedAt: iso(NOW - day) }),
      item("newest", { publishedAt: iso(NOW - 1000) }),
      item("middle", { publishedAt: iso(NOW - 2 * day) }),
      item("newest", { publishedAt: iso(NOW - 1000), source: "Mirror" }),
    ];
    const all = selectNewItems(gathered, { done: iso(NOW - day) }, { now: NOW, maxItems: 30 });
    expect(all.items.map((i) => i.id)).toEqual(["newest", "middle", "old", "undated"]);
    expect(all.items[0]?.source).toBe("Blog");
    expect(all.held).toBe(0);
    const capped = selectNewItems(gathered, {}, { now: NOW, maxItems: 2 });
    expect(capped.items.map((i) => i.id)).toEqual(["newest", "done"]);
    expect(capped.held).toBe(3);
  });

  it("ignores items published before the retention window, whose digested record may be pruned", () => {
    const gathered = [
      item("ancient", { publishedAt: iso(NOW - RETENTION_MS - day) }),
      item("recent", { publishedAt: iso(NOW - day) }),
    ];
    expect(selectNewItems(gathered, {}, { now: NOW, maxItems: 30 }).items.map((i) => i.id)).toEqual(["recent"]);
  });

  it("markDigested adds the items and prunes records older than the retention; readDigested tolerates junk", () => {
    const before = { stale: iso(NOW - RETENTION_MS - 1), kept: iso(NOW - day), broken: "not a date" };
    expect(markDigested(before, [item("a"), item("b")], NOW)).toEqual({
      kept: iso(NOW - day),
      a: iso(NOW),
      b: iso(NOW),
    });
    expect(readDigested(undefined)).toEqual({});
    expect(readDigested(["a"])).toEqual({});
    expect(readDigested({ a: "2025-01-01T00:00:00.000Z", b: 3 })).toEqual({ a: "2025-01-01T00:00:00.000Z" });
  });
});

describe("rendering", () => {
  const items = new Map<string, FeedItem>([
    ["i1", item("1", { title: "Rust [2.0] *ships*", url: "https://example.com/a_(b)?q=1&r=2" })],
    ["i2", item("2", { source: "Releases" })],
    ["i3", item("3", { url: undefined })],
    ["i4", item("4")],
  ]);
  const plan: DigestPlan = {
    title: "Big week",
    intro: "Two things matter.",
    groups: [
      {
        theme: "Languages",
        items: [
          { id: "i1", why: "It changes\nhow you build." },
          { id: "i9", why: "invented" },
        ],
      },
      {
        theme: "Tools",
        items: [
          { id: "i2", why: "Faster builds." },
          { id: "i1", why: "again" },
        ],
      },
      { theme: "Empty", items: [{ id: "nope", why: "x" }] },
    ],
  };

  it("links every item to its own URL, drops unknown and repeated ids, and lists left-out items under Also new", () => {
    const markdown = renderPlan(plan, items, { failures: [], held: 0 });
    expect(markdown).toBe(
      [
        "### Languages\n- [Rust \\[2.0\\] \\*ships\\*](<https://example.com/a_(b)?q=1&r=2>) (Blog) — It changes how you build.",
        "### Tools\n- [Title 2](<https://example.com/2>) (Releases) — Faster builds.",
        "### Also new\n- Title 3 (Blog)\n- [Title 4](<https://example.com/4>) (Blog)",
      ].join("\n\n"),
    );
    expect(markdown).not.toContain("invented");
    expect(markdown).not.toContain("Empty");
  });

  it("names unreadable sources and held items in the footer", () => {
    const markdown = renderPlan({ ...plan, groups: [] }, new Map([["i1", item("1")]]), {
      failures: [{ name: "broken_feed", cause: "HTTP 404", retryable: false }],
      held: 3,
    });
    expect(markdown.split("\n\n").at(-1)).toBe(
      "Could not read: broken\\_feed (HTTP 404)\n3 more new items will come in the next digest.",
    );
  });

  it("without Claude, lists items grouped by source with their dates", () => {
    const list = [item("a", { publishedAt: "2025-03-09T10:00:00.000Z" }), item("b", { source: "Other" }), item("c")];
    expect(renderPlainList(list, { failures: [], held: 0 })).toBe(
      "### Blog\n- [Title a](<https://example.com/a>) · 2025-03-09\n- [Title c](<https://example.com/c>)\n\n### Other\n- [Title b](<https://example.com/b>)",
    );
  });

  it("escapes markdown so a title cannot break its link; never links a non-http URL", () => {
    expect(escapeMarkdown("a](x) _b_ #1 <@1>")).toBe("a\\](x) \\_b\\_ #1 \\<@1\\>");
    expect(renderPlainList([item("x", { url: "javascript:alert(1)" })], { failures: [], held: 0 })).toBe(
      "### Blog\n- Title x",
    );
  });

  it("reads the prompt files without their editing notes and fills placeholders once", () => {
    const template = readPrompt("digest.md");
    expect(template).not.toContain("<!--");
    expect(template).toMatch(/^Write this digest\./);
    expect(template).toContain("{{items}}");
    expect(readPrompt("system.md")).toMatch(/^You are the editor/);
    expect(fillTemplate("{{ focus }} / {{items}}", { focus: "AI", items: "[i1] {{focus}}" })).toBe(
      "AI / [i1] {{focus}}",
    );
    // One rule for an unknown placeholder in every skill: an error naming it (or, when asked, kept as written).
    expect(() => fillTemplate("{{ focus }} / {{unknown}}", { focus: "AI" }, { name: "prompts/digest.md" })).toThrow(
      /prompts\/digest\.md uses \{\{unknown\}\}, which is not one of \{\{focus\}\}/,
    );
    expect(fillTemplate("{{ focus }} / {{unknown}}", { focus: "AI" }, { unknown: "keep" })).toBe("AI / {{unknown}}");
  });

  it("describes items to the model by short id, with source, date, URL and a trimmed summary", () => {
    const text = describeItems([
      item("a", { summary: `${"word ".repeat(200)}`, publishedAt: "2025-03-09T10:00:00.000Z" }),
      item("b"),
    ]);
    expect(text).toContain(
      "[i1] Title a\n  source: Blog · published: 2025-03-09T10:00:00.000Z · url: https://example.com/a\n  word word",
    );
    expect(text).toContain("[i2] Title b");
    expect(text.split("\n")[2]?.length).toBeLessThanOrEqual(302);
  });
});

// ─── A fake context: steps run once and are recorded, state in a Map, Claude scripted ────────────

function fakeContext(
  params: unknown,
  options: {
    fetch: (source: SourceSpec, opts?: { since?: string | null }) => Promise<FeedItem[]>;
    plan?: (prompt: string) => DigestPlan;
    state?: Map<string, unknown>;
  },
) {
  const steps: string[] = [];
  const claudeCalls: ClaudeStructuredRequest<unknown>[] = [];
  const fetches: { source: SourceSpec; since?: string | null }[] = [];
  const state = options.state ?? new Map<string, unknown>();
  const ctx = {
    params,
    log: pino({ level: "silent" }),
    signal: new AbortController().signal,
    step: async <T>(id: string, fn: () => Promise<T> | T) => {
      steps.push(id);
      return JSON.parse(JSON.stringify(await fn())) as T;
    },
    state: {
      get: (key: string) => state.get(key),
      set: async (key: string, value: unknown) => void state.set(key, value),
    },
    run: { id: 1, job: "digest", scheduledFor: iso(NOW), attempt: 1, lastSuccessAt: iso(NOW - day) },
    parallel: <I, O>(list: readonly I[], fn: (i: I, n: number) => Promise<O>) => Promise.all(list.map(fn)),
    claude: {
      text: async () => "",
      structured: async <T>(request: ClaudeStructuredRequest<T>) => {
        claudeCalls.push(request as ClaudeStructuredRequest<unknown>);
        return request.schema.parse((options.plan ?? (() => ({ title: "T", intro: "I", groups: [] })))(request.prompt));
      },
    },
    sources: {
      youtube: { channelVideos: async () => [], transcript: async () => [] },
      fetch: async (source: SourceSpec, opts?: { since?: string | null }) => {
        fetches.push({ source, since: opts?.since });
        return options.fetch(source, opts);
      },
    },
    images: {
      available: false,
      generate: async () => ({ bytes: new Uint8Array(), mediaType: "image/png", extension: "png" }),
    },
    dryRun: false,
  } as unknown as SkillContext<never>;
  return { ctx, steps, claudeCalls, fetches, state };
}

describe("gatherSources", () => {
  it("reports a broken and a slow source by name and keeps the others' items; GitHub gets since", async () => {
    const sources: SourceSpec[] = [
      { type: "rss", url: "https://a.example/feed.xml?key=secret", name: "A" },
      { type: "atom", url: "https://b.example/atom.xml?key=secret" },
      { type: "rss", url: "https://slow.example/rss", name: "Slow" },
      { type: "github", repo: "acme/tool" },
    ];
    const { ctx, steps, fetches } = fakeContext(
      {},
      {
        fetch: async (source) => {
          if (source.type === "atom")
            throw new ServiceError({
              service: "Feed b.example",
              message: "HTTP 404 from https://b.example/atom.xml: Not Found",
              status: 404,
            });
          if (source.name === "Slow") return new Promise<FeedItem[]>(() => undefined);
          return [item(sourceLabel(source))];
        },
      },
    );
    const gathered = await gatherSources(ctx, sources, { timeoutMs: 200, since: "2025-03-01T00:00:00.000Z" });
    expect(gathered.items.map((i) => i.id)).toEqual(["A", "acme/tool"]);
    expect(gathered.failures).toEqual([
      { name: "b.example/atom.xml", cause: "HTTP 404 from https://b.example/atom.xml: Not Found", retryable: false },
      { name: "Slow", cause: "no answer within 200ms", retryable: true },
    ]);
    expect(steps).toEqual(["source:A", "source:b.example/atom.xml", "source:Slow", "source:acme/tool"]);
    expect(fetches.map((f) => f.since)).toEqual([undefined, undefined, undefined, "2025-03-01T00:00:00.000Z"]);
  });
});

describe("githubSince", () => {
  it("asks for a day before the last success, so activity during that run is not lost; null without one", () => {
    expect(githubSince("2025-03-10T12:00:00.000Z")).toBe("2025-03-09T12:00:00.000Z");
    expect(githubSince(null)).toBeNull();
  });
});

describe("a data-digest run (fake context)", () => {
  const params = (extra: object = {}) =>
    skill.params.parse({
      sources: [
        { type: "rss", url: "https://a.example/rss", name: "A" },
        { type: "rss", url: "https://b.example/rss", name: "B" },
      ],
      ...extra,
    });
  const feeds = (ids: string[]) => async (source: SourceSpec) =>
    ids.map((id) =>
      item(`${source.name}-${id}`, { source: source.name ?? "?", publishedAt: iso(NOW - Number(id) * 1000) }),
    );
  const planAll = (prompt: string): DigestPlan => ({
    title: "Headline",
    intro: "Intro.",
    groups: [
      {
        theme: "All",
        items: [...prompt.matchAll(/^\[(i\d+)\]/gm)].map((m) => ({ id: m[1] as string, why: `why ${m[1]}` })),
      },
    ],
  });

  it("digests new items with Claude, marks them only on delivery, then skips without calling Claude", async () => {
    const first = fakeContext(params(), { fetch: feeds(["1", "2"]), plan: planAll });
    const output = (await skill.run(first.ctx)) as Output;
    expect(first.steps).toEqual(["source:A", "source:B", "select", "digest"]);
    expect(first.claudeCalls).toHaveLength(1);
    expect(first.claudeCalls[0]?.system).toContain("Refer to items only by the id");
    expect(output).toMatchObject({ key: `digest-${iso(NOW)}`, title: "Digest: Headline", summary: "Intro." });
    for (const id of ["A-1", "A-2", "B-1", "B-2"]) expect(output.markdown).toContain(`(<https://example.com/${id}>)`);
    expect(first.state.get("digested")).toBeUndefined();
    await output.onDelivered?.([]);
    expect(Object.keys(readDigested(first.state.get("digested"))).sort()).toEqual(["A-1", "A-2", "B-1", "B-2"]);

    const second = fakeContext(params(), { fetch: feeds(["1", "2"]), plan: planAll, state: first.state });
    expect(await skill.run(second.ctx)).toEqual({ skipped: true, reason: "nothing new" });
    expect(second.claudeCalls).toHaveLength(0);

    const third = fakeContext(params(), {
      fetch: async (s) => [
        ...(await feeds(["1", "2"])(s)),
        ...(s.name === "B" ? [item("B-new", { source: "B", publishedAt: iso(NOW) })] : []),
      ],
      plan: planAll,
      state: first.state,
    });
    const newer = (await skill.run(third.ctx)) as Output;
    expect(third.claudeCalls[0]?.prompt).toMatch(/\[i1\] Title B-new/);
    expect(third.claudeCalls[0]?.prompt).not.toMatch(/\[i2\]/);
    expect(newer.markdown).toContain("https://example.com/B-new");
    expect(newer.markdown).not.toContain("https://example.com/A-1");
  });

  it("with synthesize false lists by source and never calls Claude", async () => {
    const run = fakeContext(params({ synthesize: false }), { fetch: feeds(["1"]) });
    const output = (await skill.run(run.ctx)) as Output;
    expect(run.claudeCalls).toHaveLength(0);
    expect(run.steps).not.toContain("digest");
    expect(output.markdown).toContain("### A\n- [Title A-1](<https://example.com/A-1>)");
    expect(output.markdown).toContain("### B\n- [Title B-1](<https://example.com/B-1>)");
  });

  it("asks GitHub sources for activity since the last success (less a day), feeds for everything", async () => {
    const run = fakeContext(
      skill.params.parse({
        sources: [
          { type: "github", repo: "acme/tool" },
          { type: "json", url: "https://j.example/api" },
        ],
        synthesize: false,
      }),
      { fetch: feeds(["1"]) },
    );
    await skill.run(run.ctx);
    expect(run.fetches.map((f) => [f.source.type, f.since])).toEqual([
      ["github", iso(NOW - 2 * day)],
      ["json", undefined],
    ]);
  });

  it("fails when every source fails (at once when no retry can help), and names them", async () => {
    const run = fakeContext(params(), {
      fetch: async (s) => Promise.reject(new ServiceError({ service: `Feed ${s.name}`, message: "HTTP 404 from x" })),
    });
    await expect(Promise.resolve(skill.run(run.ctx))).rejects.toMatchObject({
      name: "NonRetryableError",
      message: "no source could be read: A (HTTP 404 from x); B (HTTP 404 from x)",
    });
    const flaky = fakeContext(params(), {
      fetch: async () =>
        Promise.reject(new ServiceError({ service: "Feed", message: "HTTP 503", status: 503, retryable: true })),
    });
    await expect(Promise.resolve(skill.run(flaky.ctx))).rejects.toMatchObject({ name: "Error" });
  });

  it("needs ANTHROPIC_API_KEY only to synthesize, and GITHUB_TOKEN only for repositories", () => {
    const env = skill.env as (p: unknown) => string[];
    expect(env(params())).toEqual(["ANTHROPIC_API_KEY"]);
    expect(env(params({ synthesize: false }))).toEqual([]);
    expect(env(skill.params.parse({ sources: [{ type: "github", repo: "a/b" }], synthesize: false }))).toEqual([
      "GITHUB_TOKEN",
    ]);
  });
});
