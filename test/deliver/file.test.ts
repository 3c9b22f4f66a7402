/** The file delivery: the shared adapter contract, placeholders, and paths kept inside the data directory. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { fileDelivery, fileDeliveryPath } from "../../src/deliver/file.ts";
import { describeDeliveryContract, deliveryContext, sampleOutput } from "./contract.ts";

function countFiles(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).length;
}

describeDeliveryContract("file", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "sundial-file-"));
  return {
    adapter: fileDelivery(),
    target: { to: "file" as const, path: "out/{job}-{key}.md" },
    env: {},
    dataDir,
    failing: { target: { to: "file" as const, path: "../../escape.md" }, env: {} },
    sentCount: () => countFiles(dataDir),
    close: () => rmSync(dataDir, { recursive: true, force: true }),
  };
});

describe("file delivery", () => {
  it("fills the placeholders and writes the output as markdown with earlier receipts linked", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sundial-file-"));
    try {
      const ctx = {
        ...deliveryContext({ env: {}, dataDir }),
        earlier: [{ to: "github-pr" as const, url: "https://example.test/pr/1" }],
      };
      const receipt = await fileDelivery().deliver(sampleOutput, { to: "file", path: "digests/{job}/{slug}.md" }, ctx);
      const written = readFileSync(
        join(dataDir, "deliveries", "digests", "contract-job", "contract-output.md"),
        "utf8",
      );
      expect(written).toContain("# Contract output");
      expect(written).toContain("(https://example.test/pr/1)");
      expect(receipt.url).toMatch(/^file:\/\/.*contract-output\.md$/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it.each(["../x.md", "/etc/passwd", "a/../../x.md", "{job}/../../x.md", "../sundial.db", "{key}/../../sundial.db"])(
    "refuses %s, which would leave the deliveries folder",
    (path) => {
      expect(() => fileDeliveryPath(path, sampleOutput, { job: "j", dataDir: "/srv/data" })).toThrow(
        /would leave the data directory's deliveries\/ folder/,
      );
    },
  );

  it.each([
    ["{key}", "sundial.db"],
    ["{key}", "../sundial.db"],
    ["{key}-wal", "sundial.db"],
    ["{key}.db", "../sundial"],
    ["{key}.db", "sundial"],
    ["{key}", "ledger.sqlite"],
    ["{key}/x.md", ".."],
    ["{key}", "."],
  ])(
    "never touches the ledger with path %s and key %s: file deliveries stay in data/deliveries/",
    async (path, key) => {
      const dataDir = mkdtempSync(join(tmpdir(), "sundial-file-"));
      try {
        const ledgerFiles = ["sundial.db", "sundial.db-wal", "ledger.sqlite"];
        for (const name of ledgerFiles) writeFileSync(join(dataDir, name), "LEDGER");
        const output = { ...sampleOutput, key };
        const delivered = await fileDelivery()
          .deliver(output, { to: "file", path }, deliveryContext({ env: {}, dataDir }))
          .then(
            (receipt) => receipt.detail?.path as string,
            () => null,
          );
        for (const name of ledgerFiles) expect(readFileSync(join(dataDir, name), "utf8"), name).toBe("LEDGER");
        if (delivered !== null) expect(relative(join(dataDir, "deliveries"), delivered)).not.toMatch(/^\.\.|^$/);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  );
});
