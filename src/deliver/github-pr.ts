/**
 * @module github-pr — delivers each output as one pull request: its own branch, all its files in
 * one commit under the target's `dir`, labels and draft as configured. Delivering the same output
 * again updates its open pull request instead of opening a second one, unless someone pushed to its
 * branch: then their commits stay, Sundial only comments, and the pull request counts as delivered.
 */
import { z } from "zod";
import { MissingCredentialError, NonRetryableError, ServiceError } from "../errors.ts";
import type { Octokit } from "../integrations/github/octokit.ts";
import { GITHUB, parseRepo } from "../integrations/github/repo-name.ts";
import { once } from "../integrations/lazy.ts";
import { confinePath } from "../integrations/github/safe-path.ts";
import { slugify } from "../util/slug.ts";
import { imageType } from "../util/image-type.ts";
import type { DeliveryAdapter, DeliveryContext, Output, Receipt } from "../types.ts";
import { defineDelivery } from "./define.ts";

export const GITHUB_PR = "github-pr";
/** GitHub refuses a pull request body longer than this many characters. */
export const PR_BODY_LIMIT = 65_536;

const schema = z.strictObject({
  to: z.literal(GITHUB_PR),
  repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, { message: 'expected "owner/name"' }),
  base: z.string().min(1).default("main"),
  dir: z.string().min(1).default("content/posts"),
  labels: z.array(z.string().min(1)).default([]),
  draft: z.boolean().default(false),
  branchPrefix: z
    .string()
    .regex(/^[\w.-]+$/)
    .optional(),
});
type GitHubPrTarget = z.output<typeof schema>;

interface PullRequestPlan {
  owner: string;
  repo: string;
  base: string;
  branch: string;
  title: string;
  body: string;
  files: { path: string; content: string | Uint8Array }[];
}

const sha = z.object({ sha: z.string() });
const refSchema = z.object({ object: sha });
const commitSchema = z.object({ sha: z.string(), tree: sha });
const pullSchema = z.object({ number: z.number(), html_url: z.string() });

/** Octokit, imported on the first delivery (or `prepare`), not by every command that loads the target registry. */
const loadOctokit = once(() => import("../integrations/github/octokit.ts"));

/** Base branches read, by run: every pull request of one run starts from the same base commit. */
const BASES_KEPT = 32;

