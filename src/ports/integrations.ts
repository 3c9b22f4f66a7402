/**
 * @module ports/integrations — what a run's context offers from outside services (`claude`,
 * `sources`, `images`) and what the runner hands over to build it. The runner depends on this
 * port; `src/integrations/` implements it, so neither imports the other.
 */
import type { Logger } from "pino";
import type { ClaudeClient, Env, ImageGenerator, Sources, Usage } from "../types.ts";
import type { ResolvedJob } from "../config/types.ts";
import type { RunStore } from "../ledger/store.ts";
import type { BudgetGuard } from "../budget/guard.ts";

export interface Integrations {
  claude: ClaudeClient;
  sources: Sources;
  images: ImageGenerator;
}

export interface IntegrationRequest {
  env: Env;
  job: ResolvedJob;
  signal: AbortSignal;
  log: Logger;
  store: RunStore;
  /** The job's state for this run; integrations may keep caches in it (not written in dry runs). */
  stateSnapshot: Map<string, unknown>;
  dryRun: boolean;
  onUsage(record: { model: string; usage: Usage; costUsd: number | null }): void;
  /** The run's budget guard: every Claude call reserves its largest cost through it first. */
  budget?: BudgetGuard;
}
