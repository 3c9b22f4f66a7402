/**
 * @module scheduler — fires jobs on their slots. One timer for all jobs (a min-heap of next fires),
 * so 10,000 jobs cost one timer, not 10,000; every due slot is claimed in the ledger in one batch
 * transaction before anything starts, so a restart or a second process can never run it twice.
 */
import { setMaxListeners } from "node:events";
import type { Logger } from "pino";
import type { ResolvedJob } from "../config/types.ts";
import type { LoadedSkill } from "../skill/load.ts";
import { WAITING_FOR_CAPACITY, type ClaimResult, type Owner, type RunClaim, type RunStore } from "../ledger/store.ts";
import type { Runner } from "../run/runner.ts";
import type { RunRecord, RunStatus } from "../types.ts";
import { errorMessage } from "../errors.ts";
import { Calendar } from "./calendar.ts";
import { MinHeap } from "./heap.ts";
import { ON_TIME_MS, planSlots } from "./plan.ts";

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The timer never sleeps longer than this, so a clock jump or a wake from sleep is noticed soon. */
const MAX_SLEEP_MS = 30_000;

/**
 * A job whose fire came more than a minute late (a stuck timer, a clock step, a blocked event loop,
 * a suspended machine): what became of the slot, or `waiting` while the scheduler is stuck.
 */
export interface LateFire {
  job: string;
  dueAt: number;
  noticedAt: number;
  handled: "fired" | "missed" | "waiting";
  catchUp: ResolvedJob["catchUp"];
}

/** How long a late fire keeps `/healthz` degraded after it was noticed (someone should look). */
export const LATE_REPORTED_MS = 15 * 60_000;

export interface SchedulerEvents {
  onFire?(job: string, lagMs: number): void;
  /** Late fires not announced before: each job once, until it fires on time again. */
  onLate?(late: LateFire[]): void;
  onOutcome?(job: string, status: RunStatus, durationMs: number): void;
  onTick?(): void;
}

export interface SchedulerDeps {
  store: RunStore;
  runner: Runner;
  log: Logger;
  owner: Owner;
  clock?: Clock;
  maxConcurrentRuns: number;
  events?: SchedulerEvents;
  random?: () => number;
  /** A paused job's slots are recorded `skipped` (reason `paused`) instead of being claimed. */
  isPaused?: (job: string) => boolean;
}

/** What became of an operator's cancel. */
export type CancelResult = "cancelled" | "aborting" | "not_held";

/** Runs waiting to start: for a free slot, or (`claimedRunning` false) behind their own job. */
interface Waiting {
  runId: number;
  epoch: number;
  job: ResolvedJob;
  scheduledFor: number;
  resumeOf: number | null;
  claimedRunning: boolean;
  dryRun?: boolean;
  attempt?: number;
}

interface Entry {
  at: number;
  slot: number;
  job: ResolvedJob;
}

export class Scheduler {
  private readonly clock: Clock;
  private readonly calendar = new Calendar();
  private readonly heap = new MinHeap<Entry>();
  private readonly entries = new Map<string, Entry>();
  private jobs = new Map<string, ResolvedJob>();
  private skills = new Map<string, LoadedSkill>();
  private timer: unknown = null;
  private stopped = true;
  private ticking = false;
  private readonly inFlight = new Map<number, Promise<unknown>>();
  /** Runs waiting for a free slot; `claimedRunning` when their row already says `running`. */
  private readonly waiting: Waiting[] = [];
  /** Each run in flight's cancel switch (an operator's cancel aborts it). */
  private readonly cancels = new Map<number, AbortController>();
  /** Manual runs queued behind their job (overlap: queue) with what they were asked to run with. */
  private readonly queuedManual = new Map<number, Omit<Waiting, "runId">>();
  private readonly shutdown = new AbortController();
  /** Jobs whose lateness was announced; a job leaves when it fires on time again. */
  private readonly announcedLate = new Set<string>();
  private recentLate: LateFire[] = [];
  /** Slots taken from the heap by the tick under way, not yet claimed (a tick stuck on the ledger holds them). */
  private tickDue: { job: string; dueAt: number }[] = [];
  maxConcurrentRuns: number;

  constructor(private readonly deps: SchedulerDeps) {
    this.clock = deps.clock ?? systemClock;
    this.maxConcurrentRuns = deps.maxConcurrentRuns;
    // Every run in flight listens to it (the runner links it to the attempt's signal): thousands at once are expected.
    setMaxListeners(0, this.shutdown.signal);
  }