export function githubPrDelivery(options: { throttle?: boolean } = {}): DeliveryAdapter<GitHubPrTarget> {
  const bases = new Map<string, Promise<Base>>();
  /** The base of this run's pull requests on `plan`'s repository, read once per run (two requests fewer per later PR). */
  const baseFor = (session: Session, ctx: DeliveryContext): Promise<Base> => {
    const key = [ctx.runId, ctx.env.GITHUB_API_URL ?? "", session.where, session.plan.base].join("\u0000");
    let base = bases.get(key);
    if (!base) {
      base = readBase(session);
      bases.set(key, base);
      base.catch(() => bases.delete(key));
      if (bases.size > BASES_KEPT) bases.delete(bases.keys().next().value as string);
    }
    return base;
  };
  return {
    name: GITHUB_PR,
    async prepare() {
      await loadOctokit();
    },
    async deliver(output, target, ctx) {
      ctx.signal.throwIfAborted();
      const plan = planPullRequest(output, target, ctx);
      const token = ctx.env.GITHUB_TOKEN;
      if (!token)
        throw new MissingCredentialError({
          service: GITHUB,
          variable: "GITHUB_TOKEN",
          why: `a ${GITHUB_PR} delivery needs a token that can push to ${target.repo}`,
        });
      const { callGitHub, createOctokit } = await loadOctokit();
      const octokit = createOctokit({ env: ctx.env, signal: ctx.signal, log: ctx.log, throttle: options.throttle });
      const call: Call = (doing, schema, fn) => callGitHub(doing, schema, fn, { signal: ctx.signal, secret: token });
      const session = { octokit, call, plan, where: `${plan.owner}/${plan.repo}` };
      // Whether a pull request is already open does not depend on the commit: ask both at once.
      const message = `${output.title}\n\n${SIGNATURE} (job ${ctx.job}, run ${ctx.runId}).`;
      const [{ commit, edited }, existing] = await Promise.all([
        commitFiles(session, baseFor(session, ctx), message),
        findOpenPull(session),
      ]);
      const { owner, repo, branch } = plan;
      if (edited && existing) {
        // Someone pushed to the branch: their work stands, untouched; the pull request is delivered as it is.
        const number = existing.number;
        const note = `Sundial wrote a new version of this output (job \`${ctx.job}\`, run ${ctx.runId}) but did not push it: this branch has commits Sundial did not write, and they are kept as they are.`;
        await call(`commenting on pull request #${number} in ${session.where}`, z.object({ id: z.number() }), () =>
          octokit.issues.createComment({ owner, repo, issue_number: number, body: note }),
        );
        ctx.log.info(
          { pr: number, branch, head: commit },
          "GitHub pull request has commits Sundial did not write; left them and commented",
        );
        return {
          to: GITHUB_PR,
          url: existing.html_url,
          detail: { number, branch, commit, updated: false, edited: true },
        } satisfies Receipt;
      }
      const { pull, updated } = await openOrUpdatePull(session, target.draft, existing);
      const number = pull.number;
      if (target.labels.length) {
        await call(`labelling pull request #${number} in ${session.where}`, z.array(z.unknown()), () =>
          octokit.issues.addLabels({ owner, repo, issue_number: number, labels: target.labels }),
        );
      }
      ctx.log.info(
        { pr: number, branch, commit, updated },
        updated ? "updated GitHub pull request" : "opened GitHub pull request",
      );
      return {
        to: GITHUB_PR,
        url: pull.html_url,
        detail: { number, branch, commit, updated, ...(edited ? { edited } : {}) },
      } satisfies Receipt;
    },
    async preview(output, target, ctx) {
      const plan = planPullRequest(output, target, ctx);
      const files = plan.files.map(
        (file) =>
          `--- ${file.path}\n${typeof file.content === "string" ? file.content : `<${file.content.byteLength} bytes, ${mediaType(file.content)}>`}`,
      );
      return [
        `GitHub pull request on ${plan.owner}/${plan.repo}: ${plan.branch} → ${plan.base}${target.draft ? " (draft)" : ""}`,
        `Labels: ${target.labels.join(", ") || "none"}`,
        `Title: ${plan.title}`,
        `Body:\n${plan.body}`,
        `Files (one commit):\n${files.join("\n")}`,
      ].join("\n\n");
    },
  };
}

type Call = <T>(doing: string, schema: z.ZodType<T>, fn: () => Promise<{ data: unknown }>) => Promise<T>;
interface Session {
  octokit: Octokit;
  call: Call;
  plan: PullRequestPlan;
  where: string;
}

const alreadyExists = (error: unknown) =>
  error instanceof ServiceError && error.status === 422 && /already exists/i.test(error.message);

interface Base {
  sha: string;
  tree: string;
}

/** The base branch's head commit and its tree. */
async function readBase({ octokit, call, plan, where }: Session): Promise<Base> {
  const { owner, repo, base } = plan;
  const ref = await call(`reading branch ${base} of ${where}`, refSchema, () =>
    octokit.git.getRef({ owner, repo, ref: `heads/${base}` }),
  );
  const commit = await call(`reading commit ${ref.object.sha} of ${where}`, commitSchema, () =>
    octokit.git.getCommit({ owner, repo, commit_sha: ref.object.sha }),
  );
  return { sha: ref.object.sha, tree: commit.tree.sha };
}

/** Ends the message of every commit Sundial writes: how it knows a branch head as its own. */
const SIGNATURE = "Written by Sundial";
const OWN_COMMIT = new RegExp(`\\n\\n${SIGNATURE} \\(job [^\\n]+, run \\d+\\)\\.$`);

