/** Leonardo integration against the loopback emulator: create, poll until done, download; faults and secrets. */
import pino from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MissingCredentialError, ServiceError, errorCode, isRetryable } from "../../src/errors.ts";
import { createLeonardo, type LeonardoOptions } from "../../src/integrations/leonardo/leonardo.ts";
import { ONE_PIXEL_PNG, startLeonardoEmulator, type LeonardoEmulator } from "../emulators/leonardo.ts";

const KEY = "leo-secret-key-0123456789abcdef";
let emulator: LeonardoEmulator;

function leonardo(overrides: Partial<LeonardoOptions> = {}) {
  return createLeonardo({
    env: { LEONARDO_API_KEY: KEY, LEONARDO_API_URL: emulator.url },
    signal: new AbortController().signal,
    log: pino({ level: "silent" }),
    pollIntervalMs: 10,
    maxWaitMs: 5000,
    ...overrides,
  });
}
const polls = () =>
  emulator.requests.filter((r) => r.method === "GET" && r.path.startsWith("/api/rest/v1/generations/"));

beforeAll(async () => {
  emulator = await startLeonardoEmulator({ apiKey: KEY });
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.requests.length = 0;
  emulator.pendingPolls = 2;
});

describe("Leonardo", () => {
  it("creates a generation, polls until COMPLETE and returns the PNG bytes", async () => {
    const image = await leonardo().generate("a brass sundial at dawn", { width: 1200, height: 630 });
    expect(Buffer.from(image.bytes).equals(ONE_PIXEL_PNG)).toBe(true);
    expect(image).toMatchObject({ mediaType: "image/png", extension: "png" });
    const generation = emulator.generations.at(-1);
    expect(generation).toMatchObject({
      prompt: "a brass sundial at dawn",
      width: 1200,
      height: 632,
      numImages: 1,
      polls: 3,
    });
    expect(generation?.modelId).toMatch(/^[0-9a-f-]{36}$/);
    expect(image.url).toBe(emulator.imageUrl(generation?.id ?? ""));
    const create = emulator.requests[0];
    expect(create?.method).toBe("POST");
    expect(create?.path).toBe("/api/rest/v1/generations");
    expect(create?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(polls()).toHaveLength(3);
    // The CDN download carries no key.
    expect(emulator.requests.at(-1)?.headers.authorization).toBeUndefined();
  });

  it("backs off between polls", async () => {
    emulator.pendingPolls = 4;
    const started = Date.now();
    await leonardo({ pollIntervalMs: 40 }).generate("slow");
    // 40 + 80 + 160 + 320 + 640 ms of waiting before the fifth poll finds it COMPLETE.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1200);
    expect(polls()).toHaveLength(5);
  });

  it("waits as retry-after asks on 429, then succeeds", async () => {
    emulator.failNext(1, { status: 429, retryAfter: 1, path: "/api/rest/v1/generations" });
    const started = Date.now();
    const image = await leonardo().generate("rate limited");
    expect(image.bytes.length).toBe(ONE_PIXEL_PNG.length);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(emulator.requests.filter((r) => r.method === "POST")).toHaveLength(2);
  });

  it("retries a 5xx while polling, then succeeds", async () => {
    emulator.failNext(1, { status: 502, path: "/api/rest/v1/generations/" });
    await leonardo().generate("flaky gateway");
    expect(polls()).toHaveLength(4);
  });

  it("fails a 401 at once, naming Leonardo and the cause, without the key", async () => {
    const error = await leonardo({ env: { LEONARDO_API_KEY: "wrong-key-123", LEONARDO_API_URL: emulator.url } })
      .generate("x")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as Error).message).toMatch(
      /^Leonardo: HTTP 401 from .*\/generations: .*Invalid authentication token/,
    );
    expect((error as Error).message).not.toContain("wrong-key-123");
    expect(isRetryable(error)).toBe(false);
    expect(emulator.requests).toHaveLength(1);
  });

  it("keeps the key out of messages even when the server echoes it", async () => {
    emulator.failNext(1, { status: 400, body: JSON.stringify({ error: `bad request from Bearer ${KEY}` }) });
    const error = (await leonardo()
      .generate("x")
      .catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/^Leonardo: HTTP 400/);
    expect(error.message).toContain("[redacted]");
    expect(`${error.message}\n${error.stack}`).not.toContain(KEY);
  });

  it("fails clearly on a body that is not JSON, and on JSON of the wrong shape", async () => {
    emulator.failNext(1, { status: 200, body: "<html>maintenance</html>" });
    await expect(leonardo().generate("x")).rejects.toThrow(
      /^Leonardo: POST \/generations answered with a body that is not JSON/,
    );
    emulator.failNext(1, { status: 200, body: JSON.stringify({ sdGenerationJob: {} }) });
    await expect(leonardo().generate("x")).rejects.toThrow(
      /^Leonardo: POST \/generations answered with an unexpected body \(sdGenerationJob\.generationId/,
    );
  });

  it("fails when the generation ends FAILED", async () => {
    emulator.failGeneration();
    const error = await leonardo()
      .generate("forbidden subject")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as Error).message).toMatch(/^Leonardo: generation [0-9a-f-]{36} failed/);
    expect(polls()).toHaveLength(3);
  });

  it("gives up, retryably, when the generation is not done in time", async () => {
    emulator.pendingPolls = 1000;
    const started = Date.now();
    const error = await leonardo({ maxWaitMs: 300 })
      .generate("never ends")
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/^Leonardo: generation [0-9a-f-]{36} not complete after 300ms/);
    expect(isRetryable(error)).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(polls().length).toBeGreaterThan(2);
  });

  it("stops polling when the signal fires", async () => {
    emulator.pendingPolls = 1000;
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("run timed out")), 100);
    await expect(leonardo({ signal: controller.signal }).generate("aborted")).rejects.toThrow("run timed out");
  });

  it("is unavailable without LEONARDO_API_KEY and says so when asked anyway", async () => {
    const images = createLeonardo({
      env: { LEONARDO_API_URL: emulator.url },
      signal: new AbortController().signal,
      log: pino({ level: "silent" }),
    });
    expect(images.available).toBe(false);
    expect(leonardo().available).toBe(true);
    const error = await images.generate("x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingCredentialError);
    expect(errorCode(error)).toBe("missing_credential");
    expect(isRetryable(error)).toBe(false);
    expect((error as Error).message).toMatch(/^Leonardo: LEONARDO_API_KEY is not set/);
    expect(emulator.requests).toHaveLength(0);
  });

  it("refuses a download that is not an image", async () => {
    emulator.failNext(1, { status: 200, body: "not an image", path: "/users/" });
    await expect(leonardo().generate("x")).rejects.toThrow(
      /^Leonardo: the image at \/users\/.* is neither PNG nor JPEG/,
    );
  });
});