  get running(): number {
    return this.inFlight.size;
  }

  /** Resumes interrupted runs, catches up on slots missed while down, then starts the timer. */
  async start(jobs: ResolvedJob[], skills: Map<string, LoadedSkill>, resumeWindowMs = 86_400_000): Promise<void> {
    this.stopped = false;
    this.setJobs(jobs, skills);
    const now = this.clock.now();
    await this.resumeInterrupted(now - resumeWindowMs);
    const enabled = [...this.jobs.values()].filter((job) => job.enabled);
    const cursors = await this.deps.store.jobCursors(
      enabled.map((job) => job.id),
      now,
    );
    const claims: { job: ResolvedJob; at: number; trigger: "schedule" | "catchup" }[] = [];
    for (const job of enabled) {
      const { slots, truncated, after } = this.calendar.between(
        job.cron,
        job.timezone,
        cursors.get(job.id) ?? now,
        now,
      );
      if (truncated)
        this.deps.log.warn(
          { job: job.id },
          `more than ${slots.length} slots were missed; only the latest ${slots.length} are recorded`,
        );
      const plan = planSlots(slots, now, job, 0);
      await this.recordMissed(job, plan.missed);
      claims.push(...plan.fire.map((fire) => ({ job, ...fire })));
      if (after === undefined) this.schedule(job, now);
      else this.scheduleAt(job, after);
    }
    await this.dispatch(claims);
    this.arm();
  }

  /** Applies a new configuration: new and changed jobs are scheduled from now; removed ones stop. */
  reload(jobs: ResolvedJob[], skills: Map<string, LoadedSkill>): void {
    const before = this.jobs;
    this.setJobs(jobs, skills);
    const now = this.clock.now();
    for (const job of this.jobs.values()) {
      const old = before.get(job.id);
      const same =
        old &&
        old.cron === job.cron &&
        old.timezone === job.timezone &&
        old.enabled === job.enabled &&
        old.jitterMs === job.jitterMs;
      const entry = this.entries.get(job.id);
      if (same && entry) entry.job = job;
      else this.schedule(job, now);
    }
    for (const id of this.entries.keys()) if (!this.jobs.has(id)) this.entries.delete(id);
    this.calendar.retain(this.jobs.values());
    this.arm();
  }