/**
 * All files in one commit on top of `base`, on the output's branch: a new branch, or one whose head
 * Sundial wrote, is set to it (force: the branch holds exactly this output). A branch whose head
 * someone else wrote (a reviewer's fix) is never overwritten: it stays as it is (`edited`).
 */
async function commitFiles(
  session: Session,
  base: Promise<Base>,
  message: string,
): Promise<{ commit: string; edited: boolean }> {
  const { octokit, call, plan, where } = session;
  const { owner, repo, branch } = plan;
  // A text file goes inside the tree request (GitHub writes its blob): one round trip fewer per
  // pull request. Binary files are uploaded as blobs, while the base is read (they do not depend on it).
  const entry = { mode: "100644" as const, type: "blob" as const };
  const upload = (file: PullRequestPlan["files"][number]) =>
    typeof file.content === "string"
      ? Promise.resolve({ path: file.path, ...entry, content: file.content })
      : call(`uploading ${file.path} to ${where}`, sha, () =>
          octokit.git.createBlob({ owner, repo, ...blobContent(file.content) }),
        ).then((blob) => ({ path: file.path, ...entry, sha: blob.sha }));
  const [{ sha: baseSha, tree: baseTree }, tree] = await Promise.all([base, Promise.all(plan.files.map(upload))]);
  const newTree = await call(`writing the tree for ${branch} in ${where}`, sha, () =>
    octokit.git.createTree({ owner, repo, base_tree: baseTree, tree }),
  );
  const commit = await call(`committing to ${branch} in ${where}`, sha, () =>
    octokit.git.createCommit({ owner, repo, message, tree: newTree.sha, parents: [baseSha] }),
  );
  try {
    await call(`creating branch ${branch} in ${where}`, z.unknown(), () =>
      octokit.git.createRef({ owner, repo, ref: `refs/heads/${branch}`, sha: commit.sha }),
    );
    return { commit: commit.sha, edited: false };
  } catch (error) {
    if (!alreadyExists(error)) throw error;
  }
  // Read just before the write, to keep the window for a push in between as small as the API allows.
  const head = await call(`reading branch ${branch} of ${where}`, refSchema, () =>
    octokit.git.getRef({ owner, repo, ref: `heads/${branch}` }),
  );
  const headCommit = await call(
    `reading commit ${head.object.sha} of ${where}`,
    z.object({ message: z.string() }),
    () => octokit.git.getCommit({ owner, repo, commit_sha: head.object.sha }),
  );
  if (!OWN_COMMIT.test(headCommit.message)) return { commit: head.object.sha, edited: true };
  await call(`updating branch ${branch} in ${where}`, z.unknown(), () =>
    octokit.git.updateRef({ owner, repo, ref: `heads/${branch}`, sha: commit.sha, force: true }),
  );
  return { commit: commit.sha, edited: false };
}

type Pull = z.infer<typeof pullSchema>;

/** The open pull request from the output's branch, if any. */
function findOpenPull({ octokit, call, plan, where }: Session): Promise<Pull | undefined> {
  const { owner, repo, branch } = plan;
  return call(`looking for an open pull request from ${branch} in ${where}`, z.array(pullSchema), () =>
    octokit.pulls.list({ owner, repo, state: "open", head: `${owner}:${branch}`, per_page: 5 }),
  ).then((pulls) => pulls[0]);
}

/** The open pull request from the branch (`existing`), updated, or a new one: never two for one branch. */
async function openOrUpdatePull(
  session: Session,
  draft: boolean,
  existing: Pull | undefined,
): Promise<{ pull: Pull; updated: boolean }> {
  const { octokit, call, plan, where } = session;
  const { owner, repo, base, branch, title, body } = plan;
  const update = async (number: number) => ({
    pull: await call(`updating pull request #${number} in ${where}`, pullSchema, () =>
      octokit.pulls.update({ owner, repo, pull_number: number, title, body }),
    ),
    updated: true,
  });
  if (existing) return update(existing.number);
  try {
    const pull = await call(`opening a pull request from ${branch} in ${where}`, pullSchema, () =>
      octokit.pulls.create({ owner, repo, head: branch, base, title, body, draft }),
    );
    return { pull, updated: false };
  } catch (error) {
    // Another attempt opened it meanwhile, or an earlier try of ours worked but was answered 5xx.
    const raced = alreadyExists(error) ? await findOpenPull(session) : undefined;
    if (!raced) throw error;
    return update(raced.number);
  }
}

