/**
 * @module lock-holder — one process of the lock race in `test/daemon/liveness.test.ts`: at each
 * round's instant (shared by every process) it tries the daemon lock of that round's directory,
 * and keeps what it gets until it exits. Prints one line per round: "<round> held" or "<round> refused".
 *
 *   node --import tsx test/helpers/lock-holder.ts <parent dir> <rounds> <start at ms>
 */
import { join } from "node:path";
import { acquireLock, LockHeldError, type DaemonLock } from "../../src/daemon/lock.ts";

const [parent, roundsText, startText] = process.argv.slice(2);
const held: DaemonLock[] = [];
for (let round = 0; round < Number(roundsText); round++) {
  const wait = Number(startText) + round * 200 - Date.now();
  if (wait > 0) await new Promise((done) => setTimeout(done, wait));
  try {
    held.push(acquireLock(join(parent as string, String(round))));
    process.stdout.write(`${round} held\n`);
  } catch (error) {
    if (!(error instanceof LockHeldError)) throw error;
    process.stdout.write(`${round} refused\n`);
  }
}
// Every lock is held until the process ends, so a late process cannot take a round's lock after
// its winner let go: the kernel releases them all at exit.
