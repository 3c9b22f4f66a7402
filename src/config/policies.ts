/**
 * @module policies — every run policy's default, written once, and how a job's policies resolve:
 * the job's own value, else the file's `defaults`, else (timeout and retries) the skill's, else the
 * default here. `sundial run <skill>` without a job uses its own defaults (no retry wait worth the
 * name, no overlap refused, nothing to catch up), taken from the same list.
 */
import type { z } from "zod";
import { parseDuration } from "../util/duration.ts";
import type { policySchema } from "./schema.ts";

/** Every policy, set: what schedules.json's `defaults` (and each job) may write. */
export type PolicyValues = {
  [K in keyof z.output<typeof policySchema>]-?: NonNullable<z.output<typeof policySchema>[K]>;
};

/** The value of each policy that neither the job, the file's `defaults` nor the skill sets. */
export const POLICY_DEFAULTS: Readonly<PolicyValues> = {
  timeout: "10m",
  retries: 2,
  retryBackoff: "30s",
  overlap: "skip",
  catchUp: "latest",
  catchUpWindow: "24h",
  jitter: "0s",
};

/** `sundial run <skill>` with no job: a run asked for by hand, now, once. */
export const AD_HOC_POLICY_DEFAULTS: Readonly<PolicyValues> = {
  ...POLICY_DEFAULTS,
  retries: 0,
  retryBackoff: "1s",
  overlap: "allow",
  catchUp: "none",
  catchUpWindow: "0s",
};

export interface ResolvedPolicies {
  timeoutMs: number;
  retries: number;
  retryBackoffMs: number;
  overlap: PolicyValues["overlap"];
  catchUp: PolicyValues["catchUp"];
  catchUpWindowMs: number;
  jitterMs: number;
}

/** The policies of a job: the first layer that sets each one wins (the job's, then the file's `defaults`). */
export function resolvePolicies(
  layers: readonly Partial<PolicyValues>[],
  skill: { timeout?: string; retries?: number } | undefined,
  defaults: Readonly<PolicyValues> = POLICY_DEFAULTS,
): ResolvedPolicies {
  const set = <K extends keyof PolicyValues>(key: K): PolicyValues[K] | undefined =>
    layers.find((layer) => layer[key] !== undefined)?.[key];
  return {
    timeoutMs: parseDuration(set("timeout") ?? skill?.timeout ?? defaults.timeout),
    retries: set("retries") ?? skill?.retries ?? defaults.retries,
    retryBackoffMs: parseDuration(set("retryBackoff") ?? defaults.retryBackoff),
    overlap: set("overlap") ?? defaults.overlap,
    catchUp: set("catchUp") ?? defaults.catchUp,
    catchUpWindowMs: parseDuration(set("catchUpWindow") ?? defaults.catchUpWindow),
    jitterMs: parseDuration(set("jitter") ?? defaults.jitter),
  };
}
