/**
 * @module data-digest — the shipped digest skill: new items from RSS, Atom, JSON endpoints and
 * GitHub repositories → a digest grouped by theme by Claude (or a plain list by source) → the
 * job's deliveries, normally Discord. Nothing new: a skipped run and no Claude call.
 * Prompts: ./prompts/system.md (the editor's voice) and ./prompts/digest.md (the request).
 */
import { defineSkill, NonRetryableError, parseDuration, skip, type FeedItem, type Output } from "sundial";
import { asDigestItem } from "./merge.ts";
import { gatherSources, githubSince, type SourceFailure } from "./gather.ts";
import { DataDigestParams, DEFAULT_FOCUS, requiredEnv } from "./params.ts";
import { plainText, renderPlainList, renderPlan, type DigestFacts } from "./render.ts";
import { rankLocally, rankWithClaude } from "./rank.ts";
import { cut, freshStories, markDigested, readDigested } from "./select.ts";
import { askForDigest, refOf } from "./synthesize.ts";

/** State key: item id → when it went into a delivered digest. */
const DIGESTED = "digested";

function failuresText(failures: readonly SourceFailure[]): string {
  return failures.map((failure) => `${failure.name} (${failure.cause})`).join("; ");
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export default defineSkill({
  name: "data-digest",
  description:
    "A digest of what is new in RSS/Atom feeds, JSON endpoints and GitHub repositories, written by Claude or listed plainly.",
  params: DataDigestParams,
  timeout: "10m",
  retries: 2,
  env: requiredEnv,
  async run(ctx) {
    const { params } = ctx;
    const gathered = await gatherSources(ctx, params.sources, {
      timeoutMs: parseDuration(params.sourceTimeout),
      since: githubSince(ctx.run.lastSuccessAt),
    });
    const { failures } = gathered;
    if (failures.length === params.sources.length) {
      const message = `no source could be read: ${failuresText(failures)}`;
      throw failures.some((failure) => failure.retryable) ? new Error(message) : new NonRetryableError(message);
    }

    // A step, so a retried or resumed run digests exactly the items it chose the first time.
    // Ranking by focus happens before maxItems cuts: Claude ranks when it writes the digest and more are new than fit.
    const selection = await ctx.step("select", async () => {
      const fresh = freshStories(gathered.items, readDigested(ctx.state.get(DIGESTED)), {
        now: Date.parse(ctx.run.scheduledFor),
      });
      const focus = params.focus === DEFAULT_FOCUS ? undefined : params.focus;
      if (params.synthesize && focus && fresh.length > params.maxItems) {
        return cut(
          await rankWithClaude(ctx.claude, fresh, {
            focus,
            audience: params.audience,
            keep: params.maxItems,
            maxTokens: params.maxTokens,
          }),
          params.maxItems,
        );
      }
      return cut(rankLocally(fresh, focus), params.maxItems);
    });
    const { items } = selection;
    ctx.log.info(
      {
        gathered: gathered.items.length,
        new: items.length,
        held: selection.held,
        unreadable: failures.map((f) => f.name),
      },
      "digest items selected",
    );
    if (items.length === 0)
      return skip(failures.length ? `nothing new; could not read: ${failuresText(failures)}` : "nothing new");

    const facts: DigestFacts = { failures, held: selection.held };
    const date = ctx.run.scheduledFor.slice(0, 10);
    const output: Output = {
      key: `digest-${ctx.run.scheduledFor}`,
      title: `${params.title} — ${date}`,
      summary: `${plural(items.length, "new item")} from ${plural(new Set(items.flatMap((item) => asDigestItem(item).sources)).size, "source")}`,
      markdown: "",
      async onDelivered() {
        // Only now: a digest that failed to arrive leaves its items new for the next run.
        await ctx.state.set(DIGESTED, markDigested(readDigested(ctx.state.get(DIGESTED)), items, Date.now()));
      },
    };

    if (!params.synthesize) return { ...output, markdown: renderPlainList(items, facts) };

    const plan = await ctx.step("digest", () =>
      askForDigest(ctx.claude, items, { focus: params.focus, audience: params.audience, maxTokens: params.maxTokens }),
    );
    const byRef = new Map<string, FeedItem>(items.map((item, index) => [refOf(index), item]));
    // The model's title and intro are plain text from what the sources said: escaped like its other lines.
    const headline = plainText(plan.title, 200);
    return {
      ...output,
      title: headline ? `${params.title}: ${headline}` : output.title,
      summary: plainText(plan.intro, 600) || output.summary,
      markdown: renderPlan(plan, byRef, facts),
    };
  },
});
