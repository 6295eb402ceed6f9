/**
 * A shared tick for starting writes: many connections' batches start
 * together, at most once per `intervalMs`. A fan-out server that wrote each
 * connection as soon as it had something would make one write per connection
 * per message under load; on a common tick each write carries everything that
 * piled up since the last one, so the number of writes stays bounded by
 * connections × ticks while the bytes per write grow with the load. When the
 * server is idle the first start runs at once (no added latency for a lone
 * interactive line). While its owner says it is {@linkcode FlushTicker.busy}
 * (much to write on each tick), ticks come at most every `busyIntervalMs`:
 * fewer, larger writes, for a few ms more latency.
 *
 * @example
 * ```ts
 * import { FlushTicker } from "./flush_ticker.ts";
 * import { FanoutLog, Outbox } from "./fanout.ts";
 * const ticker = new FlushTicker(2);
 * const sink = { write: (p: Uint8Array) => Promise.resolve(p.length) };
 * const out = new Outbox({ log: new FanoutLog(), schedule: ticker.schedule }, sink, "bob");
 * out.send(new TextEncoder().encode("hello\n")); // written on the next tick
 * await out.flushed();
 * ```
 * @module
 */

/** What a tick starts: a function, or an object's `flush()` (no closure per object). */
export type Task = (() => void) | { flush(): void };

/** Starts scheduled tasks together, at most once per interval. */
export class FlushTicker {
  /** Least time between two ticks, in ms. */
  readonly intervalMs: number;
  /** Least time between two ticks while {@linkcode busy}, in ms. */
  readonly busyIntervalMs: number;
  /** Set by the owner: true while each tick has much to write (see the module doc). */
  busy = false;
  #due: Task[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #last = -Infinity;

  constructor(intervalMs: number, busyIntervalMs = intervalMs) {
    this.intervalMs = intervalMs;
    this.busyIntervalMs = busyIntervalMs;
  }

  /** Runs `task` on the next tick: at once (in a macrotask) when the last tick is old enough. */
  readonly schedule = (task: Task): void => {
    this.#due.push(task);
    if (this.#timer !== undefined) return;
    const interval = this.busy ? this.busyIntervalMs : this.intervalMs;
    const wait = Math.max(0, this.#last + interval - performance.now());
    this.#timer = setTimeout(this.#tick, wait);
  };

  /** Functions waiting for the next tick. */
  get waiting(): number {
    return this.#due.length;
  }

  /** Drops whatever waits and stops the timer (a server that shuts down). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#due = [];
  }

  #tick = (): void => {
    this.#timer = undefined;
    this.#last = performance.now();
    const due = this.#due;
    this.#due = [];
    for (const task of due) {
      if (typeof task === "function") task();
      else task.flush();
    }
  };
}
