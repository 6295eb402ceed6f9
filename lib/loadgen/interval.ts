/**
 * Per-interval reports, as iperf3 prints them: every `--interval` seconds the
 * generator takes a sample of what happened since the last one (a line on
 * stdout, so it shows when piped too, or an entry of the `--json` document's
 * `intervals`). The last, shorter interval is reported when the run ends, so
 * the intervals add up to the whole run.
 *
 * @example
 * ```ts
 * import { IntervalClock } from "./interval.ts";
 * let n = 0;
 * const rows: string[] = [];
 * const clock = IntervalClock.start(1, (from, to) => `${from}-${to} s ${n}`, (r) => rows.push(r));
 * n = 5;
 * clock.stop();
 * console.assert(rows.length <= 1);
 * ```
 * @module
 */

/** Default seconds between interval reports. */
export const DEFAULT_INTERVAL_S = 1;

/** Calls `sample` every `seconds` and hands what it returns to `emit`. */
export class IntervalClock<T> {
  #timer: ReturnType<typeof setInterval> | undefined;
  #from = 0;
  #origin = performance.now();

  private constructor(
    readonly seconds: number,
    readonly sample: (fromS: number, toS: number) => T,
    readonly emit: (row: T) => void,
  ) {}

  /** Starts the clock; `seconds` 0 makes a clock that never reports. */
  static start<T>(
    seconds: number,
    sample: (fromS: number, toS: number) => T,
    emit: (row: T) => void,
  ): IntervalClock<T> {
    const clock = new IntervalClock(seconds, sample, emit);
    if (seconds > 0) clock.#timer = setInterval(() => clock.#tick(), seconds * 1000);
    return clock;
  }

  /** Restarts the count at 0 s now (after a warm-up such as clients joining). */
  restart(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#from = 0;
    this.#timer = setInterval(() => this.#tick(), this.seconds * 1000);
    this.#origin = performance.now();
  }

  #tick(): void {
    const to = (performance.now() - this.#origin) / 1000;
    this.emit(this.sample(this.#from, to));
    this.#from = to;
  }

  /** Stops the clock and reports the last, shorter interval, so the intervals add up to the run. */
  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    const to = (performance.now() - this.#origin) / 1000;
    if (to - this.#from >= 0.001) this.emit(this.sample(this.#from, to));
  }
}

/** `   0.00-1.00 s` (a width that keeps a column of intervals aligned). */
export function intervalLabel(fromS: number, toS: number): string {
  return `${`${fromS.toFixed(2)}-${toS.toFixed(2)}`.padStart(13)} s`;
}

/** What {@linkcode countsSampler} reports for one interval. */
export type IntervalCounts<K extends string> =
  & { fromS: number; toS: number }
  & Record<K, number>
  & Record<`${K}PerSecond`, number>;

/**
 * A sampler for {@linkcode IntervalClock} over live counters: for each
 * interval, how much each of `keys` grew, and that per second.
 */
export function countsSampler<K extends string>(
  counters: Record<K, number>,
  keys: readonly K[],
): (fromS: number, toS: number) => IntervalCounts<K> {
  const last = Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
  return (fromS, toS) => {
    const seconds = Math.max(toS - fromS, 1e-6);
    const row: Record<string, number> = {
      fromS: Math.round(fromS * 100) / 100,
      toS: Math.round(toS * 100) / 100,
    };
    for (const k of keys) {
      const grew = counters[k] - last[k];
      row[k] = grew;
      row[`${k}PerSecond`] = Math.round(grew / seconds);
      last[k] = counters[k];
    }
    return row as IntervalCounts<K>;
  };
}
