/** @module bench/section — what each benchmark hands the report: figure rows and notes. */

export interface Figure {
  /** What is measured, e.g. "resident memory after GC". */
  figure: string;
  sundial: string;
  croner?: string;
  nodeCron?: string;
  target?: string;
  /**
   * The figure before this round's work (issues 14 and 15), where it was measured: what the issue's
   * "now" column says, from the round-one code. Shown beside the figure in the summary.
   */
  before?: string;
  /** Omitted when the figure has no target. */
  pass?: boolean;
}

export interface Section {
  id: number;
  title: string;
  /** How it was measured, in a sentence or two. */
  method: string;
  figures: Figure[];
  notes: string[];
  /** Set when the benchmark could not run (e.g. a skill is missing); figures are then empty. */
  skipped?: string;
}

export interface BenchOptions {
  quick: boolean;
  log: (line: string) => void;
}
