/**
 * The binder's expiry timer: one timer, due at the earliest expiry the store
 * reported. A refresh only moves expiries later, so a timer that fires early
 * finds nothing and re-arms. With a shared store (Redis) other binders add
 * records this one never hears of, so `maxDelayMs` makes it sweep at least
 * that often.
 *
 * @example
 * ```ts
 * import { ExpiryTimer } from "./expiry.ts";
 * const timer = new ExpiryTimer(() => undefined); // the sweep: returns ms until the next expiry
 * timer.schedule(1000);
 * timer.stop();
 * ```
 * @module
 */
import { type Maybe, then } from "./store.ts";

/** Runs `sweep` when the earliest expiry is due; `sweep` returns the delay to the next one. */
export class ExpiryTimer {
  readonly #sweep: () => Maybe<number | undefined>;
  readonly #maxDelayMs: number;
  readonly #onError: (err: unknown) => void;
  #timer?: ReturnType<typeof setTimeout>;
  #due = Infinity;
  #stopped = false;

  constructor(
    sweep: () => Maybe<number | undefined>,
    options: { maxDelayMs?: number; onError?: (err: unknown) => void } = {},
  ) {
    this.#sweep = sweep;
    this.#maxDelayMs = options.maxDelayMs ?? Infinity;
    this.#onError = options.onError ?? (() => {});
  }

  /** Makes sure a sweep runs within `delayMs` (an earlier one already set stays). */
  schedule(delayMs: number): void {
    if (this.#stopped) return;
    const due = performance.now() + Math.max(0, delayMs);
    if (this.#timer !== undefined && this.#due <= due) return;
    clearTimeout(this.#timer);
    this.#due = due;
    // +1 ms: a timer may fire a hair before the record's time is up.
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, delayMs) + 1);
  }

  /** Arms the periodic sweep of a shared store (no-op without `maxDelayMs`). */
  start(): void {
    if (this.#maxDelayMs < Infinity) this.schedule(this.#maxDelayMs);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#due = Infinity;
    const next = (delay: number | undefined) => {
      const d = Math.min(delay ?? Infinity, this.#maxDelayMs);
      if (d < Infinity) this.schedule(d);
    };
    const failed = (err: unknown) => {
      this.#onError(err);
      next(this.#maxDelayMs < Infinity ? this.#maxDelayMs : 1000);
    };
    try {
      const r = then(this.#sweep(), next);
      if (r instanceof Promise) r.catch(failed);
    } catch (err) {
      failed(err);
    }
  }
}
