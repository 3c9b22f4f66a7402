/** @module leonardo — hero images from Leonardo.ai's REST API: start a generation, poll it, download the image. */
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { z } from "zod";
import { formatDuration } from "../../util/duration.ts";
import { MissingCredentialError, ServiceError } from "../../errors.ts";
import type { Env, GeneratedImage, ImageGenerator } from "../../types.ts";
import { imageType } from "../../util/image-type.ts";
import { fetchWithRetry } from "../http.ts";
import { BODY_LIMITS, readBodyLimited } from "../http-body.ts";

const SERVICE = "Leonardo";
const DEFAULT_API_URL = "https://cloud.leonardo.ai";
/** Leonardo Lightning XL: quick and cheap, good enough for a blog's hero image. */
const DEFAULT_MODEL_ID = "b24e16ff-06e3-43eb-8d33-4416c2d75876";
const DEFAULT_SIZE = { width: 1344, height: 768 };
/** Polls slow down by doubling, but never wait longer than this between two looks. */
const MAX_POLL_GAP_MS = 15_000;
/** Where Leonardo serves generated images; the API's own host and LEONARDO_IMAGE_HOSTS are added. */
const CDN_HOST = "cdn.leonardo.ai";

const createdSchema = z.object({ sdGenerationJob: z.object({ generationId: z.string().min(1) }) });
const generationSchema = z.object({
  generations_by_pk: z
    .object({
      status: z.string(),
      generated_images: z.array(z.object({ url: z.url() })).default([]),
    })
    .nullable(),
});

export interface LeonardoOptions {
  env: Env;
  signal: AbortSignal;
  log: Logger;
  /** First wait between polls; doubled after each, up to 15 s. Default 2 s. */
  pollIntervalMs?: number;
  /** How long a generation may take before it is given up on. Default 3 min. */
  maxWaitMs?: number;
  fetch?: typeof fetch;
  /** Bytes an API answer may have (default 1 MB) and an image (default 20 MB). */
  maxJsonBytes?: number;
  maxImageBytes?: number;
}

