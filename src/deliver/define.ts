/**
 * @module deliver/define — what a delivery target is: ONE definition per target holding its name,
 * the zod schema of its entry in `schedules.json` (`{"to": name, …}`), the environment variables it
 * needs (a function of that entry) and its adapter's factory. The registry (`./index.ts`) lists the
 * definitions; the config schema, the `DeliveryTarget` type, `schedules.schema.json` and `check`'s
 * environment checks are all derived from it, so a new target is one file and one line there.
 */
import type { z } from "zod";
import type { DeliveryAdapter } from "../types.ts";

/** What the registry hands every factory (the stdout target writes through `write` in tests). */
export interface DeliveryOptions {
  write?: (text: string) => void;
}

/** A target's entry in `schedules.json`: a strict object whose `to` is the target's name. */
export type TargetSchema<Name extends string> = z.ZodObject<{ to: z.ZodLiteral<Name> } & z.ZodRawShape> &
  z.ZodType<{ to: Name }>;

export interface DeliveryDefinition<
  Name extends string = string,
  Schema extends TargetSchema<Name> = TargetSchema<Name>,
> {
  readonly name: Name;
  readonly schema: Schema;
  /**
   * Why this target cannot take failure alerts (`"alerts"` in schedules.json), or absent when it
   * can: an alert is a short notice, not something to open a pull request for.
   */
  readonly notForAlerts?: string;
  /** Environment variables a target with these settings needs; `check` reports the missing ones. */
  requiredEnv(target: z.output<Schema>): string[];
  create(options: DeliveryOptions): DeliveryAdapter<z.output<Schema>>;
}

/** Checks a definition's parts against each other (the schema's `to` is the name) and returns it as is. */
export function defineDelivery<const Name extends string, Schema extends TargetSchema<Name>>(
  definition: DeliveryDefinition<Name, Schema>,
): DeliveryDefinition<Name, Schema> {
  return definition;
}
