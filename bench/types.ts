/** The row every benchmark returns to bench/run.ts: socklab beside its named peer. */

/** One line of a benchmark's summary table. */
export interface BenchRow {
  /** What was measured, e.g. "time-server, 64 in flight". */
  name: string;
  /** socklab's figure with its unit, e.g. "48,000 req/s". */
  socklab: string;
  /** The named peer and its figure in the same run, e.g. "C udp_echo 310,000 req/s". */
  peer: string;
  /** socklab ÷ peer, e.g. "0.15×". */
  ratio: string;
  /** The goal the ratio is held to, e.g. "≥ 0.9× Deno echo". */
  goal: string;
  /** Whether the goal was met in this run; undefined for a row that only informs (no goal). */
  met: boolean | undefined;
}
