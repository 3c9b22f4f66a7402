/**
 * @module calendar — when a cron pattern fires, in a time zone. One paused croner object per
 * distinct pattern, shared by every job and zone that uses it: croner keeps ~80 KB per object, so
 * 10,000 jobs with their own objects would cost close to 1 GB.
 */
import { Cron } from "croner";

/** Most slots enumerated for one job at once; beyond it a warning says how many were left out. */
export const MAX_SLOTS = 100_000;

const UTC_ZONES = new Set(["UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Zulu", "Zulu", "Etc/UCT", "UCT", "Universal", "Etc/Universal"]);
const NO_YEARS: number[] = [];

/**
 * croner 11 fills a 10,000-entry `year` table per pattern (most of its ~80 KB per object) and reads
 * it only when the year field is not `*`. Sharing one empty table then is safe and cuts an object
 * to a few KB; `test/schedule/calendar.test.ts` proves the fire times unchanged.
 */
function slim(cron: Cron): Cron {
  const pattern = (cron as unknown as { _states?: { pattern?: { starYear?: boolean; year?: number[] } } })._states?.pattern;
  if (pattern?.starYear === true && Array.isArray(pattern.year)) pattern.year = NO_YEARS;
  return cron;
}

export class Calendar {
  private readonly crons = new Map<string, Cron>();

  /**
   * One calculator per pattern, shared across zones: croner reads `options.timezone` at each
   * `nextRun`, so the zone is set just before use. UTC gets its own fixed-offset calculator (about
   * 5 times faster), and a pattern with `?` one per zone, since croner fills `?` from the zone.
   */
  private keyOf(pattern: string, timezone: string): string {
    if (UTC_ZONES.has(timezone)) return `utc\u0000${pattern}`;
    return pattern.includes("?") ? `${timezone}\u0000${pattern}` : `zone\u0000${pattern}`;
  }

  private cron(pattern: string, timezone: string): Cron {
    const key = this.keyOf(pattern, timezone);
    let cron = this.crons.get(key);
    if (!cron) {
      cron = slim(UTC_ZONES.has(timezone) ? new Cron(pattern, { utcOffset: 0, paused: true }) : new Cron(pattern, { timezone, paused: true }));
      this.crons.set(key, cron);
    }
    if (!UTC_ZONES.has(timezone)) cron.options.timezone = timezone;
    return cron;
  }

  /**
   * The first slot strictly after `afterMs`, or null if the pattern never fires again. Guards
   * against croner returning a time that does not move forward (seen across spring-forward gaps).
   */
  next(pattern: string, timezone: string, afterMs: number): number | null {
    const cron = this.cron(pattern, timezone);
    let from = afterMs;
    for (let guard = 0; guard < 4; guard++) {
      const next = cron.nextRun(new Date(from))?.getTime() ?? null;
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
  between(pattern: string, timezone: string, fromMs: number, toMs: number, limit = MAX_SLOTS): { slots: number[]; truncated: boolean; after?: number | null } {
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

  /** Forgets calculators no job uses any more (after a reload). */
  retain(keys: Iterable<{ cron: string; timezone: string }>): void {
    const keep = new Set([...keys].map((k) => this.keyOf(k.cron, k.timezone)));
    for (const key of this.crons.keys()) if (!keep.has(key)) this.crons.delete(key);
  }

  get size(): number {
    return this.crons.size;
  }
}
