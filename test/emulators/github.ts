/**
 * @module emulators/github — a loopback GitHub REST API as Octokit sees it: git data (refs, blobs,
 * trees, commits), pull requests, labels and releases, with token auth, GitHub's error bodies,
 * percent-encoded ref paths, ref names checked as git check-ref-format does, request recording and
 * fault injection (status, retry-after, delay, malformed body, the 403 secondary rate limit). Trees
 * are kept flat (path → blob), which is all the REST surface shows; trees and blobs can be read back
 * (GET git/trees/{sha}?recursive=1, GET git/blobs/{sha}) as a repository reader does.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export interface RecordedRequest {
  method: string;
  /** Decoded path without the query, e.g. /repos/acme/blog/git/ref/heads/main. */
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage["headers"];
  body: unknown;
  /** True when the client closed the connection before the answer was sent (an abort or a timeout). */
  closedEarly?: boolean;
}

export interface Fault {
  status?: number;
  retryAfter?: number;
  /** Sent with a JSON content type: an object is serialised, a string is sent as is (malformed). */
  body?: unknown;
  delayMs?: number;
  /** Only requests whose path contains this take the fault; others pass. */
  path?: string;
  /** Only requests with this method take the fault. */
  method?: string;
}

export interface EmulatedCommit {
  sha: string;
  tree: string;
  parents: string[];
  message: string;
}
export interface EmulatedPull {
  number: number;
  title: string;
  body: string | null;
  state: "open" | "closed";
  draft: boolean;
  head: string;
  base: string;
  labels: string[];
  createdAt: string;
  updatedAt: string;
  mergedAt: string | null;
}
export interface EmulatedRelease {
  id: number;
  tagName: string;
  name: string | null;
  body: string | null;
  draft: boolean;
  createdAt: string;
  publishedAt: string | null;
}

type Body = Record<string, unknown>;
type Reply = { status: number; body: unknown };
const DOCS = "https://docs.github.com/rest";
const reply = (status: number, body: unknown): Reply => ({ status, body });
const fail = (status: number, message: string, extra: object = {}): Reply =>
  reply(status, { message, ...extra, documentation_url: DOCS, status: String(status) });
const notFound = () => fail(404, "Not Found");
const invalid = (message: string) => fail(422, message);
const isoNow = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");

/** git check-ref-format's rules for a full ref name (refs/heads/…), as GitHub applies them. */
export function isValidRefName(ref: string): boolean {
  if (
    ref === "@" ||
    ref.endsWith("/") ||
    ref.endsWith(".") ||
    ref.includes("..") ||
    ref.includes("//") ||
    ref.includes("@{")
  )
    return false;
  // No control characters, space, ~ ^ : ? * [ or backslash anywhere.
  if ([...ref].some((char) => char <= " " || char === "\x7f") || /[~^:?*[\\]/.test(ref)) return false;
  return ref.split("/").every((part) => part !== "" && !part.startsWith(".") && !part.endsWith(".lock"));
}

export function gitSha(kind: string, content: Buffer | string): string {
  const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content);
  return createHash("sha1").update(`${kind} ${bytes.length}\0`).update(bytes).digest("hex");
}

