/**
 * @module types — every public type of Sundial: skills, their context, outputs, deliveries,
 * integrations and the ledger's store port. Internal files import from here; `index.ts` re-exports.
 */
import type { Logger } from "pino";
import type { z } from "zod";
import type { DeliveryTarget } from "./deliver/index.ts";
import type { SourceSpec } from "./integrations/sources/index.ts";
import type { ImageType } from "./util/image-type.ts";

/** Environment variables as Sundial sees them (injected, never read from a module-level global). */
export type Env = Readonly<Record<string, string | undefined>>;

// ─── Skills ──────────────────────────────────────────────────────────────────────────────────────

/** One file a skill wants delivered with its output (a markdown article, a PNG hero image…). */
export interface OutputFile {
  /** Path relative to the delivery's directory; adapters confine it, whatever it says. */
  path: string;
  /** Text content, or raw bytes for binary files. */
  content: string | Uint8Array;
}

export interface OutputLink {
  title: string;
  url: string;
}

/** What a skill produces; each output goes to every delivery of the job, in order. */
export interface Output {
  title: string;
  summary?: string;
  markdown: string;
  files?: OutputFile[];
  links?: OutputLink[];
  /**
   * Stable identity of this output across attempts (a video id, a digest date). Delivery steps are
   * memoized by it, so a resumed run never delivers the same output twice. Defaults to its index.
   */
  key?: string;
  /** Short slug used for branch names and file names; derived from the title when absent. */
  slug?: string;
  /**
   * Called once every delivery of this output succeeded (never in a dry run), with their receipts:
   * the place to mark its inputs as done (`ctx.state.set`), so a failed delivery is tried again.
   */
  onDelivered?(receipts: Receipt[]): Promise<void> | void;
  /**
   * Set by Sundial on a failure alert (not by skills): a Discord message the bot posts to a channel
   * for it gains the Show run / Run again / Pause job buttons when Discord commands are on.
   */
  alertFor?: { runId: number; job: string };
}

/** A run that decided there is nothing to do. Recorded as `skipped` with the reason. */
export interface SkipResult {
  readonly skipped: true;
  readonly reason: string;
}

/**
 * What `run` returns: outputs to deliver once it ends, a skip, or nothing when every output was
 * already handed over with `ctx.deliver` (a run that delivered nothing at all is recorded skipped).
 */
export type RunResult = Output | Output[] | SkipResult | undefined | void;

export interface RunInfo {
  id: number;
  job: string;
  /** The slot this run stands for (ISO, UTC); the start time for manual runs. */
  scheduledFor: string;
  attempt: number;
  /** ISO time of this job's last succeeded run, or null. */
  lastSuccessAt: string | null;
}

export interface JobState {
  get<T = unknown>(key: string): T | undefined;
  /** Stored before the promise resolves (not at run end); in a dry run kept in memory only. */
  set(key: string, value: unknown): Promise<void>;
}

export interface ParallelOptions {
  /** At most this many items at once; default 4. */
  concurrency?: number;
}

export interface SkillContext<P = unknown> {
  params: P;
  log: Logger;
  /** Fires on timeout or shutdown; pass it to anything that waits. */
  signal: AbortSignal;
  /**
   * Runs `fn` once per run: its JSON-serialisable result is stored in the ledger, so a retried or
   * resumed run returns the stored result instead of running `fn` again.
   */
  step<T>(id: string, fn: () => Promise<T> | T): Promise<T>;
  state: JobState;
  run: RunInfo;
  /** Maps items through `fn` with at most `concurrency` at once; results keep the items' order. */
  parallel<I, O>(
    items: readonly I[],
    fn: (item: I, index: number) => Promise<O>,
    options?: ParallelOptions,
  ): Promise<O[]>;
  claude: ClaudeClient;
  sources: Sources;
  images: ImageGenerator;
  /**
   * Delivers `output` now, to every delivery of the job in order, instead of after `run` returns:
   * a branch of `parallel` can publish its result as soon as it is ready, so the run lasts as long
   * as its longest branch. `output.key` is required (deliveries are memoized by it, so a resumed
   * run never posts twice). Outputs of parallel branches reach a chat channel one whole output at
   * a time, never interleaved. Resolves to the receipts (dry run: previews, nothing sent).
   */
  deliver(output: Output): Promise<Receipt[]>;
  dryRun: boolean;
}

