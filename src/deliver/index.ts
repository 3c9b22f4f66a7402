/**
 * @module deliver — the registry of delivery targets, as jobs and alerts name them in `to`. Each
 * target is one file exporting one definition (`./define.ts`); everything else is derived from the
 * list below: the config schema of a target (`deliveryTargetSchema`), its type (`DeliveryTarget`),
 * `schedules.schema.json`, the environment `check` asks for, and the adapters a run delivers with.
 * A new target: one file (plus its test) and one line in `deliveryDefinitions`.
 */
import { z } from "zod";
import type { DeliveryAdapter } from "../types.ts";
import type { DeliveryDefinition, DeliveryOptions } from "./define.ts";
import { discordDefinition } from "./discord.ts";
import { fileDefinition } from "./file.ts";
import { githubPrDefinition } from "./github-pr.ts";
import { stdoutDefinition } from "./stdout.ts";
import { webhookDefinition } from "./webhook.ts";

export const deliveryDefinitions = [
  stdoutDefinition,
  fileDefinition,
  discordDefinition,
  githubPrDefinition,
  webhookDefinition,
] as const;

type Definitions = typeof deliveryDefinitions;
type SchemasOf<D extends Definitions> = { -readonly [K in keyof D]: D[K]["schema"] };

/** One schema per definition, in the registry's order (a tuple, so the union keeps each target's type). */
function schemasOf<const D extends Definitions>(definitions: D): SchemasOf<D> {
  return definitions.map((definition) => definition.schema) as SchemasOf<D>;
}

/** One entry of `deliver` (a job) or `alerts` (the file) in schedules.json. */
export const deliveryTargetSchema = z.discriminatedUnion("to", schemasOf(deliveryDefinitions));
export type DeliveryTarget = z.output<typeof deliveryTargetSchema>;

const byName = new Map<string, DeliveryDefinition<string, never>>(
  deliveryDefinitions.map((definition) => [definition.name, definition as DeliveryDefinition<string, never>]),
);

/** The definition of `target.to`; the schema admits no other name. */
function definitionOf(target: DeliveryTarget): DeliveryDefinition<string, never> {
  const definition = byName.get(target.to);
  if (!definition) throw new Error(`no delivery target "${target.to}"`);
  return definition;
}

/** The environment variables `target` needs, as its definition says (checked by `check` and at load). */
export function requiredEnvOf(target: DeliveryTarget): string[] {
  // The target was parsed by the union above, so it is the input its definition's function expects.
  return definitionOf(target).requiredEnv(target as never);
}

/** Why `target` cannot take failure alerts, or null when it can. */
export function notForAlerts(target: DeliveryTarget): string | null {
  return definitionOf(target).notForAlerts ?? null;
}

/** The names of the targets that can take alerts, for the message that refuses another. */
export const alertTargetNames: readonly string[] = deliveryDefinitions
  .filter((definition) => !definition.notForAlerts)
  .map((definition) => definition.name);

export function createDeliveryAdapters(options: DeliveryOptions = {}): Map<string, DeliveryAdapter> {
  const adapters = deliveryDefinitions.map((definition) => definition.create(options) as DeliveryAdapter);
  return new Map(adapters.map((adapter) => [adapter.name, adapter]));
}
