/**
 * @module blog-autopilot/blog-repo — the blog's profile for this run: learned from the repository
 * of the job's `github-pr` delivery (its `dir`), once per run (a memoized step) and kept in the
 * job's state until the base branch moves, so an unchanged blog costs one request per run.
 */
import { randomBytes } from "node:crypto";
import { z } from "sundial";
import type { SkillContext } from "sundial";
import { learnBlog, postsToRead, type BlogProfile } from "./learn.ts";

export const PROFILE_KEY = "blog-profile";
/** Bumped when the profile's shape or what is learned changes: an older cached profile is learned again. */
const VERSION = 1;
/** Posts read to learn from: enough for the tag vocabulary and related posts, few requests. */
export const MAX_POSTS_READ = 30;

export interface LearnedBlog {
  /** Where it was learned: the repository, its folder and the base branch's head commit. */
  repo: string;
  dir: string;
  head: string;
  profile: BlogProfile | null;
  /** A token for the fence around the blog's excerpts, stable while the profile is, so the system prompt stays cacheable. */
  fence: string;
}

const cached = z.object({
  version: z.literal(VERSION),
  learned: z.custom<LearnedBlog>((value) => typeof value === "object" && value !== null && "head" in value),
});

type Ctx = Pick<SkillContext, "step" | "state" | "sources" | "log" | "parallel">;

/**
 * The blog learned from the first `github-pr` delivery's repository, or null when the job has none
 * (or learning is turned off). A repository that cannot be read fails the step: the articles would
 * otherwise come in the wrong shape, which is what learning is for.
 */
export function learnedBlog(ctx: Ctx, enabled: boolean): Promise<LearnedBlog | null> {
  const repository = enabled ? ctx.sources.targetRepositories?.()[0] : undefined;
  if (!repository) return Promise.resolve(null);
  return ctx.step("blog:learn", async () => {
    const head = await repository.head();
    const stored = cached.safeParse(ctx.state.get(PROFILE_KEY));
    if (
      stored.success &&
      stored.data.learned.head === head &&
      stored.data.learned.repo === repository.repo &&
      stored.data.learned.dir === repository.dir
    ) {
      return stored.data.learned;
    }
    const files = await repository.files(head);
    const paths = files.map((file) => file.path);
    const toRead = new Set(postsToRead(repository.dir, paths, MAX_POSTS_READ));
    const posts = await ctx.parallel(
      files.filter((file) => toRead.has(file.path)),
      async (file) => ({ path: file.path, text: await repository.text(file) }),
      { concurrency: 4 },
    );
    const learned: LearnedBlog = {
      repo: repository.repo,
      dir: repository.dir,
      head,
      profile: learnBlog(repository.dir, paths, posts),
      fence: randomBytes(12).toString("hex"),
    };
    await ctx.state.set(PROFILE_KEY, { version: VERSION, learned });
    ctx.log.info(
      { repo: repository.repo, dir: repository.dir, head, posts: posts.length, learned: learned.profile !== null },
      "learned the blog from its repository",
    );
    return learned;
  });
}