export interface SkillDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  params: S;
  /** Defaults for jobs of this skill; a job's own values win. */
  timeout?: string;
  retries?: number;
  /** Environment variables every job of this skill needs, given its params (checked by `check`). */
  env?: string[] | ((params: z.output<S>) => string[]);
  run(ctx: SkillContext<z.output<S>>): Promise<RunResult> | RunResult;
}

// ─── Deliveries ──────────────────────────────────────────────────────────────────────────────────

/** One entry of a job's `deliver` (or of `alerts`): derived from the targets' definitions in `src/deliver/`. */
export type { DeliveryTarget };

/** Proof that a delivery happened: what it reached and where a person can see it. */
export interface Receipt {
  to: DeliveryTarget["to"];
  url?: string;
  /** Adapter-specific facts kept in the ledger (message ids, PR number, branch…). */
  detail?: Record<string, unknown>;
}

export interface DeliveryContext {
  job: string;
  runId: number;
  env: Env;
  dataDir: string;
  signal: AbortSignal;
  log: Logger;
  /** Receipts of the deliveries that already ran for this output, in order. */
  earlier: Receipt[];
  /**
   * A memoized sub-step of this delivery (stored in the ledger as `deliver:<key>:<n>:<to>:<id>`):
   * an adapter that sends in parts (Discord messages) records each part as it lands, so a retry
   * or a resumed run sends only the parts not yet recorded. Absent outside a run.
   */
  step?: <T>(id: string, fn: () => Promise<T>) => Promise<T>;
}

/** One delivery adapter (unstorage's driver shape): a plain object made by a typed factory. */
export interface DeliveryAdapter<T extends { to: string } = DeliveryTarget> {
  readonly name: T["to"];
  /**
   * Outputs delivered concurrently (`ctx.deliver` from parallel branches) go through this adapter
   * one at a time: a chat channel or a stream must not interleave two outputs' messages.
   */
  readonly oneAtATime?: boolean;
  /** Loads what `deliver` needs (its SDK) ahead of the first delivery, so a run does not wait for it. */
  prepare?(): Promise<void>;
  deliver(output: Output, target: T, ctx: DeliveryContext): Promise<Receipt>;
  /** What `deliver` would send, as text, for `--dry-run`. Sends nothing. */
  preview(output: Output, target: T, ctx: DeliveryContext): Promise<string>;
}

// ─── Integrations (offered to skills through the context) ────────────────────────────────────────

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheWriteTokens: number;
  cacheReadTokens: number;
}

export interface ClaudeRequest {
  /** Long, stable instructions; cached with `cache_control` so repeated runs read them from cache. */
  system?: string;
  prompt: string;
  model?: string;
  maxTokens?: number;
  /** Per-call timeout as a duration string ("2m"). */
  timeout?: string;
}

export interface ClaudeStructuredRequest<T> extends ClaudeRequest {
  schema: z.ZodType<T>;
  /** Tool name the model is forced to call. */
  name: string;
  description?: string;
}

export interface ClaudeClient {
  text(request: ClaudeRequest): Promise<string>;
  structured<T>(request: ClaudeStructuredRequest<T>): Promise<T>;
}

export interface Video {
  id: string;
  channelId: string;
  title: string;
  url: string;
  publishedAt: string;
  description?: string;
}

export interface TranscriptSegment {
  text: string;
  /** Seconds from the start of the video. */
  start: number;
  duration: number;
}

export interface FeedItem {
  /** Stable across fetches: the guid, Atom id, JSON id field, or the link. */
  id: string;
  title: string;
  url?: string;
  summary?: string;
  publishedAt?: string;
  source: string;
}

/** One source of a digest (`{"type": "rss", "url": …}`…): derived from the kinds' definitions in `src/integrations/sources/`. */
export type { SourceSpec };

