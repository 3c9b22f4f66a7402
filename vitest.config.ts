import { defineConfig } from "vitest/config";

/**
 * Most test files spend their time waiting on child processes, servers and timers, not on the CPU,
 * so they run three at a time even on a 2-core machine (vitest's default there is one at a time).
 * The files below measure time or race processes on purpose (fire times, leases, event-loop lag,
 * kill -9 windows, linear-time bounds): they run afterwards, one at a time, on a quiet machine.
 */
const timingSensitive = [
  "test/daemon/fires.test.ts",
  "test/daemon/metrics.test.ts",
  "test/daemon/liveness.test.ts",
  "test/daemon/lock-contention.test.ts",
  "test/daemon/ledger-busy.test.ts",
  "test/daemon/stubborn-run.test.ts",
  "test/daemon/overlap.test.ts",
  "test/daemon/postgres-chaos.test.ts",
  "test/deliver/discord-crash.test.ts",
  "test/discord-commands/gateway-resilience.test.ts",
  "test/ledger/claims-across-processes.test.ts",
  "test/integrations/hostile-text.test.ts",
];

const shared = {
  setupFiles: ["./test/setup/no-network.ts"],
  testTimeout: 30_000,
  hookTimeout: 30_000,
  pool: "forks" as const,
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...shared,
          name: "parallel",
          include: ["test/**/*.test.ts", "src/**/*.test.ts"],
          exclude: timingSensitive,
          maxWorkers: 3,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: "timing",
          include: timingSensitive,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
      {
        // What defineSkill infers, checked by tsc: `npm run test:types`. Not part of `npm test`,
        // because `npm run typecheck` (tsc over test/ too) already fails on any of them.
        test: {
          name: "types",
          include: [],
          typecheck: { enabled: true, only: true, include: ["test/types/**/*.test-d.ts"] },
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
