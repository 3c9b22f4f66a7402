/**
 * No merge conflict markers in the repository: prettier accepts them in Markdown (AGENTS.md once
 * shipped with three), so they are looked for here in every tracked text file.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/workspace.ts";

const MARKER = /^(<{7} |={7}$|>{7} )/m;

describe("the repository", () => {
  it("has no merge conflict markers in any tracked text file", () => {
    const files = execFileSync("git", ["ls-files", "-z"], { cwd: repoRoot, encoding: "utf8" })
      .split("\0")
      .filter((file) => /\.(ts|js|cjs|mjs|json|md|yml|yaml|css|html|sh)$|^Dockerfile$|^\.ci\//.test(file));
    expect(files.length).toBeGreaterThan(100);
    const conflicted = files.filter((file) => MARKER.test(readFileSync(join(repoRoot, file), "utf8")));
    expect(conflicted).toEqual([]);
  });

  it("recognises a marker line", () => {
    expect(MARKER.test("a\n<<<<<<< HEAD\nb")).toBe(true);
    expect(MARKER.test("a\n=======\nb")).toBe(true);
    expect(MARKER.test("a\n>>>>>>> postgres\nb")).toBe(true);
    expect(MARKER.test("a\n======= heading underline? no\n")).toBe(false);
  });
});
