/**
 * @module costs — `sundial costs`: what Claude cost, from the spend table of the ledger (read-only;
 * kept apart from runs, so pruned runs still count), grouped by job, UTC day or model.
 */
import type { LedgerView } from "./ledger-view.ts";
import type { SpendRow } from "../ledger/store.ts";
import type { Usage } from "../types.ts";
import { UsageError } from "../errors.ts";
import { parseDuration } from "../util/duration.ts";
import { utcDay } from "../budget/periods.ts";
import { addUsage } from "../integrations/claude/pricing.ts";

const ZERO_USAGE: Readonly<Usage> = { inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, cacheReadTokens: 0 };
import { printJson, table } from "./format.ts";

export type CostsBy = "job" | "day" | "model";

export interface CostGroup {
  key: string;
  costUsd: number;
  calls: number;
  usage: Usage;
}

/** Sums spend rows per job, day or model; the largest cost first (days: oldest first). */
export function groupSpend(rows: SpendRow[], by: CostsBy): CostGroup[] {
  const groups = new Map<string, CostGroup>();
  for (const row of rows) {
    const key = row[by];
    const group = groups.get(key) ?? { key, costUsd: 0, calls: 0, usage: { ...ZERO_USAGE } };
    group.costUsd += row.costUsd;
    group.calls += row.calls;
    group.usage = addUsage(group.usage, row.usage);
    groups.set(key, group);
  }
  const list = [...groups.values()];
  return by === "day"
    ? list.sort((a, b) => a.key.localeCompare(b.key))
    : list.sort((a, b) => b.costUsd - a.costUsd || a.key.localeCompare(b.key));
}

const usd = (amount: number) => `$${amount.toFixed(4)}`;

export async function costsCommand(
  app: LedgerView,
  options: { since: string; by: string; json?: boolean },
  now = Date.now(),
): Promise<void> {
  if (!["job", "day", "model"].includes(options.by))
    throw new UsageError(`--by must be job, day or model, not "${options.by}"`);
  let sinceMs: number;
  try {
    sinceMs = parseDuration(options.since);
  } catch (error) {
    throw new UsageError(`--since: ${(error as Error).message} (days too: "30d")`);
  }
  const by = options.by as CostsBy;
  // Spend is kept per UTC day: the window starts at the beginning of the day `since` falls in.
  const sinceDay = utcDay(now - sinceMs);
  // Read-only; the PostgreSQL ledger when SUNDIAL_DATABASE_URL is set.
  const store = await app.openReadStore();
  const rows = store ? await store.listSpend({ sinceDay }) : [];
  app.close();
  const groups = groupSpend(rows, by);
  const totalUsd = groups.reduce((sum, group) => sum + group.costUsd, 0);
  if (options.json) {
    const document = {
      since: `${sinceDay}T00:00:00.000Z`,
      by,
      totalUsd,
      groups: groups.map((g) => ({ [by]: g.key, costUsd: g.costUsd, calls: g.calls, usage: g.usage })),
    };
    printJson(document, app.scrub);
    return;
  }
  if (!groups.length) {
    process.stdout.write(`no Claude spend recorded since ${sinceDay}\n`);
    return;
  }
  const lines = groups.map((g) => [
    g.key,
    usd(g.costUsd),
    String(g.calls),
    String(g.usage.inputTokens),
    String(g.usage.outputTokens),
    String(g.usage.cacheWriteTokens),
    String(g.usage.cacheReadTokens),
  ]);
  lines.push(["total", usd(totalUsd), "", "", "", "", ""]);
  process.stdout.write(app.scrub(table([by, "cost", "calls", "input", "output", "cache write", "cache read"], lines)));
  process.stdout.write(`since ${sinceDay} (UTC days)\n`);
}
