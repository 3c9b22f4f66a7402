/**
 * @module define — `defineSkill()` and `skip()`: what a skill file imports from "sundial". Kept free
 * of the daemon's modules because every skill load brings its own copy of this module graph.
 */
import type { z } from "zod";
import type { SkillDefinition, SkipResult } from "../types.ts";

/** Identity function that exists for type inference: `ctx.params` gets the schema's output type. */
export function defineSkill<S extends z.ZodType>(definition: SkillDefinition<S>): SkillDefinition<S> {
  return definition;
}

/** Ends the run as `skipped` with this reason (nothing new, nothing to do…). */
export function skip(reason: string): SkipResult {
  return { skipped: true, reason };
}

export function isSkip(value: unknown): value is SkipResult {
  return typeof value === "object" && value !== null && (value as SkipResult).skipped === true && typeof (value as SkipResult).reason === "string";
}
