/**
 * @module claude/pricing — what a Claude call cost in dollars, from a price table kept easy to
 * update; an unknown model costs `null`, never a guess.
 */
import type { Usage } from "../../types.ts";

/**
 * The current Sonnet in the SDK's model list (`claude-sonnet-4-5` is deprecated there). Kept here,
 * beside its price, so `check` can find a budgeted job's price without importing the SDK.
 */
export const DEFAULT_MODEL = "claude-sonnet-5-5";

/** USD per million tokens. `cacheWrite` is the 5-minute write, the only cache TTL Sundial asks for. */
export interface ModelPrice {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

export interface PriceEntry extends ModelPrice {
  /** A request whose prompt (input + cache reads + cache writes) exceeds `above` tokens pays `price` on all of it. */
  longPrompt?: { above: number; price: ModelPrice };
}

function price(input: number, output: number, cacheWrite: number, cacheRead: number): ModelPrice {
  return { input, output, cacheWrite, cacheRead };
}

/**
 * List prices of the Claude API (platform.claude.com/docs/en/about-claude/pricing), checked November
 * 2026. Keyed by exact model id: a dated id (`claude-sonnet-4-5-20250929`) or `-latest` alias finds
 * its base id, but a version not listed here is unknown, because versions of one family are priced
 * differently (Sonnet 4.x $3, Sonnet 5.x $2). Cache reads are not always 0.1× input (Sonnet 5.5 and
 * Opus 5.5 read at 0.05×, Fable 5.1 at 0.025×), so each column is written out.
 */
export const PRICES: Readonly<Record<string, PriceEntry>> = {
  "claude-fable-5-2": price(8, 40, 10, 0.2),
  "claude-fable-5-1": price(10, 50, 12.5, 0.25),
  "claude-mythos-5-1": price(10, 50, 12.5, 0.25),
  "claude-fable-5": price(10, 50, 12.5, 1),
  "claude-mythos-5": price(10, 50, 12.5, 1),
  "claude-opus-5-5": price(4, 20, 5, 0.2),
  "claude-opus-5": price(5, 25, 6.25, 0.5),
  "claude-opus-4-8": price(5, 25, 6.25, 0.5),
  "claude-opus-4-7": price(5, 25, 6.25, 0.5),
  "claude-opus-4-6": price(5, 25, 6.25, 0.5),
  "claude-opus-4-5": price(5, 25, 6.25, 0.5),
  "claude-opus-4-1": price(15, 75, 18.75, 1.5),
  "claude-opus-4-0": price(15, 75, 18.75, 1.5),
  "claude-opus-4": price(15, 75, 18.75, 1.5),
  "claude-sonnet-5-5": price(2, 10, 2.5, 0.1),
  "claude-sonnet-5": price(2, 10, 2.5, 0.2),
  "claude-sonnet-4-6": price(3, 15, 3.75, 0.3),
  "claude-sonnet-4-5": price(3, 15, 3.75, 0.3),
  "claude-sonnet-4-0": price(3, 15, 3.75, 0.3),
  "claude-sonnet-4": price(3, 15, 3.75, 0.3),
  "claude-3-7-sonnet": price(3, 15, 3.75, 0.3),
  "claude-haiku-5-5": {
    ...price(0.1, 0.5, 0.125, 0.01),
    longPrompt: { above: 100_000, price: price(0.5, 2.5, 0.625, 0.05) },
  },
  "claude-haiku-4-5": price(1, 5, 1.25, 0.1),
  "claude-3-5-haiku": price(0.8, 4, 1, 0.08),
  "claude-3-haiku": price(0.25, 1.25, 0.3, 0.03),
};

const DATE_OR_ALIAS_SUFFIX = /-(?:\d{8}|latest)$/;

/** The price entry for a model id, or undefined when the model is not in the table. */
export function priceOf(model: string, table: Readonly<Record<string, PriceEntry>> = PRICES): PriceEntry | undefined {
  return table[model] ?? table[model.replace(DATE_OR_ALIAS_SUFFIX, "")];
}

/** Dollars for one call's usage; null for a model whose price is unknown. */
export function costOf(
  model: string,
  usage: Usage,
  table: Readonly<Record<string, PriceEntry>> = PRICES,
): number | null {
  const entry = priceOf(model, table);
  if (!entry) return null;
  const prompt = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
  const rates = entry.longPrompt && prompt > entry.longPrompt.above ? entry.longPrompt.price : entry;
  const micro =
    usage.inputTokens * rates.input +
    usage.outputTokens * rates.output +
    usage.cacheWriteTokens * rates.cacheWrite +
    usage.cacheReadTokens * rates.cacheRead;
  return micro / 1_000_000;
}

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
  };
}
