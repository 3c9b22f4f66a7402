/**
 * @module define — `defineSkill()` and `skip()`: what a skill file imports from "sundial". A skill
 * shares the daemon's instance of this module (only the skill's own files are loaded again on
 * reload, see loader-hooks.js); it stays free of the daemon's modules so importing "sundial" is cheap.
 */
import type { z } from "zod";
import type { SkillDefinition, SkipResult } from "../types.ts";

/**
 * Declares a skill. An identity function that exists for type inference: `ctx.params` gets the
 * params schema's output type (defaults applied), and `env` receives the same type.
 *
 * @example
 * export default defineSkill({
 *   name: "hello",
 *   description: "Says hello",
 *   params: z.object({ who: z.string().default("world") }),
 *   async run(ctx) {
 *     const who = ctx.params.who; // string
 *     return { key: who, title: `Hello, ${who}`, markdown: "Hi!" };
 *   },
 * });
 */
export function defineSkill<S extends z.ZodType>(definition: SkillDefinition<S>): SkillDefinition<S> {
  return definition;
}

/**
 * Ends the run as `skipped` with this reason (nothing new, nothing to do…): return it from `run`.
 *
 * @example
 * if (items.length === 0) return skip("no new items since the last digest");
 */
export function skip(reason: string): SkipResult {
  return { skipped: true, reason };
}

export function isSkip(value: unknown): value is SkipResult {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as SkipResult).skipped === true &&
    typeof (value as SkipResult).reason === "string"
  );
}
