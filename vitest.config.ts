import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    setupFiles: ["./test/setup/no-network.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // `npm run test:types` (and `npm run typecheck`, which includes them) check what defineSkill infers.
    typecheck: { include: ["test/types/**/*.test-d.ts"] },
  },
});
