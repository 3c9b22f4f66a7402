/**
 * @module github/repo-name — GitHub's name as errors give it and "owner/name" parsing: what the
 * `github-pr` target needs before it sends anything, apart from `./octokit.ts` so that loading the
 * target (every command does, through the registry) does not load Octokit.
 */
import { NonRetryableError } from "../../errors.ts";

export const GITHUB = "GitHub";

/** "owner/name" split into Octokit's parameters; anything else is a configuration error. */
export function parseRepo(repo: string): { owner: string; repo: string } {
  const match = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/.exec(repo.trim());
  if (!match || match[2] === "." || match[2] === "..")
    throw new NonRetryableError(`${GITHUB}: "${repo}" is not a repository; write it as "owner/name"`);
  return { owner: match[1] as string, repo: match[2] as string };
}
