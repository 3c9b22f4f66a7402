/**
 * @module lock-holder — one process of the lock race in `test/daemon/liveness.test.ts`: at each
 * round's instant (shared by every process) it tries the daemon lock of that round's directory,
 * and keeps what it gets until it exits. Prints one line per round: "<round> held" or "<round> refused".
 *
 *   node --import tsx test/helpers/lock-holder.ts <parent dir> <rounds> <start at ms>
 */
import { join } from "node:path";
import { acquireLock, LOCK_WAIT_MS, LockHeldError, type DaemonLock } from "../../src/daemon/lock.ts";

/** Rounds are further apart than a refusal takes (the lock's wait), so every round is a fresh race. */
export const ROUND_GAP_MS = LOCK_WAIT_MS + 400;

const [parent, roundsText, startText] = process.argv.slice(2);
const held: DaemonLock[] = [];
for (let round = 0; round < Number(roundsText); round++) {
  const wait = Number(startText) + round * ROUND_GAP_MS - Date.now();
  if (wait > 0) await new Promise((done) => setTimeout(done, wait));
  try {
    held.push(acquireLock(join(parent as string, String(round))));
    process.stdout.write(`${round} held\n`);
  } catch (error) {
    if (!(error instanceof LockHeldError)) throw error;
    process.stdout.write(`${round} refused\n`);
  }
}
// Every lock is held until the process ends, and the process ends only after the last round's
// refusals (each a whole wait) are over: a start still waiting when a holder exits takes the lock,
// which is right for daemons but would count twice here.
const end = Number(startText) + Number(roundsText) * ROUND_GAP_MS + LOCK_WAIT_MS;
if (end > Date.now()) await new Promise((done) => setTimeout(done, end - Date.now()));
