/**
 * What every `socklab bench` mode shows while it runs: the live progress line
 * (stderr, terminals only) and the per-interval reports (a line each, or kept
 * for the `--json` document), started together and stopped together, the
 * last, shorter interval reported before the summary.
 *
 * @example
 * ```ts
 * import { runWithReports } from "./reporting.ts";
 * const { result, intervals } = await runWithReports({
 *   progress: () => "working",
 *   intervalS: 0,
 *   sample: (fromS, toS) => ({ fromS, toS }),
 *   line: (r) => `${r.fromS}-${r.toS} s`,
 *   json: true,
 * }, () => Promise.resolve(42));
 * console.assert(result === 42 && intervals.length === 0);
 * ```
 * @module
 */
import { IntervalClock } from "./interval.ts";
import { LiveProgress } from "./progress.ts";

/** What {@linkcode runWithReports} shows, and how. */
export interface RunReports<R> {
  /** The live status line, redrawn a few times a second. */
  progress: () => string;
  /** Seconds between interval reports (0 = none). */
  intervalS: number;
  /** One interval's figures (see `countsSampler` in interval.ts). */
  sample: (fromS: number, toS: number) => R;
  /** An interval as the line printed on stdout. */
  line: (row: R) => string;
  /** Keep the intervals for the JSON document instead of printing them. */
  json: boolean;
  /**
   * Start the interval clock only when `work` calls `startIntervals` (after a
   * warm-up such as clients joining); default: at once.
   */
  later?: boolean;
}

/** Runs `work` with progress and interval reports; returns its result and the intervals kept. */
export async function runWithReports<T, R>(
  reports: RunReports<R>,
  work: (startIntervals: () => void) => Promise<T>,
): Promise<{ result: T; intervals: R[] }> {
  const intervals: R[] = [];
  const emit = (row: R) => reports.json ? intervals.push(row) : console.log(reports.line(row));
  let clock: IntervalClock<R> | undefined;
  const startIntervals = () => {
    clock ??= IntervalClock.start(reports.intervalS, reports.sample, emit);
  };
  if (!reports.later) startIntervals();
  const progress = LiveProgress.start(reports.progress);
  try {
    return { result: await work(startIntervals), intervals };
  } finally {
    progress.stop();
    clock?.stop();
  }
}
