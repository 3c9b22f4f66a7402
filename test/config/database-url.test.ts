/** SUNDIAL_DATABASE_URL: empty keeps SQLite; a PostgreSQL URL selects it; anything else is a clear error. */
import { describe, expect, it } from "vitest";
import { databaseUrl } from "../../src/config/env.ts";

describe("SUNDIAL_DATABASE_URL", () => {
  it("selects PostgreSQL only for a postgres:// URL and says how to write one otherwise", () => {
    expect(databaseUrl({})).toBeNull();
    expect(databaseUrl({ SUNDIAL_DATABASE_URL: "  " })).toBeNull();
    expect(databaseUrl({ SUNDIAL_DATABASE_URL: "postgres://u:p@db:5432/sundial" })).toBe(
      "postgres://u:p@db:5432/sundial",
    );
    expect(databaseUrl({ SUNDIAL_DATABASE_URL: "postgresql://db/sundial" })).toBe("postgresql://db/sundial");
    expect(() => databaseUrl({ SUNDIAL_DATABASE_URL: "mysql://db/x" })).toThrow(
      "must be a PostgreSQL URL (postgres://user:password@host:5432/database)",
    );
    expect(() => databaseUrl({ SUNDIAL_DATABASE_URL: "postgres://[bad" })).toThrow("not a valid URL");
  });
});