describe("Leonardo answers it must not trust", () => {
  const failure = (work: Promise<unknown>) =>
    work.then(
      () => expect.fail("should have failed"),
      (error: unknown) => error as Error,
    );
  afterEach(() => {
    emulator.imageBase = null;
    emulator.imageBytes = 0;
  });

  it("fetches the image only from Leonardo's hosts, never from an address an answer names", async () => {
    emulator.imageBase = "http://127.0.0.1:9"; // another origin (the discard port): must not even be tried
    const error = await failure(leonardo().generate("x"));
    expect(error.message).toContain("the image is at http://127.0.0.1:9, not one of Leonardo's hosts (");
    expect(error.message).toContain("cdn.leonardo.ai");
    expect(isRetryable(error)).toBe(false);
  });

  it("fetches from a host added by LEONARDO_IMAGE_HOSTS", async () => {
    const image = await leonardo({
      env: {
        LEONARDO_API_KEY: KEY,
        LEONARDO_API_URL: emulator.url.replace("127.0.0.1", "localhost"),
        LEONARDO_IMAGE_HOSTS: `cdn.leonardo.ai, ${new URL(emulator.url).host}`,
      },
    }).generate("x");
    expect(Buffer.from(image.bytes).equals(ONE_PIXEL_PNG)).toBe(true);
  });

  it("stops downloading an image past 20 MB and closes the connection", async () => {
    emulator.imageBytes = 512 * 1024 * 1024;
    emulator.imageClosedEarly = false;
    const error = await failure(leonardo().generate("x"));
    expect(error.message).toMatch(/^Leonardo: the image at \/users\/.*\.png answered more than 20 MB$/);
    await expect.poll(() => emulator.imageClosedEarly).toBe(true);
    expect(emulator.imageBytesSent).toBeLessThan(64 * 1024 * 1024);
  });

  it("refuses an API answer past 1 MB", async () => {
    emulator.failNext(1, {
      status: 200,
      path: "/api/rest/v1/generations/",
      body: JSON.stringify({ generations_by_pk: { status: "PENDING", pad: "p".repeat(2 * 1024 * 1024) } }),
    });
    const error = await failure(leonardo().generate("x"));
    expect(error.message).toMatch(/^Leonardo: GET \/generations\/\S+ answered more than 1 MB$/);
  });
});
