// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * The layers of src/ (AGENTS.md draws them): each may import only the layers below it.
 *   wiring   app.ts, daemon/, cli/, http/, control/  — anything
 *   adapters integrations/, deliver/                 — ports, foundation, util
 *   core     schedule/, run/                         — ports, foundation, util
 *   ports    ports/, ledger/store.ts                  — foundation, util (types only)
 *   found.   config/, skill/, ledger/, types.ts, errors.ts, log.ts — util
 *   util     util/                                    — nothing of Sundial but types.ts, errors.ts
 * A rule per layer names the folders it must not reach (relative import paths).
 * One deliberate exception: config/ reads the adapters' own descriptions — the delivery target
 * registry (deliver/index.ts), the source registry (integrations/sources/index.ts) and the price
 * table (integrations/claude/pricing.ts) — because the schema of schedules.json and `check` are
 * derived from them (adding a target or a source is one file; see AGENTS.md).
 */
const WIRING = "daemon|cli|http|control";
/** @param {string} folders @param {string} layer */
const forbid = (folders, layer) => ({
  regex: `(^|/)(${folders})/|(^|/)app\\.ts$`,
  message: `${layer} must not import this layer above it (see the layers in AGENTS.md): pass what it needs through a port (src/ports/, src/ledger/store.ts) or move the helper to src/util/.`,
});
const layers = [
  {
    files: ["src/util/**/*.ts"],
    patterns: [
      {
        regex: "^\\.\\./(?!(types|errors)\\.ts$)",
        message: "src/util/ is the bottom layer: it imports only other util modules, src/types.ts and src/errors.ts.",
      },
    ],
  },
  {
    files: ["src/skill/**/*.ts", "src/ledger/**/*.ts", "src/ports/**/*.ts"],
    patterns: [
      forbid(`schedule|run|integrations|deliver|${WIRING}`, "A foundation module (config, skill, ledger, ports)"),
    ],
  },
  {
    files: ["src/config/**/*.ts"],
    patterns: [
      forbid(`schedule|run|${WIRING}`, "A foundation module (config, skill, ledger, ports)"),
      {
        regex: "(^|/)(integrations|deliver)/(?!(index|sources/index|claude/pricing)\\.ts$)",
        message:
          "config/ reads only the adapters' registries and the price table (their descriptions), never an adapter itself.",
      },
    ],
  },
  {
    files: ["src/schedule/**/*.ts", "src/run/**/*.ts"],
    patterns: [forbid(`integrations|deliver|${WIRING}`, "The core (schedule, run)")],
  },
  {
    files: ["src/integrations/**/*.ts", "src/deliver/**/*.ts"],
    patterns: [forbid(`schedule|run|ledger|${WIRING}`, "An adapter (integrations, deliver)")],
  },
];

export default tseslint.config(
  { ignores: ["node_modules/", "data/", "coverage/", ".tmp/", "dist/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  ...layers.map(({ files, patterns }) => ({ files, rules: { "no-restricted-imports": ["error", { patterns }] } })),
  { files: ["**/*.js"], languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } } },
);