export function createLeonardo(options: LeonardoOptions): ImageGenerator {
  const key = options.env.LEONARDO_API_KEY?.trim() || undefined;
  const api = `${(options.env.LEONARDO_API_URL?.trim() || DEFAULT_API_URL).replace(/\/+$/, "")}/api/rest/v1`;
  const { signal, log, pollIntervalMs = 2000, maxWaitMs = 180_000 } = options;
  const http = { signal, ...(options.fetch ? { fetch: options.fetch } : {}) };
  const { maxJsonBytes = BODY_LIMITS.json, maxImageBytes = BODY_LIMITS.image } = options;
  const imageHosts = new Set([
    new URL(api).host,
    CDN_HOST,
    ...(options.env.LEONARDO_IMAGE_HOSTS ?? "")
      .split(",")
      .map((host) => host.trim().toLowerCase())
      .filter(Boolean),
  ]);

  async function callApi<T>(
    what: string,
    path: string,
    init: RequestInit,
    schema: z.ZodType<T>,
    apiKey: string,
  ): Promise<T> {
    const headers = {
      accept: "application/json",
      authorization: `Bearer ${apiKey}`,
      ...(init.body ? { "content-type": "application/json" } : {}),
    };
    const response = await fetchWithRetry(SERVICE, `${api}${path}`, { ...init, headers }, http);
    const text = new TextDecoder().decode(
      await readBodyLimited(response, { maxBytes: maxJsonBytes, service: SERVICE, what }),
    );
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ServiceError({
        service: SERVICE,
        message: `${what} answered with a body that is not JSON: ${JSON.stringify(text.slice(0, 120))}`,
        status: response.status,
      });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ServiceError({
        service: SERVICE,
        message: `${what} answered with an unexpected body (${issue ? `${issue.path.join(".")}: ${issue.message}` : "wrong shape"})`,
        status: response.status,
      });
    }
    return parsed.data;
  }

  async function waitForImage(generationId: string, apiKey: string): Promise<string> {
    const started = Date.now();
    let gap = pollIntervalMs;
    for (let poll = 1; ; poll++) {
      const remaining = started + maxWaitMs - Date.now();
      if (remaining <= 0) {
        throw new ServiceError({
          service: SERVICE,
          message: `generation ${generationId} not complete after ${formatDuration(maxWaitMs)}`,
          retryable: true,
        });
      }
      await sleep(Math.min(gap, remaining), undefined, { signal });
      gap = Math.min(gap * 2, Math.max(MAX_POLL_GAP_MS, pollIntervalMs));
      const { generations_by_pk: generation } = await callApi(
        `GET /generations/${generationId}`,
        `/generations/${encodeURIComponent(generationId)}`,
        { method: "GET" },
        generationSchema,
        apiKey,
      );
      if (!generation)
        throw new ServiceError({ service: SERVICE, message: `generation ${generationId} does not exist` });
      log.debug({ generationId, status: generation.status, poll }, "Leonardo generation polled");
      if (generation.status === "FAILED")
        throw new ServiceError({ service: SERVICE, message: `generation ${generationId} failed (status FAILED)` });
      if (generation.status !== "COMPLETE") continue;
      const image = generation.generated_images[0];
      if (!image)
        throw new ServiceError({
          service: SERVICE,
          message: `generation ${generationId} is COMPLETE but has no image`,
        });
      return image.url;
    }
  }

  async function download(url: string): Promise<GeneratedImage> {
    // The URL comes from an answer: only Leonardo's own hosts are fetched, never an address it names.
    const target = new URL(url);
    if (
      !imageHosts.has(target.host.toLowerCase()) ||
      (target.protocol !== "https:" && target.protocol !== new URL(api).protocol)
    ) {
      throw new ServiceError({
        service: SERVICE,
        message: `the image is at ${target.protocol}//${target.host}, not one of Leonardo's hosts (${[...imageHosts].join(", ")}); add the host to LEONARDO_IMAGE_HOSTS if Leonardo really serves images there`,
      });
    }
    // The image lives on a CDN: the key is not sent there.
    const response = await fetchWithRetry(SERVICE, url, {}, http);
    const bytes = await readBodyLimited(response, {
      maxBytes: maxImageBytes,
      service: SERVICE,
      what: `the image at ${target.pathname}`,
    });
    const type = imageType(bytes);
    if (type?.extension !== "png" && type?.extension !== "jpg") {
      throw new ServiceError({
        service: SERVICE,
        message: `the image at ${new URL(url).pathname} is neither PNG nor JPEG (${bytes.length} bytes)`,
      });
    }
    return { bytes, ...type, url };
  }

  return {
    available: key !== undefined,
    async generate(prompt, size = {}) {
      if (!key)
        throw new MissingCredentialError({
          service: SERVICE,
          variable: "LEONARDO_API_KEY",
          why: "no image can be generated without it; set it or turn hero images off",
        });
      const width = dimension(size.width ?? DEFAULT_SIZE.width);
      const height = dimension(size.height ?? DEFAULT_SIZE.height);
      try {
        const body = JSON.stringify({ prompt, modelId: DEFAULT_MODEL_ID, width, height, num_images: 1 });
        const created = await callApi(
          "POST /generations",
          "/generations",
          { method: "POST", body },
          createdSchema,
          key,
        );
        const generationId = created.sdGenerationJob.generationId;
        log.info({ generationId, width, height }, "Leonardo generation started");
        const url = await waitForImage(generationId, key);
        return await download(url);
      } catch (error) {
        // An abort while sleeping surfaces as a bare AbortError: report the run's own reason instead.
        throw signal.aborted ? signal.reason : redact(error, key);
      }
    },
  };
}

/** Leonardo wants multiples of 8 between 32 and 1536. */
function dimension(value: number): number {
  return Math.min(1536, Math.max(32, Math.round(value / 8) * 8));
}

/** A server that echoes the request (some proxies do) must not carry the key into a message. */
function redact(error: unknown, key: string): unknown {
  if (error instanceof Error && (error.message.includes(key) || error.stack?.includes(key))) {
    error.message = error.message.replaceAll(key, "[redacted]");
    error.stack = error.stack?.replaceAll(key, "[redacted]");
  }
  return error;
}
