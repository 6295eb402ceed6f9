/**
 * The wall clock with sub-millisecond resolution. `Date.now()` follows the
 * system clock but only to the millisecond; `performance.now()` has
 * microseconds but never follows a step of the system clock. This keeps the
 * high-resolution reading inside the millisecond `Date.now()` names, so a
 * step or slew of the system clock shows up at once and SNTP replies carry
 * more than whole milliseconds.
 *
 * @example
 * ```ts
 * import { WallClock } from "./clock.ts";
 * const clock = new WallClock();
 * console.assert(Math.abs(clock.now() - Date.now()) <= 1);
 * ```
 * @module
 */

/** A sub-millisecond wall clock that tracks the system clock (Unix ms). */
export class WallClock {
  #base: number;

  constructor() {
    // Calibrate on a millisecond edge (at most ~1 ms of waiting): exact to microseconds.
    const start = Date.now();
    let now = start;
    const giveUp = performance.now() + 2;
    while (now === start && performance.now() < giveUp) now = Date.now();
    this.#base = now - performance.now();
  }

  /** The current time, Unix ms with a fraction. */
  now(): number {
    const mono = performance.now();
    let t = this.#base + mono;
    const coarse = Date.now();
    if (t < coarse) {
      this.#base += coarse - t;
      t = coarse;
    } else if (t >= coarse + 1) {
      this.#base -= t - coarse - 0.999;
      t = this.#base + mono;
    }
    return t;
  }
}

/** The process-wide clock. */
export const wallClock = new WallClock();
