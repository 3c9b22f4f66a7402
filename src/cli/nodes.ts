/** @module nodes — `sundial nodes [--json]`: the daemons using this ledger, from their heartbeats. */
import type { LedgerView } from "./ledger-view.ts";
import type { NodeInfo } from "../ledger/store.ts";
import { printJson, table } from "./format.ts";
import { stripControls } from "../util/terminal-text.ts";

export async function nodesCommand(app: LedgerView, options: { json?: boolean }): Promise<void> {
  const store = await app.openReadStore();
  let nodes: NodeInfo[] = [];
  try {
    nodes = store ? await store.listNodes(Date.now()) : [];
  } catch (error) {
    // A ledger written by a version without the nodes table has no daemon heartbeats yet.
    if (!/no such table/i.test((error as Error).message)) throw error;
  } finally {
    app.close();
  }
  const shown = nodes.map(({ id, host, version, startedAt, heartbeatAt, configHash }) => ({
    id,
    host,
    version,
    startedAt: new Date(startedAt).toISOString(),
    heartbeatAt: new Date(heartbeatAt).toISOString(),
    configHash,
  }));
  if (options.json) {
    printJson({ nodes: shown });
    return;
  }
  if (!shown.length) {
    process.stdout.write("no daemon is running on this ledger (none wrote a heartbeat in the last 24 hours)\n");
    return;
  }
  const differ = new Set(shown.map((node) => node.configHash)).size > 1;
  const rows = shown.map((node) =>
    [node.id.slice(0, 8), node.host, node.version, node.startedAt, node.heartbeatAt, node.configHash].map(
      stripControls,
    ),
  );
  process.stdout.write(table(["id", "host", "version", "started", "last heartbeat", "config"], rows));
  if (differ)
    process.stdout.write(
      "warning: these daemons run different schedules.json or skills; deploy the same files to every daemon\n",
    );
}
