/**
 * A gate on reading: while it is closed, reads through {@linkcode Gate.guard}
 * wait before they start (reads already under way go on: at most one buffer
 * per connection arrives after closing). A fan-out server closes it while a client that is
 * still reading has a backlog, so senders are slowed down by TCP itself (as a
 * blocking server would) instead of that client's queue growing until it is
 * dropped; it opens again once the backlog drains or that client turns out
 * to be stalled.
 *
 * @example
 * ```ts
 * import { Gate } from "./gate.ts";
 * const gate = new Gate();
 * const source = gate.guard({ read: (p: Uint8Array) => Promise.resolve(p.length) });
 * gate.close();
 * const pending = source.read(new Uint8Array(4)); // waits for open()
 * gate.open();
 * console.assert((await pending) === 4);
 * ```
 * @module
 */

/** What a gate guards (a `Deno.Conn` is one). */
export interface ReadSource {
  read(p: Uint8Array): Promise<number | null>;
}

/** Holds reads back while closed. */
export class Gate {
  #waiting: Promise<void> | undefined;
  #release: (() => void) | undefined;
  #disposed = false;

  /** True while reads wait. */
  get closed(): boolean {
    return this.#waiting !== undefined;
  }

  /** Makes reads that start from now on wait (reads already started go on). */
  close(): void {
    if (this.#waiting !== undefined || this.#disposed) return;
    this.#waiting = new Promise((resolve) => (this.#release = resolve));
  }

  /** Lets every waiting read go, in the order they came. */
  open(): void {
    const release = this.#release;
    this.#waiting = this.#release = undefined;
    release?.();
  }

  /** Undefined while open; while closed, a promise that resolves when it opens. */
  whenOpen(): Promise<void> | undefined {
    return this.#waiting;
  }

  /** Opens the gate for good: `close()` does nothing any more (a server shutting down). */
  dispose(): void {
    this.#disposed = true;
    this.open();
  }

  /** `source` with each read waiting while the gate is closed. */
  guard(source: ReadSource): ReadSource {
    return { read: (p) => this.#read(source, p) };
  }

  #read(source: ReadSource, p: Uint8Array): Promise<number | null> {
    // No extra promise or frame while open: every idle connection of a server
    // holds one pending read through here.
    const waiting = this.#waiting;
    // The gate may close again between its opening and this read's turn: re-check.
    return waiting === undefined ? source.read(p) : waiting.then(() => this.#read(source, p));
  }
}
