/** @module docker-replay — replays the image's build and start outside the repository (no Docker
 * engine needed), so a production dependency or file the Dockerfile forgets fails here, not in a container. */
import { spawn, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, posix, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
/** The user the replayed daemon runs as when the test runs as root ("nobody"). */
const NOBODY = 65534;

interface Stage {
  image: string;
  name: string | undefined;
  instructions: { keyword: string; args: string }[];
}

/** Stages in order. Enough of the syntax for our Dockerfile: continuations and comments, no heredocs. */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const line of text
    .replace(/\\\r?\n(?:[ \t]*#.*\r?\n)*/g, " ")
    .split(/\r?\n/)
    .map((l) => l.trim())) {
    const match = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match || line.startsWith("#")) continue;
    const [keyword, args] = [match[1]!.toUpperCase(), match[2]!.trim()];
    if (keyword === "FROM") {
      const [image = "", as, name] = args.split(/\s+/).filter((t) => !t.startsWith("--"));
      stages.push({ image, name: as?.toLowerCase() === "as" ? name : undefined, instructions: [] });
    } else stages.at(-1)?.instructions.push({ keyword, args });
  }
  return stages;
}

const stages = parseDockerfile(readFileSync(join(repoRoot, "Dockerfile"), "utf8"));
const finalStage = stages.at(-1)!;
const lastArgs = (stage: Stage, keyword: string) =>
  stage.instructions.filter((i) => i.keyword === keyword).at(-1)?.args;
const jsonArray = (args: string | undefined) => (args?.startsWith("[") ? (JSON.parse(args) as string[]) : undefined);

/** `ENV A=1 B="two"` lines of a stage, in order. */
const envOf = (stage: Stage) =>
  Object.fromEntries(
    stage.instructions
      .filter((i) => i.keyword === "ENV")
      .flatMap((i) =>
        [...i.args.matchAll(/([\w.]+)=("[^"]*"|\S*)/g)].map(([, name, value]) => [
          name!,
          value!.replace(/^"(.*)"$/, "$1"),
        ]),
      ),
  ) as Record<string, string>;

function parseCopy(args: string): { fromStage: string | undefined; sources: string[]; dest: string } {
  const tokens = jsonArray(args) ?? args.split(/\s+/);
  const paths = tokens.filter((t) => !t.startsWith("--"));
  return {
    fromStage: tokens.find((t) => t.startsWith("--from="))?.slice("--from=".length),
    sources: paths.slice(0, -1),
    dest: paths.at(-1)!,
  };
}

/** Docker's .dockerignore rule: the last pattern matching the path or one of its parents decides. */
function dockerignore(): (path: string) => boolean {
  const patterns = readFileSync(join(repoRoot, ".dockerignore"), "utf8")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((line) => {
      const glob = posix.normalize(line.replace(/^!/, "")).replace(/^\/+|\/+$/g, "");
      const body = glob
        .split(/(\*\*\/?|\*|\?)/)
        .map((part) =>
          part === "**/"
            ? "(?:.*/)?"
            : part === "**"
              ? ".*"
              : part === "*"
                ? "[^/]*"
                : part === "?"
                  ? "[^/]"
                  : part.replace(/[.+^${}()|[\]\\]/g, "\\$&"),
        );
      return { negate: line.startsWith("!"), regexp: new RegExp(`^${body.join("")}$`) };
    });
  return (path) => {
    const prefixes = path.split("/").map((_, i, parts) => parts.slice(0, i + 1).join("/"));
    return patterns.reduce(
      (ignored, { negate, regexp }) => (prefixes.some((p) => regexp.test(p)) ? !negate : ignored),
      false,
    );
  };
}

