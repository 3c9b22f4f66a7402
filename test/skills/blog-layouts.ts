/**
 * @module blog-layouts — three real blog layouts as emulated repositories, each seeded with a few
 * posts written the way that generator's users write them: Hugo (TOML front matter, page bundles
 * with a `cover.jpg` inside), Jekyll (`_posts/YYYY-MM-DD-slug.md`, `layout: post`, Jekyll dates,
 * flow-style tags) and Astro (a content collection whose schema wants `pubDate` and `heroImage`).
 */

export interface BlogLayout {
  name: string;
  repo: string;
  dir: string;
  files: Record<string, string>;
  /** Slugs of the seeded posts. */
  slugs: string[];
  tags: string[];
}

const para = (topic: string) =>
  `I spent a weekend on ${topic} and it changed how I think about the small servers in my cupboard. The short version: fewer moving parts, more sleep.\n\nHere is what I tried first, and why it failed the moment the power went out.`;

export const HUGO: BlogLayout = {
  name: "Hugo (TOML, page bundles)",
  repo: "hugo/site",
  dir: "content/posts",
  slugs: ["restic-backups", "tailscale-at-home", "zfs-snapshots"],
  tags: ["backups", "homelab", "networking", "zfs"],
  files: {
    "hugo.toml": 'baseURL = "https://hugo.example.org/"\ntitle = "Cupboard servers"\n',
    "content/posts/_index.md": '+++\ntitle = "Posts"\n+++\n',
    "content/posts/restic-backups/index.md": `+++\ntitle = "Restic backups that restore"\ndate = 2026-10-02T09:00:00+02:00\ndraft = false\ntags = ["backups", "homelab"]\ncover = "cover.jpg"\nauthor = "Ada"\n+++\n\n${para("restic")}\n`,
    "content/posts/restic-backups/cover.jpg": "jpeg bytes",
    "content/posts/tailscale-at-home/index.md": `+++\ntitle = "Tailscale at home"\ndate = 2026-11-14T08:30:00+01:00\ndraft = false\ntags = ["networking", "homelab"]\ncover = "cover.jpg"\nauthor = "Ada"\n+++\n\n${para("tailscale")}\n`,
    "content/posts/tailscale-at-home/cover.jpg": "jpeg bytes",
    "content/posts/zfs-snapshots/index.md": `+++\ntitle = "ZFS snapshots, daily"\ndate = 2026-09-01T07:00:00+02:00\ndraft = false\ntags = ["zfs", "backups", "homelab"]\ncover = "cover.jpg"\nauthor = "Ada"\n+++\n\n${para("zfs")}\n`,
    "content/posts/zfs-snapshots/cover.jpg": "jpeg bytes",
  },
};

export const JEKYLL: BlogLayout = {
  name: "Jekyll (dated file names)",
  repo: "jekyll/blog",
  dir: "_posts",
  slugs: ["postgres-upgrades", "caddy-reverse-proxy", "nightly-builds"],
  tags: ["postgres", "ops", "web", "ci"],
  files: {
    "_config.yml": "title: Notes\npermalink: /:year/:month/:day/:title.html\n",
    "_posts/2026-08-20-postgres-upgrades.md": `---\nlayout: post\ntitle: "Postgres upgrades without fear"\ndate: 2026-08-20 10:00:00 +0200\ncategories: [notes]\ntags: [postgres, ops]\n---\n\n${para("pg_upgrade")}\n`,
    "_posts/2026-10-05-caddy-reverse-proxy.md": `---\nlayout: post\ntitle: "Caddy as a reverse proxy"\ndate: 2026-10-05 18:20:00 +0200\ncategories: [notes]\ntags: [web, ops]\n---\n\n${para("caddy")}\n`,
    "_posts/2026-11-30-nightly-builds.md": `---\nlayout: post\ntitle: "Nightly builds on a budget"\ndate: 2026-11-30 07:45:00 +0100\ncategories: [notes]\ntags: [ci, ops]\n---\n\n${para("nightly builds")}\n`,
  },
};

export const ASTRO: BlogLayout = {
  name: "Astro (content collection with pubDate and heroImage)",
  repo: "astro/blog",
  dir: "src/content/blog",
  slugs: ["first-steps-with-nix", "why-i-moved-to-sqlite", "self-hosted-git"],
  tags: ["nix", "sqlite", "databases", "git"],
  files: {
    "src/content/config.ts":
      'import { defineCollection, z } from "astro:content";\nconst blog = defineCollection({ schema: z.object({ title: z.string(), description: z.string(), pubDate: z.coerce.date(), heroImage: z.string().optional(), tags: z.array(z.string()) }) });\nexport const collections = { blog };\n',
    "src/content/blog/first-steps-with-nix.md": `---\ntitle: 'First steps with Nix'\ndescription: 'What I learned in a week of Nix.'\npubDate: '2026-07-08'\nheroImage: './first-steps-with-nix.jpg'\ntags:\n  - nix\n---\n\n${para("nix")}\n`,
    "src/content/blog/first-steps-with-nix.jpg": "jpeg bytes",
    "src/content/blog/why-i-moved-to-sqlite.md": `---\ntitle: 'Why I moved to SQLite'\ndescription: 'One file, no server.'\npubDate: '2026-11-21'\nheroImage: './why-i-moved-to-sqlite.jpg'\ntags:\n  - sqlite\n  - databases\n---\n\n${para("sqlite")}\n`,
    "src/content/blog/why-i-moved-to-sqlite.jpg": "jpeg bytes",
    "src/content/blog/self-hosted-git.md": `---\ntitle: 'Self-hosted Git'\ndescription: 'Forgejo on a small box.'\npubDate: '2026-10-30'\nheroImage: './self-hosted-git.jpg'\ntags:\n  - git\n---\n\n${para("forgejo")} See https://www.youtube.com/watch?v=abcdefghijk&t=42s for the demo.\n`,
    "src/content/blog/self-hosted-git.jpg": "jpeg bytes",
  },
};

export const LAYOUTS = [HUGO, JEKYLL, ASTRO];
