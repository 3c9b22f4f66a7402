/** A clock whose time only moves when a test says so; timers fire in order as it advances. */
import type { Clock } from "../../src/schedule/scheduler.ts";

export class FakeClock implements Clock {
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;

  constructor(private time: number) {}

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.time + Math.max(0, ms), fn, id });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.id !== handle);
  }

  /** Moves time forward to `target`, firing every timer due on the way and letting its async work settle. */
  async advanceTo(target: number): Promise<void> {
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.timers.shift();
      this.time = Math.max(this.time, next.at);
      next.fn();
      await settle();
    }
    this.time = target;
    await settle();
  }

  /** Every timer set so far never fires (a stuck timer: lost, or starved by a blocked loop). */
  dropTimers(): void {
    this.timers = [];
  }

  /**
   * Jumps the wall clock without firing timers (a sleep or a suspended VM: every timer whose time
   * passed is due at once when time next advances).
   */
  jump(ms: number): void {
    this.time += ms;
  }

  /**
   * The wall clock is set by `ms` (an NTP step, an operator's `date -s`), forwards or backwards,
   * while timers keep the delays they had left: Node's timers run on the monotonic clock, so a timer
   * due in 10 s still fires 10 s later whatever the wall clock now says.
   */
  setWallClock(ms: number): void {
    this.time += ms;
    for (const timer of this.timers) timer.at += ms;
  }
}

export async function settle(rounds = 8): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}
