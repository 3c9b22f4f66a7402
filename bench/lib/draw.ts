/**
 * @module bench/draw — the 10,000 schedules of the capacity benchmark: 500 distinct cron patterns
 * (daily, weekday, monthly, weekly with seconds, every few hours) and 50 IANA time zones (whole,
 * half and quarter hour offsets, with and without DST). Job i takes pattern i % 500 and zone
 * (7i + ⌊i/500⌋) % 50, so each pattern meets 20 different zones and no (pattern, zone) pair repeats.
 */

export const ZONES = [
  "UTC",
  "Europe/London",
  "Europe/Dublin",
  "Europe/Lisbon",
  "Europe/Berlin",
  "Europe/Paris",
  "Europe/Madrid",
  "Europe/Rome",
  "Europe/Amsterdam",
  "Europe/Stockholm",
  "Europe/Warsaw",
  "Europe/Athens",
  "Europe/Helsinki",
  "Europe/Istanbul",
  "Europe/Moscow",
  "Africa/Cairo",
  "Africa/Johannesburg",
  "Africa/Lagos",
  "Africa/Nairobi",
  "Asia/Dubai",
  "Asia/Tehran",
  "Asia/Kabul",
  "Asia/Karachi",
  "Asia/Kolkata",
  "Asia/Kathmandu",
  "Asia/Dhaka",
  "Asia/Yangon",
  "Asia/Bangkok",
  "Asia/Singapore",
  "Asia/Shanghai",
  "Asia/Hong_Kong",
  "Asia/Tokyo",
  "Asia/Seoul",
  "Australia/Perth",
  "Australia/Eucla",
  "Australia/Adelaide",
  "Australia/Sydney",
  "Pacific/Auckland",
  "Pacific/Chatham",
  "Pacific/Honolulu",
  "America/Anchorage",
  "America/Los_Angeles",
  "America/Phoenix",
  "America/Denver",
  "America/Chicago",
  "America/Mexico_City",
  "America/New_York",
  "America/Halifax",
  "America/St_Johns",
  "America/Sao_Paulo",
] as const;

/** 500 distinct patterns, deterministic. */
export function distinctPatterns(total = 500): string[] {
  const found = new Set<string>();
  for (let i = 0; found.size < Math.min(total, 500); i++) {
    const minute = (i * 7) % 60;
    const hour = (i * 5 + Math.floor(i / 60)) % 24;
    const kinds = [
      `${minute} ${hour} * * *`,
      `${minute} ${hour} * * 1-5`,
      `${minute} ${hour} ${1 + (i % 28)} * *`,
      `${(i * 13) % 60} ${minute} ${hour} * * ${i % 7}`,
      `${minute} */${2 + (i % 11)} * * *`,
    ];
    found.add(kinds[i % kinds.length] as string);
  }
  // Past 500 the draw above repeats itself: more patterns are daily, weekday, weekly and monthly
  // ones with a second field, each at its own second of the day (so none repeats).
  for (let i = 0; found.size < total; i++) {
    const at = (i * 7919) % 86_400;
    const time = `${at % 60} ${Math.floor(at / 60) % 60} ${Math.floor(at / 3600)}`;
    const days = [`* * *`, `* * 1-5`, `* * ${i % 7}`, `${1 + (i % 28)} * *`];
    found.add(`${time} ${days[i % days.length] as string}`);
  }
  return [...found];
}

export interface DrawnSchedule {
  cron: string;
  timezone: string;
}

/**
 * `total` schedules, job i → pattern i % P, zone (7i + ⌊i/P⌋) % 50, with P = `patternCount` (500 for
 * the 10,000 jobs, 5,000 for 100,000): each pattern meets 20 zones, and no (pattern, zone) pair repeats.
 */
export function drawSchedules(total: number, patternCount = 500): DrawnSchedule[] {
  const patterns = distinctPatterns(patternCount);
  return Array.from({ length: total }, (_, i) => ({
    cron: patterns[i % patterns.length] as string,
    timezone: ZONES[(i * 7 + Math.floor(i / patterns.length)) % ZONES.length] as string,
  }));
}

/** How many different (pattern, zone) pairs a draw holds. */
export function distinctPairs(schedules: readonly DrawnSchedule[]): number {
  return new Set(schedules.map((s) => `${s.cron}|${s.timezone}`)).size;
}
