/**
 * @module env.test — the status server's address from the environment: an empty value means the
 * default, and the documented `docker run --env-file .env` (with .env copied from .env.example)
 * keeps the image's address, so the published port reaches the server.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { httpAddress, pathsFrom } from "../../src/config/env.ts";
import { repoRoot } from "../helpers/workspace.ts";

/** What `docker run --env-file` reads: NAME=value lines taken literally, `#` lines skipped. */
function dockerEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim() || line.trimStart().startsWith("#")) continue;
    const at = line.indexOf("=");
    if (at > 0) env[line.slice(0, at)] = line.slice(at + 1);
  }
  return env;
}

/** The final stage's `ENV A=1 \ B=2` values of the Dockerfile. */
function imageEnv(): Record<string, string> {
  const text = readFileSync(join(repoRoot, "Dockerfile"), "utf8").replace(/\\\r?\n/g, " ");
  const finalStage = text.slice(text.lastIndexOf("\nFROM "));
  return Object.fromEntries(
    finalStage
      .split("\n")
      .filter((line) => line.startsWith("ENV "))
      .flatMap((line) =>
        [...line.slice(4).matchAll(/([\w.]+)=("[^"]*"|\S*)/g)].map(([, name, value]) => [
          name!,
          value!.replace(/^"(.*)"$/, "$1"),
        ]),
      ),
  );
}

describe("httpAddress", () => {
  it("takes an empty or blank SUNDIAL_HTTP_PORT / SUNDIAL_HTTP_HOST as the default (127.0.0.1:8787), not port 0", () => {
    expect(httpAddress({ SUNDIAL_HTTP_PORT: "", SUNDIAL_HTTP_HOST: "" })).toEqual({ host: "127.0.0.1", port: 8787 });
    expect(httpAddress({ SUNDIAL_HTTP_PORT: "  " })).toEqual({ host: "127.0.0.1", port: 8787 });
    expect(httpAddress({})).toEqual({ host: "127.0.0.1", port: 8787 });
    expect(httpAddress({ SUNDIAL_HTTP_PORT: "0" }).port).toBe(0);
    expect(httpAddress({ SUNDIAL_HTTP_PORT: "9000", SUNDIAL_HTTP_HOST: "0.0.0.0" })).toEqual({
      host: "0.0.0.0",
      port: 9000,
    });
  });

  it("rejects a port that is not a whole number from 0 to 65535, quoting it", () => {
    for (const bad of ["80a", "-1", "65536", "1.5", "0x50"])
      expect(() => httpAddress({ SUNDIAL_HTTP_PORT: bad })).toThrow(`not "${bad}"`);
  });
});

describe("docker run --env-file .env, with .env copied from .env.example", () => {
  it("keeps the image's address (0.0.0.0:8787, reachable through the published port) and data directory", () => {
    const image = imageEnv();
    expect(image.SUNDIAL_HTTP_HOST).toBe("0.0.0.0");
    // --env-file wins over the image's ENV, as docker does.
    const env = { ...image, ...dockerEnvFile(readFileSync(join(repoRoot, ".env.example"), "utf8")) };
    expect(httpAddress(env)).toEqual({ host: "0.0.0.0", port: 8787 });
    expect(pathsFrom(env, "/app").dataDir).toBe("/app/data");
  });
});