function exec(command: string, cwd: string, env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    // Same result, sooner: the lockfile pins each tarball's hash; JOBS lets node-gyp use every core.
    const child = spawn("sh", ["-c", command], {
      cwd,
      env: { ...process.env, npm_config_prefer_offline: "true", JOBS: "max", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    for (const stream of [child.stdout, child.stderr])
      stream.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child
      .on("error", reject)
      .on("close", (code) =>
        code === 0 ? resolve() : reject(new Error(`\`${command}\` exited ${code}:\n${output.slice(-4000)}`)),
      );
  });
}

/** The repository's better-sqlite3 binary (same Node and platform) as a local prebuild: `npm ci` unpacks
 * it, as the image's build downloads one, instead of compiling SQLite for minutes. Without it (or with
 * SUNDIAL_REPLAY_FROM_SOURCE=1, or another version) prebuild-install finds no match and it compiles. */
async function localPrebuilds(dir: string): Promise<Record<string, string>> {
  const pkg = join(repoRoot, "node_modules", "better-sqlite3");
  if (process.env.SUNDIAL_REPLAY_FROM_SOURCE || !existsSync(join(pkg, "build/Release/better_sqlite3.node"))) return {};
  const { version } = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")) as { version: string };
  const archive = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  await exec(`tar -czf ${archive} -C ${JSON.stringify(pkg)} build/Release/better_sqlite3.node`, dir);
  return { npm_config_better_sqlite3_local_prebuilds: dir };
}

/** Replays each stage in its own folder (standing for its WORKDIR): COPY from the context (minus
 * .dockerignore) or an earlier stage, and the `npm …` RUN lines; the others (apt-get, chown) set up
 * the Debian system and have nothing to replay here. */
async function replayImage(root: string): Promise<string> {
  const ignored = dockerignore();
  const npmEnv = await localPrebuilds(mkdtempSync(join(root, "prebuilds-")));
  const folders = new Map<Stage, { dir: string; workdir: string }>();
  for (const [index, stage] of stages.entries()) {
    const folder = { dir: join(root, `stage-${index}`), workdir: "/" };
    folders.set(stage, folder);
    mkdirSync(folder.dir);
    const inStage = (where: { dir: string; workdir: string }, path: string) => {
      const inside = posix.relative(where.workdir, posix.resolve(where.workdir, path));
      expect(
        inside.startsWith(".."),
        `${path} is outside the WORKDIR ${where.workdir}; this replay maps only the WORKDIR`,
      ).toBe(false);
      return join(where.dir, inside);
    };
    for (const { keyword, args } of stage.instructions) {
      if (keyword === "WORKDIR") folder.workdir = posix.resolve(folder.workdir, args);
      if (keyword === "RUN" && /^npm\s/.test(args)) await exec(args, folder.dir, npmEnv);
      if (keyword !== "COPY") continue;
      const { fromStage, sources, dest } = parseCopy(args);
      for (const source of sources) {
        expect(source, "keep COPY sources literal so this replay can follow them").not.toMatch(/[*?[]/);
        const target = inStage(folder, dest);
        if (fromStage !== undefined) {
          const from = folders.get(stages.find((s) => s.name === fromStage)!);
          expect(from, `COPY --from=${fromStage} names no earlier stage`).toBeDefined();
          renameSync(inStage(from!, source), target); // a move: node_modules is large
          continue;
        }
        const relativeSource = posix.normalize(source).replace(/\/+$/, "");
        const hostSource = join(repoRoot, relativeSource);
        expect(
          existsSync(hostSource),
          `the Dockerfile copies ${source}, which is not in the repository: docker build would fail`,
        ).toBe(true);
        expect(ignored(relativeSource), `the Dockerfile copies ${source}, which .dockerignore excludes`).toBe(false);
        const intoFolder = statSync(hostSource).isDirectory()
          ? target
          : dest.endsWith("/") || sources.length > 1
            ? join(target, basename(source))
            : target;
        cpSync(hostSource, intoFolder, {
          recursive: true,
          filter: (path) => !ignored(relative(repoRoot, path).split(sep).join("/")),
        });
      }
    }
  }
  return folders.get(finalStage)!.dir;
}

describe("the Dockerfile", () => {
  it("builds and runs on one Debian-based Node image", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(new Set(stages.map((s) => s.image)).size, "every FROM line must use the same base image").toBe(1);
    expect(finalStage.image).toMatch(/^node:\d+-(bookworm|trixie)-slim$/);
    expect(
      stages.flatMap((s) => s.instructions).some((i) => i.keyword === "RUN" && /^npm ci\b.*--omit=dev/.test(i.args)),
    ).toBe(true);
  });

  it("declares a non-root USER (the replay below runs it as one), keeps the ledger in a volume and checks /healthz", () => {
    expect(lastArgs(finalStage, "USER") ?? "root (no USER)").not.toMatch(/^(root|0)(:|$|\s)/);
    const env = envOf(finalStage);
    expect(env.SUNDIAL_DATA_DIR).toBe("/app/data");
    expect(lastArgs(finalStage, "VOLUME")).toMatch(/(^|[\s"[])\/app\/data(["\s\]]|$)/);
    expect(env.SUNDIAL_HTTP_HOST).toBe("0.0.0.0");
    expect(lastArgs(finalStage, "EXPOSE")).toBe("8787");
    expect(lastArgs(finalStage, "HEALTHCHECK")).toMatch(/CMD \["node", "-e", ".*127\.0\.0\.1.*\/healthz/);
  });

  it("copies the whole app: code, skills, schedules and the lockfile-installed node_modules", () => {
    const copies = finalStage.instructions.filter((i) => i.keyword === "COPY").map((i) => parseCopy(i.args));
    const fromContext = copies
      .filter((c) => !c.fromStage)
      .flatMap((c) => c.sources.map((x) => posix.normalize(x).replace(/\/$/, "")));
    expect(fromContext.sort()).toEqual([
      "bin",
      "package-lock.json",
      "package.json",
      "schedules.json",
      "schedules.schema.json",
      "skills",
      "src",
    ]);
    expect(copies.some((c) => c.fromStage && c.sources.some((x) => x.endsWith("/node_modules")))).toBe(true);
  });

  // What the text can prove: tini is not installed here, so the replay cannot run it as PID 1; it does
  // prove that node itself, the CMD, stops cleanly on the SIGTERM tini forwards.
  it("names tini as the entrypoint and node, not npm, as the command", () => {
    expect(jsonArray(lastArgs(finalStage, "ENTRYPOINT"))?.[0]).toMatch(/\/tini$/);
    expect(jsonArray(lastArgs(finalStage, "CMD"))).toEqual(["node", "bin/sundial.js", "start"]);
  });
});

describe("the image, replayed outside the repository", () => {
  let [root, volume, app] = ["", "", ""];
  let daemon: ChildProcess | undefined;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "sundial-image-"));
    volume = mkdtempSync(join(tmpdir(), "sundial-volume-")); // what the image mounts at /app/data
    // Node resolves packages up the tree: a node_modules above the copy would hide a missing one.
    for (let dir = root; dir !== dirname(dir); dir = dirname(dir))
      expect(existsSync(join(dirname(dir), "node_modules"))).toBe(false);
    app = await replayImage(root);
  }, 480_000); // room for a source build of better-sqlite3 on a busy machine (see localPrebuilds)

  afterAll(() => {
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) daemon.kill("SIGKILL");
    for (const dir of [root, volume]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("installs every production dependency and no development one", () => {
    const manifest = JSON.parse(readFileSync(join(app, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    for (const name of Object.keys(manifest.dependencies))
      expect(existsSync(join(app, "node_modules", name, "package.json")), name).toBe(true);
    for (const name of ["vitest", "typescript", "eslint"])
      expect(existsSync(join(app, "node_modules", name)), name).toBe(false);
  });

  it("compiles src/ to dist/ in `npm ci --omit=dev` (prepare), and the bin takes that build as src/'s", async () => {
    expect(existsSync(join(app, "dist", "cli", "main.js"))).toBe(true);
    expect(existsSync(join(app, "dist", "index.js"))).toBe(true);
    // The final stage copies src/ afresh (new modification times): the stamp's content hash still matches.
    const stamp = (await import(pathToFileURL(join(app, "bin", "dist-stamp.js")).href)) as { distIsFresh(): boolean };
    expect(stamp.distIsFresh()).toBe(true);
  });

  it("starts as the image's CMD as a non-root user with no API keys, answers /healthz 200 (degraded: jobs wait for keys), writes the ledger to the volume and stops on SIGTERM", async () => {
    const [command, ...args] = jsonArray(lastArgs(finalStage, "CMD"))!;
    expect(command).toBe("node");
    // As in the image: the app is root-owned and only readable to the daemon's user; the volume and
    // a home are that user's. Run as root (as CI containers do), the test drops to nobody (65534)
    // with setpriv; run as another user, it already is one.
    const asRoot = process.getuid?.() === 0;
    const home = mkdtempSync(join(tmpdir(), "sundial-home-"));
    if (asRoot) {
      chmodSync(root, 0o755);
      for (const dir of [volume, home]) chownSync(dir, NOBODY, NOBODY);
    }
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      ...envOf(finalStage),
      SUNDIAL_DATA_DIR: volume,
      SUNDIAL_HTTP_HOST: "127.0.0.1",
      SUNDIAL_HTTP_PORT: "0",
    };
    const guard = pathToFileURL(join(repoRoot, "test/setup/loopback-only.js")).href; // no internet from the daemon either
    const nodeArgs = ["--import", guard, ...args];
    const [file, argv] = asRoot
      ? ["setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", process.execPath, ...nodeArgs]]
      : [process.execPath, nodeArgs];
    const child = (daemon = spawn(file, argv, { cwd: app, env, stdio: ["ignore", "ignore", "pipe"] }));
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    // Complete JSON lines only: a chunk may end mid-line.
    const runningUrl = () =>
      stderr
        .split("\n")
        .slice(0, -1)
        .filter((line) => line.includes('"msg":"sundial is running"'))
        .map((line) => (JSON.parse(line) as { url: string }).url)[0];
    while (!runningUrl() && child.exitCode === null && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(runningUrl(), `the daemon did not report "sundial is running":\n${stderr.slice(-4000)}`).toBeDefined();
    const health = await fetch(`${runningUrl()}/healthz`);
    expect(health.status).toBe(200);
    // Healthy for Docker (200), and degraded: the shipped jobs wait for their API keys, and say so.
    const body = (await health.json()) as { checks: { jobs: { disabled: { reason: string }[] } } };
    expect(body).toMatchObject({
      status: "degraded",
      checks: {
        scheduler: { status: "ok" },
        ledger: { status: "ok" },
        config: { status: "ok" },
        jobs: { status: "degraded" },
      },
    });
    expect(body.checks.jobs.disabled.length).toBeGreaterThan(0);
    for (const job of body.checks.jobs.disabled) expect(job.reason).toContain("needs the environment variable");
    expect(existsSync(join(volume, "sundial.db"))).toBe(true);
    // The process that answered is not root (setpriv execs node in place: same pid).
    const uids = /^Uid:\s+(\d+)\s+(\d+)/m.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
    const [realUid, effectiveUid] = [Number(uids?.[1]), Number(uids?.[2])];
    expect(realUid).not.toBe(0);
    expect(effectiveUid).not.toBe(0);
    if (asRoot)
      expect([realUid, effectiveUid, statSync(join(volume, "sundial.db")).uid]).toEqual([NOBODY, NOBODY, NOBODY]);
    rmSync(home, { recursive: true, force: true });
    expect(existsSync(join(app, "data")), "nothing may be written outside the volume").toBe(false);
    child.kill("SIGTERM");
    const code = await Promise.race([
      exited,
      new Promise((r) => setTimeout(() => r("still running 45 s after SIGTERM"), 45_000)),
    ]);
    expect(code, stderr.slice(-4000)).toBe(0);
  }, 120_000);
});
