/** The layers of src/ only point down: eslint (the project's own config) refuses an import that points up. */
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

/**
 * The project's eslint.config.js as it is, minus type information: the fixtures below are linted as
 * text at a path in src/ (never written there), which the TypeScript project service cannot see.
 */
const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfig: [
    {
      files: ["**/*.ts"],
      languageOptions: { parserOptions: { projectService: false } },
      rules: { "@typescript-eslint/no-floating-promises": "off", "@typescript-eslint/no-misused-promises": "off" },
    },
  ],
});

/** Lints `code` as if it were the file at `filePath` (in the repository, not written to disk). */
async function restrictedImports(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  const messages = result?.messages ?? [];
  const fatal = messages.filter((message) => message.fatal);
  if (fatal.length > 0) throw new Error(fatal.map((message) => message.message).join("\n"));
  return messages.filter((message) => message.ruleId === "no-restricted-imports").map((message) => message.message);
}

describe("layers", () => {
  it("refuses an import of an integration from the core (src/run/)", async () => {
    const code =
      'import { fetchWithRetry } from "../integrations/http.ts";\n\nexport const fetcher = fetchWithRetry;\n';
    const errors = await restrictedImports("src/run/layer-fixture.ts", code);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/The core \(schedule, run\) must not import this layer above it/);
  });

  it("refuses the core or the wiring from an adapter, and anything of Sundial from src/util/", async () => {
    expect(
      await restrictedImports(
        "src/integrations/layer-fixture.ts",
        'import type { Runner } from "../run/runner.ts";\n\nexport type R = Runner;\n',
      ),
    ).toHaveLength(1);
    expect(
      await restrictedImports(
        "src/deliver/layer-fixture.ts",
        'import { createApp } from "../app.ts";\n\nexport const app = createApp;\n',
      ),
    ).toHaveLength(1);
    expect(
      await restrictedImports(
        "src/util/layer-fixture.ts",
        'import { registerSecret } from "../log.ts";\n\nexport const register = registerSecret;\n',
      ),
    ).toHaveLength(1);
  });

  it("lets each layer import what is below it", async () => {
    const code =
      'import { backoffMs } from "../util/backoff.ts";\nimport type { RunStore } from "../ledger/store.ts";\nimport type { Integrations } from "../ports/integrations.ts";\n\nexport type T = [RunStore, Integrations, typeof backoffMs];\n';
    expect(await restrictedImports("src/run/layer-fixture.ts", code)).toEqual([]);
  });
});
