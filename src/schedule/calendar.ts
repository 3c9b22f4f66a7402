/**
 * @module calendar — when a cron pattern fires, in a time zone. One paused croner object per
 * distinct pattern, shared by every job and zone that uses it: a croner object is large, and
 * 10,000 jobs with their own objects would cost close to 1 GB (BENCHMARKS.md). Zones take a fixed-offset fast path
 * while their UTC offset stays put (see `ZoneWindow`), croner's own time-zone search otherwise.
 */
import { Cron } from "croner";
import { windowAround, type ZoneWindow } from "./zone-windows.ts";

/** Most slots enumerated for one job at once; beyond it a warning says how many were left out. */
export const MAX_SLOTS = 100_000;

const UTC_ZONES = new Set([
  "UTC",
  "Etc/UTC",
  "Etc/GMT",
  "GMT",
  "Etc/Zulu",
  "Zulu",
  "Etc/UCT",
  "UCT",
  "Universal",
  "Etc/Universal",
]);
const NO_YEARS: number[] = [];

/** Windows kept per zone, so cursors on both sides of a change do not rebuild one window in turn. */
const WINDOWS_PER_ZONE = 4;

/**
 * croner 11 fills a 10,000-entry `year` table per pattern (most of an object's size) and reads
 * it only when the year field is not `*`. Sharing one empty table then is safe and cuts an object
 * to a few KB; `test/schedule/calendar.test.ts` proves the fire times unchanged.
 */
function slim(cron: Cron): Cron {
  const pattern = (cron as unknown as { _states?: { pattern?: { starYear?: boolean; year?: number[] } } })._states
    ?.pattern;
  if (pattern?.starYear === true && Array.isArray(pattern.year)) pattern.year = NO_YEARS;
  return cron;
}

export class Calendar {
  private readonly crons = new Map<string, Cron>();
  private readonly windows = new Map<string, ZoneWindow[]>();
  /** How many croner answers came from the fixed-offset fast path, and how many from croner's zone search. */
  readonly stats = { fast: 0, zoned: 0 };

  /**
   * One calculator per pattern, shared across zones: croner reads `options.timezone` at each
   * `nextRun`, so the zone is set just before use. UTC gets its own fixed-offset calculator (about
   * 5 times faster), also used by the zones' fast path, and a pattern with `?` one per zone, since
   * croner fills `?` from the zone.
   */
  private keyOf(pattern: string, timezone: string): string {
    if (UTC_ZONES.has(timezone)) return `utc\u0000${pattern}`;
    return pattern.includes("?") ? `${timezone}\u0000${pattern}` : `zone\u0000${pattern}`;
  }

  /** Not for `?` (filled from the zone) nor a date with a colon, which croner takes for one run at that time. */
  private hasFastPath(pattern: string, timezone: string): boolean {
    return !UTC_ZONES.has(timezone) && !pattern.includes("?") && !pattern.includes(":");
  }

  private cron(pattern: string, timezone: string): Cron {
    const key = this.keyOf(pattern, timezone);
    let cron = this.crons.get(key);
    if (!cron) {
      cron = slim(
        UTC_ZONES.has(timezone)
          ? new Cron(pattern, { utcOffset: 0, paused: true })
          : new Cron(pattern, { timezone, paused: true }),
      );
      this.crons.set(key, cron);
    }
    if (!UTC_ZONES.has(timezone)) cron.options.timezone = timezone;
    return cron;
  }

  private windowAt(timezone: string, at: number): ZoneWindow | null {
    let windows = this.windows.get(timezone);
    const found = windows?.find((w) => w.start <= at && at < w.until);
    if (found) return found;
    const built = windowAround(timezone, at);
    if (!built) return null;
    if (!windows) this.windows.set(timezone, (windows = []));
    windows.unshift(built);
    if (windows.length > WINDOWS_PER_ZONE) windows.pop();
    return built;
  }

  /**
   * What croner's zone search would answer for `from`, through the UTC calculator when `from` and
   * the answer lie in one window of constant offset (then wall times and instants map one to one,
   * so the first matching wall time is the answer); undefined when that cannot be known this way.
   */
  private fast(pattern: string, timezone: string, from: number): number | undefined {
    const window = this.windowAt(timezone, from);
    if (!window || from < window.exactFrom) return undefined;
    const wall = this.cron(pattern, "UTC").nextRun(new Date(from + window.offset));
    if (!wall) return undefined; // no later wall time in this offset; another offset may still have one
    const next = wall.getTime() - window.offset;
    return next < window.until ? next : undefined;
  }

  private nextRun(pattern: string, timezone: string, from: number): number | null {
    if (this.hasFastPath(pattern, timezone)) {
      const next = this.fast(pattern, timezone, from);
      if (next !== undefined) {
        this.stats.fast++;
        return next;
      }
      this.stats.zoned++;
    }
    return this.cron(pattern, timezone).nextRun(new Date(from))?.getTime() ?? null;
  }

  /**
   * The first slot strictly after `afterMs`, or null if the pattern never fires again. Guards
   * against croner returning a time that does not move forward (seen across spring-forward gaps).
   */
  next(pattern: string, timezone: string, afterMs: number): number | null {
    let from = afterMs;
    for (let guard = 0; guard < 4; guard++) {
      const next = this.nextRun(pattern, timezone, from);
      if (next === null) return null;
      if (next > afterMs) return next;
      from = Math.max(from, next) + 1000;
    }
    return null;
  }

  /**
   * Slots in (fromMs, toMs], oldest first, at most `limit`; `truncated` when more exist; `after`,
   * the first slot past `toMs` when it was reached (so the caller need not compute it again).
   */
  between(
    pattern: string,
    timezone: string,
    fromMs: number,
    toMs: number,
    limit = MAX_SLOTS,
  ): { slots: number[]; truncated: boolean; after?: number | null } {
    const slots: number[] = [];
    let cursor = fromMs;
    while (slots.length < limit) {
      const next = this.next(pattern, timezone, cursor);
      if (next === null || next > toMs) return { slots, truncated: false, after: next };
      slots.push(next);
      cursor = next;
    }
    const after = this.next(pattern, timezone, cursor);
    return { slots, truncated: after !== null && after <= toMs };
  }

  /** Forgets calculators and zone windows no job uses any more (after a reload). */
  retain(keys: Iterable<{ cron: string; timezone: string }>): void {
    const keep = new Set<string>();
    const zones = new Set<string>();
    for (const { cron, timezone } of keys) {
      keep.add(this.keyOf(cron, timezone));
      if (this.hasFastPath(cron, timezone)) keep.add(this.keyOf(cron, "UTC"));
      zones.add(timezone);
    }
    for (const key of this.crons.keys()) if (!keep.has(key)) this.crons.delete(key);
    for (const zone of this.windows.keys()) if (!zones.has(zone)) this.windows.delete(zone);
  }

  /** How many croner objects are held. */
  get size(): number {
    return this.crons.size;
  }
}
