/**
 * @module daemon-file — `<data dir>/daemon.json`: where the running daemon answers
 * (`{"url", "pid"}`), written once its server listens (so port 0 works) and removed on a clean
 * exit. CLI controls read it to find the daemon; a file left by a crash names a dead pid.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface DaemonFile {
  url: string;
  pid: number;
}

export const daemonFile = (dataDir: string) => join(dataDir, "daemon.json");

export function writeDaemonFile(dataDir: string, url: string): void {
  writeFileSync(daemonFile(dataDir), `${JSON.stringify({ url, pid: process.pid } satisfies DaemonFile)}\n`);
}

export function removeDaemonFile(dataDir: string): void {
  // Only our own: a second daemon refused by the lock must not remove the first one's file.
  if (readDaemonFile(dataDir)?.pid === process.pid) rmSync(daemonFile(dataDir), { force: true });
}

export function readDaemonFile(dataDir: string): DaemonFile | null {
  try {
    const value = JSON.parse(readFileSync(daemonFile(dataDir), "utf8")) as Partial<DaemonFile>;
    return typeof value.url === "string" && typeof value.pid === "number" ? { url: value.url, pid: value.pid } : null;
  } catch {
    return null;
  }
}
