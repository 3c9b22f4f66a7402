/**
 * @module sources/define — what a source kind is (the `sources` a digest reads): ONE definition per
 * kind holding the `type` values it answers to, the zod schema of a source as a skill's params write
 * it, the environment it needs (a function of that source, checked by `check`) and its factory.
 * The registry (`./index.ts`) derives `sourceSpecSchema`, the `SourceSpec` type and the dispatch of
 * `ctx.sources.fetch` from the list of definitions: a new kind is one file and one line there.
 */
import type { Logger } from "pino";
import type { z } from "zod";
import type { Env, FeedItem } from "../../types.ts";
import type { HttpCache } from "../feeds/feeds.ts";

/** What a run offers every source: its environment, signal and logger, and the job's HTTP cache. */
export interface SourceServices {
  env: Env;
  signal: AbortSignal;
  log: Logger;
  cache: HttpCache;
}

export interface SourceFetchOptions {
  /** Items older than this are not asked for, where the service can filter (GitHub). */
  since?: string | null;
  /** Aborts this one fetch (a source's own timeout); the run's signal aborts them all. */
  signal?: AbortSignal;
}

export type SourceFetch<Spec> = (source: Spec, options: SourceFetchOptions) => Promise<FeedItem[]>;

/** A source as written in params: a strict object whose `type` is one of the kind's types. */
export type SourceSchema<Type extends string> = z.ZodObject<{ type: z.ZodType<Type> } & z.ZodRawShape> &
  z.ZodType<{ type: Type }>;

export interface SourceDefinition<
  Type extends string = string,
  Schema extends SourceSchema<Type> = SourceSchema<Type>,
> {
  readonly types: readonly Type[];
  readonly schema: Schema;
  /** Environment variables a source with these settings needs. */
  requiredEnv(source: z.output<Schema>): string[];
  /** Imports the kind's module (and its SDK) now, for a process that wants it before a run (`sundial run`). */
  preload(): Promise<void>;
  /** The kind's fetch for one run; cheap: its module is imported, and its client made, on the first fetch. */
  create(services: SourceServices): SourceFetch<z.output<Schema>>;
}

/** Returns the definition as is, its parts checked against each other. */
export function defineSource<const Type extends string, Schema extends SourceSchema<Type>>(
  definition: SourceDefinition<Type, Schema>,
): SourceDefinition<Type, Schema> {
  return definition;
}
