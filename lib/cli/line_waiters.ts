/**
 * Waits for a line that matches, with a deadline: what the demo's transcript
 * and the tests' process logs both need to wait for an event, not a sleep.
 *
 * @example
 * ```ts
 * import { LineWaiters, lineTest } from "./line_waiters.ts";
 * const waiters = new LineWaiters();
 * const wait = waiters.wait(lineTest(/ready/), 1000, (why) => new Error(why));
 * waiters.notify("server ready");
 * console.log(await wait.promise); // "server ready"
 * ```
 * @module
 */

/** `pattern` as a test of one line: a substring, or a regular expression. */
export function lineTest(pattern: RegExp | string): (line: string) => boolean {
  return (l) => typeof pattern === "string" ? l.includes(pattern) : pattern.test(l);
}

/** One pending wait. */
export interface LineWait {
  promise: Promise<string>;
  /** Still waiting (no line matched, not failed). */
  readonly pending: boolean;
  /** Fails the wait now, if it is still pending. */
  fail(why: string): void;
}

/** The pending waits of one stream of lines. */
export class LineWaiters {
  #waits: { test: (line: string) => boolean; done: (line: string) => void }[] = [];

  /** Resolves every pending wait that `line` satisfies. */
  notify(line: string): void {
    this.#waits = this.#waits.filter((w) => {
      if (!w.test(line)) return true;
      w.done(line);
      return false;
    });
  }

  /** Waits for the next line that passes `test`; after `timeoutMs` it fails with `error(why)`. */
  wait(
    test: (line: string) => boolean,
    timeoutMs: number,
    error: (why: string) => Error,
  ): LineWait {
    let pending = true;
    let settle!: { resolve: (line: string) => void; reject: (err: Error) => void };
    const promise = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
    const entry = {
      test,
      done: (line: string) => {
        pending = false;
        clearTimeout(timer);
        settle.resolve(line);
      },
    };
    const fail = (why: string) => {
      if (!pending) return;
      pending = false;
      clearTimeout(timer);
      this.#waits = this.#waits.filter((w) => w !== entry);
      settle.reject(error(why));
    };
    const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
    this.#waits.push(entry);
    return {
      promise,
      get pending() {
        return pending;
      },
      fail,
    };
  }
}