/** Everything the pull request will hold, checked before anything is sent. */
function planPullRequest(
  output: Output,
  target: GitHubPrTarget,
  ctx: Pick<DeliveryContext, "job" | "runId">,
): PullRequestPlan {
  const { owner, repo } = parseRepo(target.repo);
  const slug = slugify(output.slug ?? output.title);
  const branch = `${target.branchPrefix ?? "sundial"}/${ctx.job}/${slug}`;
  if (!isBranchName(branch))
    throw new NonRetryableError(`${GITHUB}: "${branch}" is not a valid branch name; check branchPrefix`);
  const given = output.files?.length ? output.files : [{ path: `${slug}.md`, content: output.markdown }];
  const files = given.map((file) => ({ path: confinePath(target.dir, file.path), content: file.content }));
  const duplicate = files.find((file, index) => files.findIndex((other) => other.path === file.path) !== index);
  if (duplicate)
    throw new NonRetryableError(`${GITHUB}: two files of "${output.title}" would both be written to ${duplicate.path}`);
  const title = output.title.replace(/\s+/g, " ").trim().slice(0, 256) || slug;
  return { owner, repo, base: target.base, branch, title, body: pullRequestBody(output, ctx), files };
}

/** Summary, markdown and links, within GitHub's limit (saying so when cut), pinging nobody. */
export function pullRequestBody(output: Output, ctx: Pick<DeliveryContext, "job" | "runId">): string {
  const parts = [output.summary, output.markdown].filter((part): part is string => Boolean(part?.trim()));
  if (output.links?.length) parts.push(output.links.map((link) => `- [${link.title}](${link.url})`).join("\n"));
  const footer = `\n\n---\nOpened by Sundial (job \`${ctx.job}\`, run ${ctx.runId}).`;
  // A zero-width space after "@" keeps model-written @mentions from notifying strangers.
  const text = parts.join("\n\n").replace(/(^|[^\w`])@(?=[A-Za-z0-9])/g, "$1@\u200b") + footer;
  if (text.length <= PR_BODY_LIMIT) return text;
  const notice = `\n\n…\n\n> **Truncated:** this description had ${text.length.toLocaleString("en-US")} characters and GitHub allows ${PR_BODY_LIMIT.toLocaleString("en-US")}; the full text is in the files of this pull request.${footer}`;
  let kept = text.slice(0, PR_BODY_LIMIT - notice.length);
  if (/[\uD800-\uDBFF]$/.test(kept)) kept = kept.slice(0, -1);
  return kept + notice;
}

function blobContent(content: string | Uint8Array): { content: string; encoding: "utf-8" | "base64" } {
  return typeof content === "string"
    ? { content, encoding: "utf-8" }
    : { content: Buffer.from(content).toString("base64"), encoding: "base64" };
}

/** git check-ref-format's rules, as far as Sundial's own names can break them. */
function isBranchName(branch: string): boolean {
  return /^[A-Za-z0-9._/-]+$/.test(branch) && !/(^|\/)\.|\.\.|\/\/|\.lock(\/|$)|[/.]$/.test(branch);
}

function mediaType(bytes: Uint8Array): string {
  return imageType(bytes)?.mediaType ?? "application/octet-stream";
}

export const githubPrDefinition = defineDelivery({
  name: GITHUB_PR,
  schema,
  notForAlerts: "alerts cannot open pull requests",
  requiredEnv: () => ["GITHUB_TOKEN"],
  create: () => githubPrDelivery(),
});
