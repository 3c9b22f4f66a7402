/**
 * @module claude/client — `ctx.claude` through the official SDK: text answers and zod-checked
 * structured answers, the system prompt cached, and usage and cost reported for every call.
 */
import Anthropic, { APIConnectionError, APIConnectionTimeoutError, APIError } from "@anthropic-ai/sdk";
import { transformJSONSchema } from "@anthropic-ai/sdk/lib/transform-json-schema";
import type {
  ContentBlockParam,
  MessageCreateParamsNonStreaming,
  MessageParam,
} from "@anthropic-ai/sdk/resources/messages";
import type { Logger } from "pino";
import { z } from "zod";
import { parseDuration } from "../../util/duration.ts";
import { MissingCredentialError, NonRetryableError, ServiceError, errorMessage } from "../../errors.ts";
import type { ClaudeClient, ClaudeRequest, ClaudeStructuredRequest, Env, Usage } from "../../types.ts";
import { DEFAULT_MODEL, costOf } from "./pricing.ts";
import { maxCallCost, utf8Bytes } from "../../budget/estimate.ts";
import type { BudgetGuard, BudgetHold } from "../../budget/guard.ts";

export { DEFAULT_MODEL };
const SERVICE = "Claude";
const DEFAULT_MAX_TOKENS = 4096;
const DEFAULT_TIMEOUT = "5m";
/** The SDK retries 408, 409, 429 and 5xx itself, honouring `retry-after`. */
const SDK_RETRIES = 3;
const RETRYABLE_STATUS = new Set([408, 409, 429]);

export interface ClaudeClientOptions {
  env: Env;
  model?: string;
  signal: AbortSignal;
  log: Logger;
  onUsage(record: { model: string; usage: Usage; costUsd: number | null }): void;
  /** Reserves each call's largest cost before it is sent (and refuses it past a budget); settles it after. */
  budget?: Pick<BudgetGuard, "reserve">;
}

/** The parts of a Messages API answer Sundial relies on, checked at the edge. */
const AnswerSchema = z.object({
  model: z.string().optional(),
  stop_reason: z.string().nullable(),
  content: z.array(z.looseObject({ type: z.string(), text: z.string().optional() })),
  usage: z.object({
    input_tokens: z.number(),
    output_tokens: z.number(),
    cache_creation_input_tokens: z.number().nullish(),
    cache_read_input_tokens: z.number().nullish(),
  }),
});
type Answer = z.infer<typeof AnswerSchema>;

export function createClaudeClient(options: ClaudeClientOptions): ClaudeClient {
  const { env, signal, log } = options;
  const defaultModel = options.model ?? env.SUNDIAL_MODEL ?? DEFAULT_MODEL;
  const apiKey = env.ANTHROPIC_API_KEY;
  let sdk: Anthropic | undefined;

  // Built on first use, so a run that never asks Claude needs no key.
  function client(): Anthropic {
    if (!apiKey)
      throw new MissingCredentialError({
        service: SERVICE,
        variable: "ANTHROPIC_API_KEY",
        why: "add it to the environment or .env",
      });
    // logLevel is fixed so the ambient ANTHROPIC_LOG cannot turn on request logging behind our back.
    sdk ??= new Anthropic({
      apiKey,
      baseURL: env.ANTHROPIC_BASE_URL || null,
      maxRetries: SDK_RETRIES,
      logger: log,
      logLevel: "warn",
    });
    return sdk;
  }

  async function send(
    request: ClaudeRequest,
    messages: MessageParam[],
    extra: Partial<MessageCreateParamsNonStreaming> = {},
  ): Promise<Answer> {
    const model = request.model ?? defaultModel;
    const maxTokens = request.maxTokens ?? DEFAULT_MAX_TOKENS;
    const timeout = timeoutMs(request.timeout ?? DEFAULT_TIMEOUT);
    const params: MessageCreateParamsNonStreaming = {
      model,
      max_tokens: maxTokens,
      // Marked for caching: a long stable system prompt is then billed at the cache-read price on later calls.
      ...(request.system
        ? { system: [{ type: "text", text: request.system, cache_control: { type: "ephemeral" } }] }
        : {}),
      messages,
      ...extra,
    };
    const sdk = client();
    const hold = options.budget ? await reserve(options.budget, params, request.system) : null;
    let raw: unknown;
    try {
      raw = await sdk.messages.create(params, { signal, timeout });
    } catch (error) {
      await hold?.release();
      throw toServiceError(error, signal, request.timeout ?? DEFAULT_TIMEOUT, apiKey);
    }
    const parsed = AnswerSchema.safeParse(raw);
    if (!parsed.success) {
      await hold?.release();
      throw new ServiceError({
        service: SERVICE,
        message: `unexpected answer: ${issuesOf(parsed.error)}`,
        retryable: true,
      });
    }
    const answer = parsed.data;
    const billed = answer.model ?? model;
    const usage = usageOf(answer);
    const costUsd = costOf(billed, usage);
    await hold?.settle(billed, usage, costUsd);
    log.debug({ model: billed, usage, costUsd }, "claude call");
    options.onUsage({ model: billed, usage, costUsd });
    checkStop(answer, maxTokens);
    return answer;
  }

  return {
    async text(request) {
      const text = textOf(await send(request, [{ role: "user", content: request.prompt }]));
      if (!text.trim())
        throw new ServiceError({ service: SERVICE, message: "the answer had no text", retryable: true });
      return text;
    },

    async structured<T>(request: ClaudeStructuredRequest<T>): Promise<T> {
      const format = { type: "json_schema" as const, schema: outputSchema(request) };
      const messages: MessageParam[] = [{ role: "user", content: request.prompt }];
      for (let attempt = 1; ; attempt++) {
        const answer = await send(request, messages, { output_config: { format } });
        const result = validate(request.schema, textOf(answer));
        if (result.ok) return result.value;
        if (attempt >= 2) {
          throw new ServiceError({
            service: SERVICE,
            message: `the answer for "${request.name}" did not match its schema after a second try: ${result.problem}`,
            retryable: true,
          });
        }
        log.warn(
          { name: request.name, problem: result.problem },
          "claude answer did not match its schema; asking once more",
        );
        // The whole answer goes back unchanged (thinking blocks must), then what was wrong with it.
        messages.push(
          { role: "assistant", content: answer.content as ContentBlockParam[] },
          {
            role: "user",
            content: `That answer does not match the required schema: ${result.problem}. Answer again with JSON that fixes this.`,
          },
        );
      }
    },
  };
}