  /** Stops firing; runs in flight go on. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Waits up to `graceMs` for running runs, then aborts them (they record themselves `interrupted`). */
  async drain(graceMs: number): Promise<void> {
    this.stop();
    const all = () => Promise.allSettled([...this.inFlight.values()]);
    const timedOut = await Promise.race([
      all().then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), graceMs).unref()),
    ]);
    if (timedOut) {
      this.deps.log.warn({ running: this.inFlight.size }, "grace period over; aborting running runs");
      this.shutdown.abort(new Error("the daemon is shutting down"));
      await all();
    }
    for (const waiting of this.waiting.splice(0)) {
      await this.deps.store.finishRun(
        waiting.runId,
        { status: "interrupted", reason: "shutdown before it could start" },
        this.clock.now(),
        waiting.epoch,
      );
    }
  }

  /**
   * Jobs whose next fire is more than `graceMs` past due (the timer never sleeps longer than 30 s,
   * so this means the loop is stuck or failing), for the health check.
   */
  overdue(now = this.clock.now(), graceMs = 2 * MAX_SLEEP_MS): { job: string; dueAt: number }[] {
    if (this.stopped) return [];
    const stuck = this.tickDue.filter((due) => now - due.dueAt > graceMs);
    const waiting = [...this.entries.values()].filter(
      (entry) => now - entry.at > graceMs && !stuck.some((due) => due.job === entry.job.id),
    );
    return [...stuck, ...waiting.map((entry) => ({ job: entry.job.id, dueAt: entry.at }))];
  }

  /**
   * The watchdog's look, on a timer of its own (the daemon's, not this scheduler's): jobs more than a
   * minute overdue are handled now by a tick (fired or recorded missed as their catch-up policy
   * says, and announced through `onLate`); when a tick is already under way and has not reached them
   * (stuck on the ledger), they are announced as waiting. Returns the jobs that were overdue.
   */
  checkOverdue(now = this.clock.now()): { job: string; dueAt: number }[] {
    const overdue = this.overdue(now, ON_TIME_MS);
    if (!overdue.length) return overdue;
    if (this.ticking) {
      this.noteLate(
        overdue.map(({ job, dueAt }) => ({
          job,
          dueAt,
          noticedAt: now,
          handled: "waiting",
          catchUp: this.jobs.get(job)?.catchUp ?? "latest",
        })),
      );
    } else {
      this.deps.log.warn(
        { jobs: overdue.map((o) => o.job) },
        "schedules overdue (the scheduler's timer did not fire); handling them now",
      );
      if (this.timer !== null) this.clock.clearTimeout(this.timer);
      this.timer = null;
      void this.tick();
    }
    return overdue;
  }

  /** Late fires noticed within LATE_REPORTED_MS, for `/healthz`. */
  lateFires(now = this.clock.now()): LateFire[] {
    this.recentLate = this.recentLate.filter((late) => now - late.noticedAt <= LATE_REPORTED_MS);
    return [...this.recentLate];
  }

  private noteLate(late: LateFire[]): void {
    if (!late.length) return;
    for (const fire of late) {
      // One entry per job: the newest news about it.
      this.recentLate = this.recentLate.filter((known) => known.job !== fire.job);
      this.recentLate.push(fire);
    }
    const fresh = late.filter((fire) => !this.announcedLate.has(fire.job));
    for (const fire of fresh) this.announcedLate.add(fire.job);
    for (const fire of late)
      this.deps.log.warn(
        {
          job: fire.job,
          dueAt: new Date(fire.dueAt).toISOString(),
          lateMs: fire.noticedAt - fire.dueAt,
          handled: fire.handled,
        },
        "schedule fired late",
      );
    if (fresh.length) this.deps.events?.onLate?.(fresh);
  }

  get alive(): boolean {
    return !this.stopped && (this.timer !== null || this.ticking);
  }

  private setJobs(jobs: ResolvedJob[], skills: Map<string, LoadedSkill>): void {
    // The first job of an id wins: a later duplicate is disabled by the configuration (see jobIssues).
    this.jobs = new Map();
    for (const job of jobs) if (!this.jobs.has(job.id)) this.jobs.set(job.id, job);
    this.skills = skills;
  }

  private schedule(job: ResolvedJob, after: number): void {
    this.scheduleAt(job, job.enabled ? this.calendar.next(job.cron, job.timezone, after) : null);
  }

  private scheduleAt(job: ResolvedJob, slot: number | null): void {
    if (!job.enabled || slot === null) {
      this.entries.delete(job.id);
      return;
    }
    const jitter = job.jitterMs ? Math.floor((this.deps.random ?? Math.random)() * job.jitterMs) : 0;
    // The map holds each job's live entry; older ones left in the heap are skipped when popped.
    const entry: Entry = { at: slot + jitter, slot, job };
    this.entries.set(job.id, entry);
    this.heap.push(entry);
  }

  private arm(): void {
    if (this.stopped) return;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    let top = this.heap.peek();
    while (top && this.entries.get(top.job.id) !== top) {
      this.heap.pop();
      top = this.heap.peek();
    }
    const delay = top ? Math.min(MAX_SLEEP_MS, Math.max(0, top.at - this.clock.now())) : MAX_SLEEP_MS;
    this.timer = this.clock.setTimeout(() => void this.tick(), delay);
  }

  private async tick(): Promise<void> {
    this.timer = null;
    if (this.stopped || this.ticking) return;
    this.ticking = true;
    try {
      this.deps.events?.onTick?.();
      const now = this.clock.now();
      const claims: { job: ResolvedJob; at: number; trigger: "schedule" | "catchup" }[] = [];
      const late: LateFire[] = [];
      const missed: { job: ResolvedJob; missed: { at: number; reason: string }[] }[] = [];
      for (let top = this.heap.peek(); top && top.at <= now; top = this.heap.peek()) {
        this.heap.pop();
        if (this.entries.get(top.job.id) !== top) continue;
        const job = top.job;
        this.tickDue.push({ job: job.id, dueAt: top.at });
        const lateBy = now - top.at;
        const before = claims.length;
        const noteLateness = () => {
          if (lateBy > ON_TIME_MS)
            late.push({
              job: job.id,
              dueAt: top.at,
              noticedAt: now,
              handled: claims.length > before ? "fired" : "missed",
              catchUp: job.catchUp,
            });
          else this.announcedLate.delete(job.id);
        };
        const next = this.calendar.next(job.cron, job.timezone, top.slot);
        if (next === null || next > now) {
          // The common case: one slot due, fired as is; its successor is already known. When it is
          // late (a clock step, a blocked loop) the catch-up policy may make it a missed row instead.
          const plan = planSlots([top.slot], now, job);
          if (plan.missed.length) missed.push({ job, missed: plan.missed });
          claims.push(...plan.fire.map((fire) => ({ job, ...fire })));
          noteLateness();
          this.scheduleAt(job, next);
          continue;
        }
        // Woke late (sleep, clock jump, a blocked loop): several slots are due at once.
        const later = this.calendar.between(job.cron, job.timezone, top.slot, now).slots;
        const plan = planSlots([top.slot, ...later], now, job);
        if (plan.missed.length) missed.push({ job, missed: plan.missed });
        claims.push(...plan.fire.map((fire) => ({ job, ...fire })));
        noteLateness();
        this.schedule(job, now);
      }
      await this.recordMissedOf(missed);
      this.noteLate(late);
      await this.dispatch(claims);
    } catch (error) {
      this.deps.log.error({ err: errorMessage(error) }, "scheduler tick failed; retrying on the next tick");
    } finally {
      this.ticking = false;
      this.tickDue = [];
      this.arm();
    }
  }

  private async recordMissed(job: ResolvedJob, missed: { at: number; reason: string }[]): Promise<void> {
    await this.recordMissedOf([{ job, missed }]);
  }

  /**
   * The missed slots of several jobs in one write: a daemon that fell behind finds most of its jobs
   * late at once, and one transaction per job then cost more than the runs it was late for.
   */
  private async recordMissedOf(list: { job: ResolvedJob; missed: { at: number; reason: string }[] }[]): Promise<void> {
    const rows = list.flatMap(({ job, missed }) => {
      if (!missed.length) return [];
      // A paused job would not have run them anyway: they are its paused slots.
      const paused = this.deps.isPaused?.(job.id) ?? false;
      return missed.map((m) => ({
        job: job.id,
        skill: job.skill,
        scheduledFor: m.at,
        status: paused ? ("skipped" as const) : ("missed" as const),
        reason: paused ? "paused" : m.reason,
      }));
    });
    if (!rows.length) return;
    const count = await this.deps.store.recordUnrun(rows, this.clock.now());
    if (!count) return;
    const jobs = [...new Set(rows.map((row) => row.job))];
    if (jobs.length === 1) this.deps.log.warn({ job: jobs[0], count }, "slots recorded as missed");
    else
      this.deps.log.warn(
        { jobs: jobs.length, first: jobs.slice(0, 20), count },
        `slots of ${jobs.length} jobs recorded as missed`,
      );
  }

  private async dispatch(all: { job: ResolvedJob; at: number; trigger: "schedule" | "catchup" }[]): Promise<void> {
    const paused = this.deps.isPaused ? all.filter((fire) => this.deps.isPaused?.(fire.job.id)) : [];
    const fires = paused.length ? all.filter((fire) => !paused.includes(fire)) : all;
    if (paused.length) {
      // Still one row per slot: a paused job's slot is recorded, not silently dropped.
      const rows = paused.map(({ job, at }) => ({
        job: job.id,
        skill: job.skill,
        scheduledFor: at,
        status: "skipped" as const,
        reason: "paused",
      }));
      await this.deps.store.recordUnrun(rows, this.clock.now());
      for (const { job } of paused) this.deps.events?.onOutcome?.(job.id, "skipped", 0);
    }
    if (!fires.length) return;
    const claims: RunClaim[] = fires.map(({ job, at, trigger }) => ({
      job: job.id,
      skill: job.skill,
      scheduledFor: at,
      trigger,
      overlap: job.overlap,
    }));
    const capacity = Math.max(0, this.maxConcurrentRuns - this.inFlight.size);
    const results = await this.deps.store.claimRuns(claims, this.deps.owner, this.clock.now(), capacity);
    results.forEach((result, index) =>
      this.afterClaim(
        result,
        (fires[index] as (typeof fires)[number]).job,
        (claims[index] as RunClaim).scheduledFor,
        null,
      ),
    );
  }

  private afterClaim(result: ClaimResult, job: ResolvedJob, scheduledFor: number, resumeOf: number | null): void {
    if (result.status === "duplicate") return;
    if (result.status === "skipped") {
      this.deps.log.info({ job: job.id, run: result.runId, reason: result.reason }, "slot skipped");
      this.deps.events?.onOutcome?.(job.id, "skipped", 0);
      return;
    }
    if (result.status === "queued") {
      // Queued behind its own job (overlap: queue) starts when that run ends; queued for capacity
      // starts when any run ends.
      if (result.reason === WAITING_FOR_CAPACITY)
        this.waiting.push({
          runId: result.runId,
          epoch: result.epoch,
          job,
          scheduledFor,
          resumeOf,
          claimedRunning: false,
        });
      return;
    }
    this.startOrWait(result.runId, result.epoch, job, scheduledFor, resumeOf, true);
  }

  private startOrWait(
    runId: number,
    epoch: number,
    job: ResolvedJob,
    scheduledFor: number,
    resumeOf: number | null,
    claimedRunning: boolean,
    extra: { dryRun?: boolean; attempt?: number } = {},
  ): void {
    if (this.inFlight.size >= this.maxConcurrentRuns) {
      this.waiting.push({ runId, epoch, job, scheduledFor, resumeOf, claimedRunning, ...extra });
      return;
    }
    const cancel = new AbortController();
    this.cancels.set(runId, cancel);
    const skill = this.skills.get(job.skill);
    const started = this.clock.now();
    this.deps.events?.onFire?.(job.id, started - scheduledFor);
    const execution = skill
      ? this.deps.runner.execute({
          runId,
          epoch,
          job,
          skill,
          scheduledFor,
          attempt: extra.attempt ?? 1,
          claimedRunning,
          dryRun: extra.dryRun ?? false,
          resumeOf,
          shutdown: this.shutdown.signal,
          cancel: cancel.signal,
        })
      : this.deps.store
          .finishRun(runId, { status: "failed", error: `skill "${job.skill}" is no longer loaded` }, started, epoch)
          .then(() => ({ status: "failed" as const }));
    const tracked = execution
      .then((outcome) => this.deps.events?.onOutcome?.(job.id, outcome.status, this.clock.now() - started))
      .catch((error: unknown) =>
        this.deps.log.error({ job: job.id, run: runId, err: errorMessage(error) }, "run could not be recorded"),
      )
      .finally(() => {
        this.inFlight.delete(runId);
        this.cancels.delete(runId);
        void this.afterRunEnded(job.id);
      });
    this.inFlight.set(runId, tracked);
  }

  /** Frees a run slot: starts a run waiting for capacity, or the job's queued run (overlap: queue). */
  private async afterRunEnded(jobId: string): Promise<void> {
    const next = this.waiting.shift();
    if (next)
      this.startOrWait(next.runId, next.epoch, next.job, next.scheduledFor, next.resumeOf, next.claimedRunning, next);
    const job = this.jobs.get(jobId);
    if (!job || job.overlap !== "queue" || this.shutdown.signal.aborted) return;
    try {
      const active = await this.deps.store.activeRuns(jobId);
      const queued = active.find(
        (run) =>
          run.status === "queued" &&
          run.reason !== WAITING_FOR_CAPACITY &&
          run.ownerInstance === this.deps.owner.instance,
      );
      if (queued && !active.some((run) => run.status !== "queued")) {
        await this.deps.store.markRunning(queued.id, 1, this.clock.now(), queued.epoch);
        const manual = this.queuedManual.get(queued.id);
        this.queuedManual.delete(queued.id);
        this.startOrWait(queued.id, queued.epoch, manual?.job ?? job, queued.scheduledFor, null, true, manual ?? {});
      }
    } catch (error) {
      this.deps.log.error({ job: jobId, err: errorMessage(error) }, "could not start the queued run");
    }
  }

  /** The job's next `count` fire times (ISO), for views of the jobs (`list`, the API, the dashboard). */
  nextRuns(job: Pick<ResolvedJob, "cron" | "timezone">, count: number, from = this.clock.now()): string[] {
    const out: string[] = [];
    let cursor = from;
    while (out.length < count) {
      const next = this.calendar.next(job.cron, job.timezone, cursor);
      if (next === null) break;
      out.push(new Date(next).toISOString());
      cursor = next;
    }
    return out;
  }

  /**
   * Resumes runs the daemon found orphaned while running (their lease expired), each once from its
   * last finished step, like those found at start-up. Runs of jobs no longer enabled are left.
   */
  async resume(runs: RunRecord[]): Promise<void> {
    if (this.stopped) return;
    // Only those not resumed yet: a run is resumed once, whoever noticed it first.
    const resumable = new Set((await this.deps.store.resumableRuns(0)).map((run) => run.id));
    await this.resumeRuns(runs.filter((run) => resumable.has(run.id)));
  }

  /**
   * A manual run now (`trigger`, Run now), honouring the job's overlap policy and the global limit;
   * `job` may carry params of the request. Pauses do not apply: an operator asked for it.
   */
  async trigger(job: ResolvedJob, options: { dryRun: boolean }): Promise<ClaimResult> {
    const now = this.clock.now();
    const capacity = Math.max(0, this.maxConcurrentRuns - this.inFlight.size);
    const [result] = await this.deps.store.claimRuns(
      [
        {
          job: job.id,
          skill: job.skill,
          scheduledFor: now,
          trigger: "manual",
          overlap: job.overlap,
          dryRun: options.dryRun,
        },
      ],
      this.deps.owner,
      now,
      capacity,
    );
    if (!result || result.status === "duplicate") throw new Error("the manual run could not be recorded");
    if (result.status === "queued" && result.reason !== WAITING_FOR_CAPACITY)
      this.queuedManual.set(result.runId, {
        epoch: result.epoch,
        job,
        scheduledFor: now,
        resumeOf: null,
        claimedRunning: true,
        dryRun: options.dryRun,
      });
    else if (result.status === "queued")
      this.waiting.push({
        runId: result.runId,
        epoch: result.epoch,
        job,
        scheduledFor: now,
        resumeOf: null,
        claimedRunning: false,
        dryRun: options.dryRun,
      });
    else if (result.status === "running")
      this.startOrWait(result.runId, result.epoch, job, now, null, true, { dryRun: options.dryRun });
    return result;
  }

  /** Runs a finished run again on its own row (`redeliver`): its stored steps are reused, so only what did not succeed runs. */
  async redeliver(runId: number, job: ResolvedJob, scheduledFor: number, attempt: number): Promise<void> {
    // Held again by this process under a new epoch and lease, like a fresh claim.
    const epoch = await this.deps.store.reclaimRun(runId, this.deps.owner, this.clock.now());
    this.startOrWait(runId, epoch, job, scheduledFor, null, false, { attempt });
  }

  /** True when this daemon is carrying the run (in flight or waiting to start). */
  holds(runId: number): boolean {
    return this.cancels.has(runId) || this.waiting.some((w) => w.runId === runId) || this.queuedManual.has(runId);
  }

  /**
   * An operator's cancel: a run waiting to start ends `cancelled` at once; a running or
   * retry-waiting one is aborted through its signal and records itself `cancelled`.
   */
  async cancel(runId: number, reason: string): Promise<CancelResult> {
    const running = this.cancels.get(runId);
    if (running) {
      running.abort(new Error(reason));
      return "aborting";
    }
    const index = this.waiting.findIndex((w) => w.runId === runId);
    if (index >= 0) this.waiting.splice(index, 1);
    this.queuedManual.delete(runId);
    const queued = await this.deps.store.cancelQueued(runId, reason, this.clock.now());
    return queued ? "cancelled" : "not_held";
  }

  private async resumeInterrupted(since: number): Promise<void> {
    await this.resumeRuns(await this.deps.store.resumableRuns(since));
  }

  private async resumeRuns(runs: RunRecord[]): Promise<void> {
    for (const run of runs) {
      const job = this.jobs.get(run.job);
      if (!job?.enabled) continue;
      const scheduledFor = Date.parse(run.scheduledFor);
      const [result] = await this.deps.store.claimRuns(
        [{ job: job.id, skill: job.skill, scheduledFor, trigger: "resume", overlap: job.overlap, resumeOf: run.id }],
        this.deps.owner,
        this.clock.now(),
      );
      this.deps.log.warn({ job: job.id, run: run.id }, "resuming an interrupted run from its last finished step");
      if (result) this.afterClaim(result, job, scheduledFor, run.id);
    }
  }
}
