/**
 * Per-interval reports, as iperf3 prints them: every `--interval` seconds the
 * generator takes a sample of what happened since the last one (a line on
 * stdout, so it shows when piped too, or an entry of the `--json` document's
 * `intervals`). The last, shorter interval is reported when the run ends.
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

  /** Stops the clock and reports the last interval if it lasted at least a tenth of one. */
  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    const to = (performance.now() - this.#origin) / 1000;
    if (to - this.#from >= this.seconds / 10) this.emit(this.sample(this.#from, to));
  }
}

/** `   0.00-1.00 s` (a width that keeps a column of intervals aligned). */
export function intervalLabel(fromS: number, toS: number): string {
  return `${`${fromS.toFixed(2)}-${toS.toFixed(2)}`.padStart(13)} s`;
}
