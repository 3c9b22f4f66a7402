/** @module sources/github — the `github` source kind: a repository's releases published and pull requests merged. */
import { z } from "zod";
import { once } from "../lazy.ts";
import { defineSource } from "./define.ts";
import { sourceName } from "./fields.ts";

/** The GitHub source module (and Octokit), imported once per process, on the first fetch. */
const loadGitHub = once(() => import("../github/source.ts"));

const schema = z.strictObject({
  type: z.literal("github").describe("A GitHub repository: releases published and pull requests merged"),
  repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'write the repository as "owner/name"'),
  name: sourceName,
});

export const githubSourceDefinition = defineSource({
  types: ["github"],
  schema,
  requiredEnv: () => ["GITHUB_TOKEN"],
  preload: async () => void (await loadGitHub()),
  create({ env, signal, log }) {
    const fetcher = once(async () => (await loadGitHub()).createGitHubSource({ env, signal, log }));
    return async (source, options) => (await fetcher())(source, options);
  },
});
