/**
 * Run events for the API and the dashboard are read back from the ledger only while someone is
 * subscribed: with nobody listening, a run's writes cost no read-back (the throughput profile
 * found one `getRun` per write, and one `slotRun` per missed slot, with no one to tell).
 */
import { afterEach, describe, expect, it } from "vitest";
import { createChangeFeed, observeStore } from "../../src/control/changes.ts";
import { createControls } from "../../src/control/controls.ts";
import { createRunner } from "../../src/run/runner.ts";
import { Scheduler } from "../../src/schedule/scheduler.ts";
import type { RunStore } from "../../src/ledger/store.ts";
import type { ControlEvent } from "../../src/control/types.ts";
import { silentLog, tempStore } from "../helpers/ledger.ts";

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe("the change feed of the daemon's controls", () => {
  it("reads runs back only while subscribed", async () => {
    const ledger = tempStore();
    cleanup = ledger.cleanup;
    const reads: number[] = [];
    const counted: RunStore = {
      ...ledger.store,
      getRun: (id) => (reads.push(id), ledger.store.getRun(id)),
      slotRun: (job, at) => (reads.push(at), ledger.store.slotRun(job, at)),
    };
    const changes = createChangeFeed();
    const store = observeStore(counted, changes);
    const owner = { pid: process.pid, instance: "me" };
    const runner = createRunner({
      store,
      env: {},
      dataDir: ledger.dir,
      log: silentLog,
      now: Date.now,
      adapters: new Map(),
      integrations: async () => {
        throw new Error("no run is executed here");
      },
      writePreview: () => undefined,
      alerts: () => [],
    });
    const scheduler = new Scheduler({ store, runner, log: silentLog, owner, maxConcurrentRuns: 4 });
    const controls = await createControls({
      store,
      scheduler,
      owner,
      current: () => ({
        configuration: { settings: {} as never, jobs: [], problems: [], fileValid: true },
        skills: new Map(),
      }),
      changes,
      log: silentLog,
    });
    const claimOne = async (job: string) => {
      const [claim] = await store.claimRuns(
        [{ job, skill: "s", scheduledFor: Date.now(), trigger: "manual", overlap: "allow" }],
        owner,
        Date.now(),
      );
      if (claim?.status !== "running") throw new Error("expected a running claim");
      await store.finishRun(claim.runId, { status: "succeeded" }, Date.now(), claim.epoch);
      await store.recordUnrun(
        [{ job, skill: "s", scheduledFor: Date.now() - 60_000, status: "missed", reason: "late" }],
        Date.now(),
      );
      return claim.runId;
    };
    await claimOne("quiet");
    expect(changes.listening).toBe(false);
    expect(reads).toEqual([]);

    const events: ControlEvent[] = [];
    const unsubscribe = controls.subscribe((event) => events.push(event));
    const runId = await claimOne("watched");
    await new Promise((resolve) => setTimeout(resolve, 20));
    const runEvents = events.flatMap((event) => (event.type === "run" ? [event.run] : []));
    expect(runEvents.filter((run) => run.id === runId).map((run) => run.status)).toContain("succeeded");
    expect(runEvents.some((run) => run.status === "missed" && run.job === "watched")).toBe(true);

    unsubscribe();
    expect(changes.listening).toBe(false);
    const before = reads.length;
    await claimOne("quiet-again");
    expect(reads.length).toBe(before);
    controls.close();
  });
});