function createRepo(owner: string, name: string, api: string, defaultBranch: string, files: Record<string, string>) {
  const refs = new Map<string, string>();
  const commits = new Map<string, EmulatedCommit>();
  const trees = new Map<string, Map<string, string>>();
  const blobs = new Map<string, Buffer>();
  const pulls: EmulatedPull[] = [];
  const labels = new Set<string>();
  const releases: EmulatedRelease[] = [];
  const comments: { id: number; number: number; body: string }[] = [];
  let counter = 0;
  const repoApi = `${api}/repos/${owner}/${name}`;
  const web = `https://github.com/${owner}/${name}`;

  const putBlob = (bytes: Buffer) => {
    const sha = gitSha("blob", bytes);
    blobs.set(sha, bytes);
    return sha;
  };
  const putTree = (entries: Map<string, string>) => {
    const sha = gitSha("tree", JSON.stringify([...entries].sort(([a], [b]) => a.localeCompare(b))));
    trees.set(sha, entries);
    return sha;
  };
  const putCommit = (tree: string, parents: string[], message: string) => {
    const sha = gitSha("commit", `${tree} ${parents.join(",")} ${message} ${++counter}`);
    commits.set(sha, { sha, tree, parents, message });
    return sha;
  };
  const isAncestor = (ancestor: string, sha: string | undefined): boolean =>
    sha !== undefined &&
    (sha === ancestor || (commits.get(sha)?.parents ?? []).some((parent) => isAncestor(ancestor, parent)));
  const commitJson = (c: EmulatedCommit) => ({
    sha: c.sha,
    node_id: `C_${c.sha.slice(0, 12)}`,
    url: `${repoApi}/git/commits/${c.sha}`,
    html_url: `${web}/commit/${c.sha}`,
    message: c.message,
    tree: { sha: c.tree, url: `${repoApi}/git/trees/${c.tree}` },
    parents: c.parents.map((sha) => ({ sha, url: `${repoApi}/git/commits/${sha}`, html_url: `${web}/commit/${sha}` })),
    author: { name: "Sundial", email: "sundial@example.org", date: isoNow() },
    committer: { name: "GitHub", email: "noreply@github.com", date: isoNow() },
  });
  const refJson = (ref: string) => ({
    ref: `refs/${ref}`,
    node_id: `REF_${ref}`,
    url: `${repoApi}/git/refs/${ref}`,
    object: { sha: refs.get(ref), type: "commit", url: `${repoApi}/git/commits/${refs.get(ref)}` },
  });
  const labelJson = (label: string) => ({
    id: [...labels].indexOf(label) + 1,
    node_id: `LA_${label}`,
    url: `${repoApi}/labels/${encodeURIComponent(label)}`,
    name: label,
    color: "ededed",
    default: false,
    description: null,
  });
  const pullJson = (p: EmulatedPull) => ({
    url: `${repoApi}/pulls/${p.number}`,
    id: 1000 + p.number,
    node_id: `PR_${p.number}`,
    number: p.number,
    html_url: `${web}/pull/${p.number}`,
    state: p.state,
    locked: false,
    title: p.title,
    body: p.body,
    draft: p.draft,
    user: { login: "sundial-bot" },
    labels: p.labels.map(labelJson),
    head: { label: `${owner}:${p.head}`, ref: p.head, sha: refs.get(`heads/${p.head}`) ?? null },
    base: { label: `${owner}:${p.base}`, ref: p.base, sha: refs.get(`heads/${p.base}`) ?? null },
    created_at: p.createdAt,
    updated_at: p.updatedAt,
    closed_at: p.state === "closed" ? p.updatedAt : null,
    merged_at: p.mergedAt,
  });
  const releaseJson = (r: EmulatedRelease) => ({
    url: `${repoApi}/releases/${r.id}`,
    html_url: `${web}/releases/tag/${r.tagName}`,
    id: r.id,
    tag_name: r.tagName,
    name: r.name,
    body: r.body,
    draft: r.draft,
    prerelease: false,
    created_at: r.createdAt,
    published_at: r.publishedAt,
    author: { login: "octocat" },
  });
  const page = <T>(items: T[], query: Record<string, string>) => {
    const perPage = Math.min(100, Number(query.per_page ?? 30));
    const start = (Number(query.page ?? 1) - 1) * perPage;
    return items.slice(start, start + perPage);
  };

  function addPull(pull: Partial<EmulatedPull> & { title: string }): EmulatedPull {
    const created = {
      number: pulls.length + 1,
      body: null,
      state: "open" as const,
      draft: false,
      head: `feature-${pulls.length + 1}`,
      base: defaultBranch,
      labels: [],
      createdAt: isoNow(),
      updatedAt: isoNow(),
      mergedAt: null,
      ...pull,
    };
    pulls.push(created);
    return created;
  }
  function addRelease(release: Partial<EmulatedRelease> & { tagName: string }): EmulatedRelease {
    const created = {
      id: 5000 + releases.length,
      name: release.tagName,
      body: null,
      draft: false,
      createdAt: isoNow(),
      publishedAt: isoNow(),
      ...release,
    };
    releases.push(created);
    return created;
  }

  const initial = new Map(Object.entries(files).map(([path, text]) => [path, putBlob(Buffer.from(text))]));
  refs.set(`heads/${defaultBranch}`, putCommit(putTree(initial), [], "Initial commit"));

  return {
    owner,
    name,
    defaultBranch,
    refs,
    commits,
    trees,
    blobs,
    pulls,
    labels,
    releases,
    comments,
    /** A commit by someone else (a reviewer) on top of `branch`, changing `files`; returns its sha. */
    push(branch: string, files: Record<string, string>, message = "Reviewer's fix"): string {
      const head = refs.get(`heads/${branch}`) as string;
      const entries = new Map(trees.get((commits.get(head) as EmulatedCommit).tree));
      for (const [path, text] of Object.entries(files)) entries.set(path, putBlob(Buffer.from(text)));
      const sha = putCommit(putTree(entries), [head], message);
      refs.set(`heads/${branch}`, sha);
      return sha;
    },
    /** Whether `ancestor` is in the history of `branch`. */
    inHistory: (branch: string, ancestor: string) => isAncestor(ancestor, refs.get(`heads/${branch}`)),
    /** The files the branch's head commit holds, path → bytes (undefined when the branch is absent). */
    files(branch: string): Map<string, Buffer> | undefined {
      const commit = commits.get(refs.get(`heads/${branch}`) ?? "");
      const tree = commit ? trees.get(commit.tree) : undefined;
      return tree ? new Map([...tree].map(([path, sha]) => [path, blobs.get(sha) as Buffer])) : undefined;
    },
    addPull,
    addRelease,
    getRef: (ref: string) => (refs.has(ref) ? reply(200, refJson(ref)) : notFound()),
    createRef(body: Body): Reply {
      const ref = String(body.ref ?? "");
      if (!/^refs\/[^/]+\/.+/.test(ref))
        return invalid("Reference name must start with 'refs/' and have at least two slashes.");
      if (!isValidRefName(ref)) return invalid(`${ref} is not a valid ref name.`);
      if (!commits.has(String(body.sha))) return invalid("Object does not exist");
      if (refs.has(ref.slice(5))) return invalid("Reference already exists");
      refs.set(ref.slice(5), String(body.sha));
      return reply(201, refJson(ref.slice(5)));
    },
    updateRef(ref: string, body: Body): Reply {
      if (!refs.has(ref)) return invalid("Reference does not exist");
      if (!commits.has(String(body.sha))) return invalid("Object does not exist");
      if (body.force !== true && !isAncestor(refs.get(ref) as string, String(body.sha)))
        return invalid("Update is not a fast forward");
      refs.set(ref, String(body.sha));
      return reply(200, refJson(ref));
    },
    createBlob(body: Body): Reply {
      const encoding = body.encoding ?? "utf-8";
      if (typeof body.content !== "string" || (encoding !== "utf-8" && encoding !== "base64"))
        return invalid("Invalid request.\n\nFor 'properties/encoding', is not one of utf-8, base64.");
      const sha = putBlob(Buffer.from(body.content, encoding === "base64" ? "base64" : "utf8"));
      return reply(201, { sha, url: `${repoApi}/git/blobs/${sha}` });
    },
    createTree(body: Body): Reply {
      const base = body.base_tree === undefined ? new Map<string, string>() : trees.get(String(body.base_tree));
      if (!base || !Array.isArray(body.tree)) return invalid("Invalid tree info");
      const entries = new Map(base);
      for (const entry of body.tree as Body[]) {
        const path = String(entry.path ?? "");
        if (
          path.startsWith("/") ||
          path.split("/").some((part) => ["", ".", ".."].includes(part) || part.toLowerCase() === ".git")
        )
          return invalid("GitHub: tree.path contains a malformed path component");
        if (!["100644", "100755", "120000"].includes(String(entry.mode)) || entry.type !== "blob")
          return invalid(`GitHub: tree.mode or tree.type is invalid for ${path}`);
        if (entry.sha === null) entries.delete(path);
        else if (typeof entry.content === "string") entries.set(path, putBlob(Buffer.from(entry.content)));
        else if (blobs.has(String(entry.sha))) entries.set(path, String(entry.sha));
        else return invalid(`GitHub: tree.sha ${String(entry.sha)} is not a valid blob`);
      }
      const sha = putTree(entries);
      const tree = [...entries].map(([path, blob]) => ({
        path,
        mode: "100644",
        type: "blob",
        sha: blob,
        size: blobs.get(blob)?.length,
        url: `${repoApi}/git/blobs/${blob}`,
      }));
      return reply(201, { sha, url: `${repoApi}/git/trees/${sha}`, tree, truncated: false });
    },
    /**
     * A tree as GET git/trees shows it: with `recursive`, every blob by its full path; else the top
     * level (folders as trees). A commit's sha stands for its tree, as on GitHub.
     */
    getTree(asked: string, query: Record<string, string>): Reply {
      const sha = commits.get(asked)?.tree ?? asked;
      const entries = trees.get(sha);
      if (!entries) return notFound();
      const blobEntry = (path: string, blob: string) => ({
        path,
        mode: "100644",
        type: "blob",
        sha: blob,
        size: blobs.get(blob)?.length,
        url: `${repoApi}/git/blobs/${blob}`,
      });
      if (
        query.recursive !== undefined &&
        query.recursive !== "" &&
        query.recursive !== "0" &&
        query.recursive !== "false"
      ) {
        return reply(200, {
          sha,
          url: `${repoApi}/git/trees/${sha}`,
          tree: [...entries].sort(([a], [b]) => a.localeCompare(b)).map(([path, blob]) => blobEntry(path, blob)),
          truncated: false,
        });
      }
      const top = new Map<string, object>();
      for (const [path, blob] of entries) {
        const [first = "", ...rest] = path.split("/");
        if (rest.length === 0) top.set(first, blobEntry(first, blob));
        else if (!top.has(first))
          top.set(first, {
            path: first,
            mode: "040000",
            type: "tree",
            sha: gitSha("tree", `${sha}/${first}`),
            url: `${repoApi}/git/trees/${sha}`,
          });
      }
      return reply(200, { sha, url: `${repoApi}/git/trees/${sha}`, tree: [...top.values()], truncated: false });
    },
    getBlob(sha: string): Reply {
      const bytes = blobs.get(sha);
      if (!bytes) return notFound();
      return reply(200, {
        sha,
        node_id: `B_${sha.slice(0, 12)}`,
        size: bytes.length,
        url: `${repoApi}/git/blobs/${sha}`,
        content: bytes.toString("base64").replace(/(.{60})/g, "$1\n"),
        encoding: "base64",
      });
    },
    getCommit: (sha: string) =>
      commits.has(sha) ? reply(200, commitJson(commits.get(sha) as EmulatedCommit)) : notFound(),
    createCommit(body: Body): Reply {
      const parents = Array.isArray(body.parents) ? body.parents.map(String) : [];
      if (typeof body.message !== "string") return invalid('Invalid request.\n\n"message" wasn\'t supplied.');
      if (!trees.has(String(body.tree))) return invalid("Tree SHA does not exist");
      if (parents.some((sha) => !commits.has(sha)))
        return invalid("Parent SHA does not exist or is not a commit object");
      return reply(201, commitJson(commits.get(putCommit(String(body.tree), parents, body.message)) as EmulatedCommit));
    },
    listPulls(query: Record<string, string>): Reply {
      const [headOwner, headBranch] = query.head?.includes(":") ? query.head.split(":") : [owner, query.head];
      const state = query.state ?? "open";
      const sortKey = query.sort === "updated" ? "updatedAt" : "createdAt";
      const direction = query.direction ?? (query.sort === undefined || query.sort === "created" ? "desc" : "asc");
      const found = pulls
        .filter((p) => (state === "all" || p.state === state) && (!query.base || p.base === query.base))
        .filter((p) => !query.head || (headOwner?.toLowerCase() === owner.toLowerCase() && p.head === headBranch))
        .sort((a, b) => (direction === "asc" ? 1 : -1) * (a[sortKey].localeCompare(b[sortKey]) || a.number - b.number));
      return reply(200, page(found, query).map(pullJson));
    },
    createPull(body: Body): Reply {
      const head = String(body.head ?? "").replace(/^[^:]+:/, "");
      if (typeof body.title !== "string" || !body.title)
        return fail(422, "Validation Failed", {
          errors: [{ resource: "PullRequest", field: "title", code: "missing_field" }],
        });
      if (!refs.has(`heads/${head}`))
        return fail(422, "Validation Failed", {
          errors: [{ resource: "PullRequest", field: "head", code: "invalid" }],
        });
      if (!refs.has(`heads/${String(body.base)}`))
        return fail(422, "Validation Failed", {
          errors: [{ resource: "PullRequest", field: "base", code: "invalid" }],
        });
      if (pulls.some((p) => p.state === "open" && p.head === head)) {
        return fail(422, "Validation Failed", {
          errors: [
            { resource: "PullRequest", code: "custom", message: `A pull request already exists for ${owner}:${head}.` },
          ],
        });
      }
      const pull = addPull({
        title: body.title,
        body: typeof body.body === "string" ? body.body : null,
        head,
        base: String(body.base),
        draft: body.draft === true,
      });
      return reply(201, pullJson(pull));
    },
    updatePull(number: number, body: Body): Reply {
      const pull = pulls.find((p) => p.number === number);
      if (!pull) return notFound();
      if (typeof body.title === "string") pull.title = body.title;
      if (typeof body.body === "string") pull.body = body.body;
      if (body.state === "open" || body.state === "closed") pull.state = body.state;
      pull.updatedAt = isoNow();
      return reply(200, pullJson(pull));
    },
    addLabels(number: number, body: Body): Reply {
      const pull = pulls.find((p) => p.number === number);
      if (!pull) return notFound();
      if (!Array.isArray(body.labels) || body.labels.some((label) => typeof label !== "string"))
        return invalid("Invalid request.\n\nFor 'properties/labels', is not an array of strings.");
      for (const label of body.labels as string[]) {
        labels.add(label);
        if (!pull.labels.includes(label)) pull.labels.push(label);
      }
      return reply(200, pull.labels.map(labelJson));
    },
    addComment(number: number, body: Body): Reply {
      const pull = pulls.find((p) => p.number === number);
      if (!pull) return notFound();
      if (typeof body.body !== "string" || !body.body)
        return fail(422, "Validation Failed", {
          errors: [{ resource: "IssueComment", field: "body", code: "missing_field" }],
        });
      const comment = { id: 9000 + comments.length, number, body: body.body };
      comments.push(comment);
      return reply(201, {
        id: comment.id,
        node_id: `IC_${comment.id}`,
        url: `${repoApi}/issues/comments/${comment.id}`,
        html_url: `${web}/pull/${number}#issuecomment-${comment.id}`,
        body: comment.body,
        user: { login: "sundial-bot" },
      });
    },
    listReleases: (query: Record<string, string>) =>
      reply(
        200,
        page(
          [...releases].sort((a, b) => b.createdAt.localeCompare(a.createdAt)),
          query,
        ).map(releaseJson),
      ),
  };
}

