/**
 * @module github/repo-reader — read-only access to a repository a job's `github-pr` delivery writes
 * to, with the same token and API URL: the base branch's head, the files under a folder (one
 * recursive tree request) and a file's text (its blob). Lets a skill learn the repository it will
 * open pull requests on before it writes anything.
 */
import { z } from "zod";
import type { Logger } from "pino";
import type { Env, RepositoryFile, TargetRepository } from "../../types.ts";
import { callGitHub, createOctokit, parseRepo } from "./octokit.ts";

const refSchema = z.object({ object: z.object({ sha: z.string() }) });
const treeSchema = z.object({
  tree: z.array(z.object({ path: z.string(), type: z.string(), sha: z.string(), size: z.number().optional() })),
  truncated: z.boolean().optional(),
});
const blobSchema = z.object({ content: z.string(), encoding: z.string() });

/** Text files larger than this are not read: a post is a few kilobytes, and a skill only needs a sample. */
export const MAX_TEXT_BYTES = 512 * 1024;

export function createRepoReader(
  target: { repo: string; base: string; dir: string },
  options: { env: Env; signal: AbortSignal; log: Logger },
): TargetRepository {
  const { owner, repo } = parseRepo(target.repo);
  const where = `${owner}/${repo}`;
  let octokit: ReturnType<typeof createOctokit> | undefined;
  const client = () => (octokit ??= createOctokit({ env: options.env, signal: options.signal, log: options.log }));
  const context = { signal: options.signal, secret: options.env.GITHUB_TOKEN };
  return {
    repo: target.repo,
    base: target.base,
    dir: target.dir,
    async head() {
      const ref = await callGitHub(
        `reading branch ${target.base} of ${where}`,
        refSchema,
        () => client().git.getRef({ owner, repo, ref: `heads/${target.base}` }),
        context,
      );
      return ref.object.sha;
    },
    async files(commit: string, under = target.dir): Promise<RepositoryFile[]> {
      // GitHub reads a commit's sha as its tree: one request, not a commit read first.
      const tree = await callGitHub(
        `listing the files of ${where}`,
        treeSchema,
        () => client().git.getTree({ owner, repo, tree_sha: commit, recursive: "1" }),
        context,
      );
      if (tree.truncated)
        options.log.warn({ repo: where }, "GitHub truncated the repository's tree; only part of it was read");
      const prefix = under.replace(/^\/+|\/+$/g, "");
      return tree.tree
        .filter((entry) => entry.type === "blob" && (prefix === "" || entry.path.startsWith(`${prefix}/`)))
        .map((entry) => ({ path: entry.path, sha: entry.sha, size: entry.size ?? 0 }));
    },
    async text(file: RepositoryFile) {
      if (file.size > MAX_TEXT_BYTES)
        throw new Error(`${file.path} has ${file.size} bytes; files over ${MAX_TEXT_BYTES} are not read`);
      const blob = await callGitHub(
        `reading ${file.path} of ${where}`,
        blobSchema,
        () => client().git.getBlob({ owner, repo, file_sha: file.sha }),
        context,
      );
      return blob.encoding === "base64" ? Buffer.from(blob.content, "base64").toString("utf8") : blob.content;
    },
  };
}
