/**
 * @module plan — what becomes of slots whose time has come: fire on time, catch up, or record as
 * missed. The same rules serve start-up after downtime and a daemon that woke late (sleep, a
 * clock jump, a blocked event loop), so a slot is never silently dropped.
 */

/** A slot started within this long of its time counts as on time. */
export const ON_TIME_MS = 60_000;

export interface CatchUpPolicy {
  catchUp: "none" | "latest" | "all";
  catchUpWindowMs: number;
}

export interface SlotPlan {
  fire: { at: number; trigger: "schedule" | "catchup" }[];
  missed: { at: number; reason: string }[];
}

/**
 * Plans `slots` (oldest first, all at or before `now`). At start-up (`onTimeMs` 0) every slot was
 * missed by downtime, so all of them follow the catch-up policy, however recent.
 */
export function planSlots(
  slots: readonly number[],
  now: number,
  policy: CatchUpPolicy,
  onTimeMs = ON_TIME_MS,
): SlotPlan {
  const plan: SlotPlan = { fire: [], missed: [] };
  const late: number[] = [];
  slots.forEach((at, index) => {
    const lag = now - at;
    // Only the newest due slot can be on time: an older one was already superseded when we woke.
    if (lag <= onTimeMs && onTimeMs > 0 && index === slots.length - 1) plan.fire.push({ at, trigger: "schedule" });
    else if (lag > policy.catchUpWindowMs)
      plan.missed.push({
        at,
        reason: `not run at its time and older than the catch-up window (${Math.round(policy.catchUpWindowMs / 60_000)} min)`,
      });
    else late.push(at);
  });
  if (policy.catchUp === "all") {
    plan.fire.unshift(...late.map((at) => ({ at, trigger: "catchup" as const })));
  } else if (policy.catchUp === "latest" && late.length) {
    const newest = late.pop() as number;
    for (const at of late)
      plan.missed.push({ at, reason: "not run at its time; a later slot caught up instead (catchUp: latest)" });
    // A slot on time already covers the latest period; the late one is then superseded too.
    if (plan.fire.length)
      plan.missed.push({ at: newest, reason: "not run at its time; a later slot ran on time (catchUp: latest)" });
    else plan.fire.push({ at: newest, trigger: "catchup" });
  } else {
    for (const at of late)
      plan.missed.push({ at, reason: "not run at its time (the daemon was down, asleep or busy); catchUp: none" });
  }
  plan.missed.sort((a, b) => a.at - b.at);
  return plan;
}