export type GitHubRepoState = ReturnType<typeof createRepo>;
type Handler = (repo: GitHubRepoState, match: string[], request: RecordedRequest) => Reply;
const asBody = (request: RecordedRequest): Body =>
  request.body && typeof request.body === "object" ? (request.body as Body) : {};

const ROUTES: [string, RegExp, Handler][] = [
  ["GET", /^git\/ref\/(.+)$/, (repo, [ref]) => repo.getRef(ref as string)],
  ["PATCH", /^git\/refs\/(.+)$/, (repo, [ref], req) => repo.updateRef(ref as string, asBody(req))],
  ["POST", /^git\/refs$/, (repo, _, req) => repo.createRef(asBody(req))],
  ["POST", /^git\/blobs$/, (repo, _, req) => repo.createBlob(asBody(req))],
  ["POST", /^git\/trees$/, (repo, _, req) => repo.createTree(asBody(req))],
  ["GET", /^git\/trees\/([0-9a-f]{40})$/, (repo, [sha], req) => repo.getTree(sha as string, req.query)],
  ["GET", /^git\/blobs\/([0-9a-f]{40})$/, (repo, [sha]) => repo.getBlob(sha as string)],
  ["GET", /^git\/commits\/([0-9a-f]{40})$/, (repo, [sha]) => repo.getCommit(sha as string)],
  ["POST", /^git\/commits$/, (repo, _, req) => repo.createCommit(asBody(req))],
  ["GET", /^pulls$/, (repo, _, req) => repo.listPulls(req.query)],
  ["POST", /^pulls$/, (repo, _, req) => repo.createPull(asBody(req))],
  ["PATCH", /^pulls\/(\d+)$/, (repo, [n], req) => repo.updatePull(Number(n), asBody(req))],
  ["POST", /^issues\/(\d+)\/labels$/, (repo, [n], req) => repo.addLabels(Number(n), asBody(req))],
  ["POST", /^issues\/(\d+)\/comments$/, (repo, [n], req) => repo.addComment(Number(n), asBody(req))],
  ["GET", /^releases$/, (repo, _, req) => repo.listReleases(req.query)],
];

