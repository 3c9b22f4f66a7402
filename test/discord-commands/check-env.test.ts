/** `sundial check` validates the Discord command variables: ids are snowflakes, `on` needs a token. */
import { afterAll, describe, expect, it } from "vitest";
import { createWorkspace, type Workspace } from "../helpers/workspace.ts";

const hello = `import { defineSkill, z } from "sundial";
export default defineSkill({ name: "hello", description: "d", params: z.object({}), run: () => ({ title: "Hello", markdown: "Hello" }) });
`;
const workspaces: Workspace[] = [];
const check = (env: Record<string, string>) => {
  const ws = createWorkspace({
    skills: { hello },
    schedules: { jobs: [{ id: "hello", skill: "hello", cron: "0 9 * * *" }] },
  });
  workspaces.push(ws);
  return ws.runCli(["check"], env, 150_000);
};
afterAll(async () => {
  await Promise.all(workspaces.map((ws) => ws.cleanup()));
});

describe("check: Discord command variables", () => {
  it(
    "reports `on` without a token, a bad guild id and a bad operator id, and exits 2",
    { timeout: 160_000 },
    async () => {
      const result = await check({
        SUNDIAL_DISCORD_COMMANDS: "on",
        DISCORD_GUILD_ID: "my-server",
        SUNDIAL_DISCORD_OPERATORS: "123456789012345678, alice",
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("SUNDIAL_DISCORD_COMMANDS=on needs DISCORD_TOKEN");
      expect(result.stderr).toContain(
        'DISCORD_GUILD_ID must be a server id (17 to 20 digits; right-click the server, Copy Server ID), not "my-server"',
      );
      expect(result.stderr).toContain('"alice" is not one');
      expect(result.stderr).not.toContain('"123456789012345678" is not one');
      expect(result.stderr).toContain("3 problem(s) found");
    },
  );

  it("accepts valid variables and a mode that is not on/off is refused", { timeout: 160_000 }, async () => {
    const good = await check({
      SUNDIAL_DISCORD_COMMANDS: "on",
      DISCORD_TOKEN: "x",
      DISCORD_GUILD_ID: "123456789012345678",
      SUNDIAL_DISCORD_OPERATORS: "123456789012345678,987654321098765432",
    });
    expect(good.stderr).toBe("");
    expect(good.code).toBe(0);
    const bad = await check({ SUNDIAL_DISCORD_COMMANDS: "yes" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('SUNDIAL_DISCORD_COMMANDS must be "on" or "off", not "yes"');
  });
});