export interface Sources {
  youtube: {
    channelVideos(channelId: string): Promise<Video[]>;
    /** Throws `NoTranscriptError` when the video has no captions in any language. */
    transcript(videoId: string, lang?: string): Promise<TranscriptSegment[]>;
  };
  /** Fetches one source; conditional requests make an unchanged feed cost nothing. `signal` aborts this fetch (its requests are closed). */
  fetch(source: SourceSpec, options?: { since?: string | null; signal?: AbortSignal }): Promise<FeedItem[]>;
  /**
   * The repositories this job's `github-pr` deliveries open pull requests on, read-only, in the
   * order of `deliver` (empty when it has none). Optional: hosts and test contexts may leave it out.
   */
  targetRepositories?: () => TargetRepository[];
}

/** A file of a repository's tree: its path from the repository's root, its blob sha and size. */
export interface RepositoryFile {
  path: string;
  sha: string;
  size: number;
}

/** Read-only view of a `github-pr` delivery's repository (same token, same API URL). */
export interface TargetRepository {
  /** "owner/name", the base branch and the folder outputs are written under, as the delivery says. */
  readonly repo: string;
  readonly base: string;
  readonly dir: string;
  /** The base branch's head commit sha. */
  head(): Promise<string>;
  /** Every file under `under` (default `dir`) in that commit's tree. */
  files(commit: string, under?: string): Promise<RepositoryFile[]>;
  /** One file's text (UTF-8). */
  text(file: RepositoryFile): Promise<string>;
}

export interface ImageGenerator {
  /** False when no image service is configured; skills then run without images and say so. */
  readonly available: boolean;
  generate(prompt: string, options?: { width?: number; height?: number }): Promise<GeneratedImage>;
}

/** A generated image, named for what its bytes are (a service asked for PNG may answer JPEG). */
export interface GeneratedImage {
  bytes: Uint8Array;
  /** From the bytes' signature, e.g. `"image/jpeg"`. */
  mediaType: ImageType["mediaType"];
  /** The file extension that goes with `mediaType`, without a dot, e.g. `"jpg"`. */
  extension: ImageType["extension"];
  /** Where the service served it. */
  url?: string;
}

// ─── The ledger's store port ─────────────────────────────────────────────────────────────────────

/**
 * Every status a run can have: the one definition the type, the ledger's SQL `CHECK` and the CLI's
 * `--status` choices are derived from. A new status also needs a migration that rebuilds the runs
 * table (as migration 2 did): a ledger keeps the CHECK it was created with.
 */
export const RUN_STATUSES = [
  "queued",
  "running",
  "retrying",
  "succeeded",
  "failed",
  "timed_out",
  "skipped",
  "missed",
  "interrupted",
  "cancelled",
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** The statuses a run ends in (every status but the three active ones). */
export const FINAL_STATUSES: readonly RunStatus[] = RUN_STATUSES.filter(
  (status) => status !== "queued" && status !== "running" && status !== "retrying",
);
export type RunTrigger = "schedule" | "catchup" | "manual" | "retry" | "resume";

/** One delivery of one output to one target: `pending` when an earlier target of that output failed first. */
export interface DeliveryRecord {
  to: string;
  url: string | null;
  status: "succeeded" | "failed" | "pending";
  error: string | null;
}

/** The run's deliveries at a glance: "work succeeded, a delivery failed" shows as `partial` or `failed`. */
export type DeliverySummary = "none" | "delivered" | "partial" | "failed";

export interface RunRecord {
  id: number;
  job: string;
  skill: string;
  trigger: RunTrigger;
  status: RunStatus;
  reason: string | null;
  scheduledFor: string;
  startedAt: string | null;
  finishedAt: string | null;
  attempt: number;
  error: string | null;
  usage: Usage;
  /** Null when a model's price is unknown: never a wrong figure. */
  costUsd: number | null;
  deliveries: DeliveryRecord[];
  delivery: DeliverySummary;
  resumeOf: number | null;
  dryRun: boolean;
}

export interface StepRecord {
  id: string;
  status: "running" | "succeeded" | "failed";
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
  usage: Usage;
  costUsd: number | null;
  /** The run whose stored result this step reused, when it was not run again. */
  reusedFrom: number | null;
}