export async function startGitHubEmulator(options: { token?: string } = {}) {
  const token = options.token ?? "ghp_emulatorToken";
  const repos = new Map<string, GitHubRepoState>();
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];

  function route(request: RecordedRequest, authorization: string | undefined): Reply {
    if (/^(?:token|bearer) (.+)$/i.exec(authorization ?? "")?.[1] !== token) return fail(401, "Bad credentials");
    const match = /^\/repos\/([^/]+)\/([^/]+)\/(.+)$/.exec(request.path);
    const repo = match ? repos.get(`${match[1]}/${match[2]}`.toLowerCase()) : undefined;
    if (!match || !repo) return notFound();
    for (const [method, pattern, handler] of ROUTES) {
      const found = method === request.method ? pattern.exec(match[3] as string) : null;
      if (found) return handler(repo, found.slice(1), request);
    }
    return notFound();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    // Octokit percent-encodes path parameters ("heads%2Fsundial%2F…"): decode as GitHub does.
    const path = url.pathname.split("/").map(decodeURIComponent).join("/");
    const request: RecordedRequest = {
      method: req.method ?? "GET",
      path,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: undefined,
    };
    requests.push(request);
    res.on("close", () => {
      if (!res.writableFinished) request.closedEarly = true;
    });
    const headers: Record<string, string> = {
      "content-type": "application/json; charset=utf-8",
      "x-github-request-id": `EMU:${requests.length}`,
    };
    const index = faults.findIndex(
      (fault) => (!fault.path || path.includes(fault.path)) && (!fault.method || fault.method === request.method),
    );
    const fault = index >= 0 ? faults.splice(index, 1)[0] : undefined;
    if (fault?.delayMs) await sleep(fault.delayMs);
    if (fault && (fault.status !== undefined || fault.body !== undefined)) {
      if (fault.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
      const status = fault.status ?? 200;
      const body =
        typeof fault.body === "string"
          ? fault.body
          : JSON.stringify(fault.body ?? fail(status, status >= 500 ? "Server Error" : "Injected fault").body);
      res.writeHead(status, headers).end(body);
      return;
    }
    try {
      request.body = text ? JSON.parse(text) : undefined;
    } catch {
      const problem = fail(400, "Problems parsing JSON");
      res.writeHead(problem.status, headers).end(JSON.stringify(problem.body));
      return;
    }
    const answer = route(request, req.headers.authorization);
    res.writeHead(answer.status, headers).end(JSON.stringify(answer.body));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => res.writeHead(500).end(JSON.stringify({ message: String(error) })));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    token,
    repos,
    requests,
    /** Creates `owner/name` whose default branch holds `files` in one commit. */
    addRepo(
      fullName: string,
      files: Record<string, string> = { "README.md": "# Hello\n" },
      defaultBranch = "main",
    ): GitHubRepoState {
      const [owner = "", name = ""] = fullName.split("/");
      const repo = createRepo(owner, name, url, defaultBranch, files);
      repos.set(fullName.toLowerCase(), repo);
      return repo;
    },
    /** GitHub's secondary rate limit: the next `count` requests (matching `path`) answer 403 with `retry-after`. */
    secondaryRateLimit(count: number, retryAfterSeconds: number, match: Pick<Fault, "path" | "method"> = {}): void {
      const body = {
        message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits`,
        status: "403",
      };
      for (let i = 0; i < count; i++) faults.push({ status: 403, retryAfter: retryAfterSeconds, body, ...match });
    },
    /** The next `count` requests (whose path contains `fault.path`, if given) get this answer instead. */
    failNext(count: number, fault: Fault): void {
      for (let i = 0; i < count; i++) faults.push({ ...fault });
    },
    async close(): Promise<void> {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type GitHubEmulator = Awaited<ReturnType<typeof startGitHubEmulator>>;
