/** @module bench/machine — the machine the figures were taken on, and how busy it was. */
import { cpus, freemem, loadavg, totalmem } from "node:os";
import { availableParallelism } from "node:os";

export interface Machine {
  nproc: number;
  cpuModel: string;
  memory: string;
  node: string;
  os: string;
}

export function describeMachine(): Machine {
  return {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB total, ${(freemem() / 1024 ** 3).toFixed(1)} GiB free at start`,
    node: process.version,
    os: `${process.platform} ${process.arch}`,
  };
}

/** The 1-minute load average, e.g. "3.21". */
export function load1(): string {
  return (loadavg()[0] ?? 0).toFixed(2);
}
