/** SUNDIAL_LEASE: a duration, 30s when unset or empty, refused with a clear message otherwise. */
import { describe, expect, it } from "vitest";
import { leaseMs } from "../../src/config/env.ts";

describe("SUNDIAL_LEASE", () => {
  it("defaults to 30s and reads a duration", () => {
    expect(leaseMs({})).toBe(30_000);
    expect(leaseMs({ SUNDIAL_LEASE: "" })).toBe(30_000);
    expect(leaseMs({ SUNDIAL_LEASE: "1s" })).toBe(1_000);
    expect(leaseMs({ SUNDIAL_LEASE: "2m" })).toBe(120_000);
  });

  it("refuses what is not a duration, or is shorter than 1s or longer than 24h, naming the variable", () => {
    expect(() => leaseMs({ SUNDIAL_LEASE: "30" })).toThrow(/^SUNDIAL_LEASE: "30" is not a duration/);
    expect(() => leaseMs({ SUNDIAL_LEASE: "500ms" })).toThrow(
      'SUNDIAL_LEASE must be between 1s and 24h (a run whose holder is silent that long is taken from it), not "500ms"',
    );
    expect(() => leaseMs({ SUNDIAL_LEASE: "2d" })).toThrow("SUNDIAL_LEASE must be between 1s and 24h");
  });
});
