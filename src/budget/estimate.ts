/**
 * @module budget/estimate — the largest possible cost of a Claude call, computed locally before it
 * is sent (no token-counting request: that would be a network call before every call). Input is
 * over-estimated as one token per UTF-8 byte of the request's JSON: a byte-level tokenizer's token
 * covers at least one byte, so this is never below the real count (English runs ~4 bytes a token,
 * so it is ~4× high; a budget refuses a call only when even this bound does not fit).
 */
import { priceOf } from "../integrations/claude/pricing.ts";

/** Tokens the API adds around each message and the request (role markers, formatting); generous. */
const PER_MESSAGE_OVERHEAD = 16;
const PER_REQUEST_OVERHEAD = 64;

export interface CallBound {
  model: string;
  /** Bytes of the parts sent for caching (the system prompt): billed at most at the cache-write price. */
  cachedBytes: number;
  /** Bytes of everything else sent (messages, output schema). */
  otherBytes: number;
  messages: number;
  maxTokens: number;
}

export interface CallCost {
  /** Upper bound of input tokens. */
  inputTokens: number;
  /** Dollars; null when the model has no known price. */
  usd: number | null;
}

/** UTF-8 length without building a buffer. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

export function maxCallCost(call: CallBound): CallCost {
  const inputTokens = call.cachedBytes + call.otherBytes + PER_REQUEST_OVERHEAD + PER_MESSAGE_OVERHEAD * call.messages;
  const entry = priceOf(call.model);
  if (!entry) return { inputTokens, usd: null };
  // Long-prompt rates apply to the whole request once its prompt passes the threshold; the bound takes them when it might.
  const rates = entry.longPrompt && inputTokens > entry.longPrompt.above ? entry.longPrompt.price : entry;
  const cachedRate = Math.max(rates.input, rates.cacheWrite);
  const cachedTokens = call.cachedBytes;
  const micro = cachedTokens * cachedRate + (inputTokens - cachedTokens) * rates.input + call.maxTokens * rates.output;
  return { inputTokens, usd: micro / 1_000_000 };
}