/** The call's largest cost reserved against the run's budgets before anything is sent. */
function reserve(
  budget: Pick<BudgetGuard, "reserve">,
  params: MessageCreateParamsNonStreaming,
  system: string | undefined,
): Promise<BudgetHold> {
  const cachedBytes = system ? utf8Bytes(system) : 0;
  const call = {
    model: params.model,
    cachedBytes,
    otherBytes: utf8Bytes(JSON.stringify({ ...params, system: undefined })),
    messages: params.messages.length,
    maxTokens: params.max_tokens,
  };
  const cost = maxCallCost(call);
  return budget.reserve({
    model: params.model,
    maxCostUsd: cost.usd,
    inputTokens: cost.inputTokens,
    maxTokens: params.max_tokens,
  });
}

/**
 * The JSON schema sent as `output_config.format`. Current models (Sonnet 5.5, Opus 5.5, Fable 5.1)
 * answer forced `tool_choice` with a 400, so structured answers use JSON schema output instead; the
 * SDK's transform keeps only what structured outputs accept and moves other limits into
 * descriptions, which zod then checks.
 */
function outputSchema(request: ClaudeStructuredRequest<unknown>): Record<string, unknown> {
  try {
    const schema = transformJSONSchema(z.toJSONSchema(request.schema, { io: "input" }));
    return { title: request.name, ...(request.description ? { description: request.description } : {}), ...schema };
  } catch (error) {
    throw new NonRetryableError(
      `${SERVICE}: the schema for "${request.name}" cannot be sent as JSON schema: ${errorMessage(error)}`,
    );
  }
}

function validate<T>(schema: z.ZodType<T>, text: string): { ok: true; value: T } | { ok: false; problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `the answer is not JSON (${errorMessage(error)})` };
  }
  const result = schema.safeParse(value);
  return result.success ? { ok: true, value: result.data } : { ok: false, problem: issuesOf(result.error) };
}

function issuesOf(error: z.ZodError): string {
  const issues = error.issues.slice(0, 5).map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`);
  const more = error.issues.length > 5 ? `; and ${error.issues.length - 5} more` : "";
  return issues.join("; ") + more;
}

function textOf(answer: Answer): string {
  return answer.content.map((block) => (block.type === "text" ? (block.text ?? "") : "")).join("");
}

function usageOf(answer: Answer): Usage {
  return {
    inputTokens: answer.usage.input_tokens,
    outputTokens: answer.usage.output_tokens,
    cacheWriteTokens: answer.usage.cache_creation_input_tokens ?? 0,
    cacheReadTokens: answer.usage.cache_read_input_tokens ?? 0,
  };
}

/** An answer that stopped early is never passed on as if it were whole. */
function checkStop(answer: Answer, maxTokens: number): void {
  if (answer.stop_reason === "max_tokens") {
    throw new ServiceError({
      service: SERVICE,
      message: `the answer was cut off at maxTokens (${maxTokens}); raise maxTokens`,
    });
  }
  if (answer.stop_reason === "refusal")
    throw new ServiceError({ service: SERVICE, message: "the model declined to answer (stop_reason refusal)" });
  if (answer.stop_reason === "model_context_window_exceeded") {
    throw new ServiceError({ service: SERVICE, message: "the prompt filled the model's context window; shorten it" });
  }
}

function timeoutMs(duration: string): number {
  try {
    return parseDuration(duration);
  } catch (error) {
    throw new NonRetryableError(`${SERVICE}: timeout ${errorMessage(error)}`);
  }
}

function toServiceError(error: unknown, signal: AbortSignal, timeout: string, secret: string | undefined): unknown {
  // The run's own abort (timeout or shutdown) is reported as itself, not as a Claude failure.
  if (signal.aborted) return signal.reason;
  if (error instanceof ServiceError || error instanceof NonRetryableError) return error;
  const redact = (text: string) => (secret ? text.split(secret).join("[redacted]") : text).slice(0, 300);
  if (error instanceof APIConnectionTimeoutError)
    return new ServiceError({ service: SERVICE, message: `no answer within ${timeout}`, retryable: true });
  if (error instanceof APIConnectionError) {
    const cause = (error.cause as { code?: string } | undefined)?.code ?? error.message;
    return new ServiceError({ service: SERVICE, message: redact(`connection failed (${cause})`), retryable: true });
  }
  if (error instanceof APIError && typeof error.status === "number") {
    const status = error.status;
    const cause = [error.type, error.apiMessage].filter(Boolean).join(": ") || error.message;
    return new ServiceError({
      service: SERVICE,
      message: redact(`${status} ${cause}`),
      status,
      retryable: RETRYABLE_STATUS.has(status) || status >= 500,
    });
  }
  return new ServiceError({
    service: SERVICE,
    message: redact(`unreadable answer (${errorMessage(error)})`),
    retryable: true,
  });
}
