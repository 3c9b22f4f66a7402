/** `sundial nodes` with the SQLite ledger: the one running daemon, from its heartbeat; gone once it stops. */
import { afterEach, describe, expect, it } from "vitest";
import { createWorkspace, type Workspace } from "../helpers/workspace.ts";

let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

describe("sundial nodes", () => {
  it("lists the daemon running on the SQLite ledger, and no daemon once it stopped", { timeout: 60_000 }, async () => {
    ws = createWorkspace({ schedules: { jobs: [] } });
    const none = await ws.runCli(["nodes"]);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain("no daemon is running on this ledger");
    const daemon = await ws.start();
    const listed = await ws.runCli(["nodes", "--json"]);
    const { nodes } = JSON.parse(listed.stdout) as {
      nodes: {
        id: string;
        host: string;
        version: string;
        startedAt: string;
        heartbeatAt: string;
        configHash: string;
      }[];
    };
    expect(nodes).toHaveLength(1);
    expect(Object.keys(nodes[0] ?? {})).toEqual(["id", "host", "version", "startedAt", "heartbeatAt", "configHash"]);
    expect(nodes[0]?.configHash).toMatch(/^[0-9a-f]{16}$/);
    await daemon.stop("SIGTERM");
    expect(JSON.parse((await ws.runCli(["nodes", "--json"])).stdout)).toEqual({ nodes: [] });
  });
});
