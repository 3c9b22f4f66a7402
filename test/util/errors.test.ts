/** One error model: every Sundial error is recognised the same way (brand, `code`, `retryable`) and keeps its cause. */
import { describe, expect, it } from "vitest";
import {
  errorCode,
  isRetryable,
  isSundialError,
  MissingCredentialError,
  NonRetryableError,
  ServiceError,
  SundialError,
} from "../../src/index.ts";
import { UsageError } from "../../src/errors.ts";

describe("Sundial's errors", () => {
  it("carry a code, whether a retry may help, and their cause", () => {
    const cause = new Error("ECONNRESET");
    const service = new ServiceError({ service: "Feed hn", message: "HTTP 503", status: 503, retryable: true, cause });
    expect(service).toBeInstanceOf(SundialError);
    expect(service.message).toBe("Feed hn: HTTP 503");
    expect([service.code, service.status, service.retryable, service.cause]).toEqual(["service", 503, true, cause]);
    expect(new ServiceError({ service: "Claude", message: "refused" }).retryable).toBe(false);
    const final = new NonRetryableError("bad input", { cause });
    expect([final.code, final.retryable, final.cause, final.name]).toEqual([
      "non_retryable",
      false,
      cause,
      "NonRetryableError",
    ]);
    expect(new UsageError("no such job").code).toBe("usage");
  });

  it("have one error for a missing credential, which names the variable and the fix", () => {
    const error = new MissingCredentialError({
      service: "Claude",
      variable: "ANTHROPIC_API_KEY",
      why: "add it to the environment or .env",
    });
    expect(error.message).toBe("Claude: ANTHROPIC_API_KEY is not set; add it to the environment or .env");
    expect([errorCode(error), error.variable, isRetryable(error)]).toEqual([
      "missing_credential",
      "ANTHROPIC_API_KEY",
      false,
    ]);
    const named = new MissingCredentialError({
      service: "Feed x",
      variable: "TOKEN",
      namedBy: "headersEnv.Authorization",
      why: "set it",
    });
    expect(named.message).toBe("Feed x: headersEnv.Authorization names TOKEN, which is not set; set it");
  });

  it("are recognised by their brand, also from another instance of the module (a skill's)", async () => {
    const copy = "../../src/errors.ts?another-instance"; // a second module instance, as a skill may have
    const other = (await import(/* @vite-ignore */ copy)) as typeof import("../../src/errors.ts");
    const foreign = new other.NonRetryableError("from elsewhere", { code: "no_transcript" });
    expect(foreign).not.toBeInstanceOf(SundialError);
    expect(isSundialError(foreign)).toBe(true);
    expect(errorCode(foreign)).toBe("no_transcript");
    expect(isRetryable(foreign)).toBe(false);
    expect(isRetryable(new other.ServiceError({ service: "X", message: "503", retryable: true }))).toBe(true);
  });

  it("leave every other value alone: not branded, no code, retryable", () => {
    for (const value of [
      new Error("x"),
      Object.assign(new Error("x"), { name: "NonRetryableError" }),
      "text",
      null,
      undefined,
    ]) {
      expect(isSundialError(value)).toBe(false);
      expect(errorCode(value)).toBeUndefined();
      expect(isRetryable(value)).toBe(true);
    }
  });
});
