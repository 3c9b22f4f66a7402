/**
 * @module zone-windows — stretches of time in which a zone's UTC offset is constant, found with
 * `Intl`: inside one, wall time = instant + offset, one to one, so the calendar can compute a
 * zone's fire times with croner's fast fixed-offset (UTC) search instead of its zone search.
 */

const SECOND = 1000;
const DAY = 86_400_000;
/** How far a window looks ahead of (and back from) the instant it is built for, in days. */
const WINDOW_DAYS = 35;
/** Offsets lie within ±14 h today and ±16 h in old local mean times; beyond is a date Intl renders oddly (BC). */
const MAX_OFFSET = 18 * 3_600_000;

/**
 * A stretch [start, until) in which a zone's UTC offset is constant, so wall time = instant +
 * offset there, one to one. `exactFrom` is where that mapping is also unambiguous: after a fall-back
 * the first (previous offset − offset) of the stretch repeat wall times of the stretch before.
 */
export interface ZoneWindow {
  start: number;
  exactFrom: number;
  until: number;
  offset: number;
}

// Creating an Intl.DateTimeFormat costs far more than using one (figures in BENCHMARKS.md, "Figures behind design choices"): one per zone, shared.
const formatters = new Map<string, Intl.DateTimeFormat | null>();

function formatterOf(zone: string): Intl.DateTimeFormat | null {
  let format = formatters.get(zone);
  if (format === undefined) {
    try {
      format = new Intl.DateTimeFormat("en-US", {
        timeZone: zone,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
      });
    } catch {
      format = null; // croner reports the unknown zone in its own words
    }
    formatters.set(zone, format);
  }
  return format;
}

/** The zone's offset at a whole-second instant: its wall clock read as UTC, minus the instant (seconds kept, for old local mean times). */
function offsetAt(format: Intl.DateTimeFormat, instant: number): number {
  let year = 0,
    month = 0,
    day = 0,
    hour = 0,
    minute = 0,
    second = 0;
  for (const part of format.formatToParts(instant)) {
    const value = Number(part.value);
    if (part.type === "year") year = value;
    else if (part.type === "month") month = value;
    else if (part.type === "day") day = value;
    else if (part.type === "hour") hour = value;
    else if (part.type === "minute") minute = value;
    else if (part.type === "second") second = value;
  }
  return Date.UTC(year, month - 1, day, hour, minute, second) - instant;
}

/**
 * The edge of the constant-offset stretch around `at`, searched in `direction` (+1 ahead, −1 back):
 * the offset is sampled every 24 h for up to WINDOW_DAYS days and, at the first sample that
 * differs, the change is found to the second by bisection. Assumes no zone changes its offset twice
 * within 24 h (true of every tzdata rule in use), so two equal samples a day apart have no change
 * between them and one that differs has exactly one. Returns the last instant known to have
 * `offset` and, when a change was found, the offset on the other side of it.
 */
function edgeOf(
  format: Intl.DateTimeFormat,
  at: number,
  offset: number,
  direction: 1 | -1,
): { inside: number; other?: number } {
  let inside = at;
  for (let day = 1; day <= WINDOW_DAYS; day++) {
    const probe = at + direction * day * DAY;
    const other = offsetAt(format, probe);
    if (other === offset) {
      inside = probe;
      continue;
    }
    let outside = probe;
    while (Math.abs(outside - inside) > SECOND) {
      const middle = inside + Math.trunc((outside - inside) / 2 / SECOND) * SECOND;
      if (offsetAt(format, middle) === offset) inside = middle;
      else outside = middle;
    }
    return { inside, other };
  }
  return { inside };
}

/** The window around `at`, or null when the zone is unknown to Intl or `at` reads oddly. */
export function windowAround(zone: string, at: number): ZoneWindow | null {
  const format = formatterOf(zone);
  if (!format) return null;
  const second = Math.floor(at / SECOND) * SECOND;
  const offset = offsetAt(format, second);
  if (!(Math.abs(offset) <= MAX_OFFSET)) return null;
  const back = edgeOf(format, second, offset, -1);
  const ahead = edgeOf(format, second, offset, 1);
  // No change found behind: a fall-back just before the searched span could still repeat wall
  // times at its start, by less than a day, so the first day of it is left to croner.
  const exactFrom = back.other === undefined ? back.inside + DAY : back.inside + Math.max(0, back.other - offset);
  return {
    start: back.inside,
    exactFrom,
    until: ahead.other === undefined ? ahead.inside : ahead.inside + SECOND,
    offset,
  };
}
