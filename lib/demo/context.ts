/**
 * What a demo section gets: a transcript to print to, checked steps, and a
 * signal that stops every server the section started. Sections run servers
 * in-process on loopback with port 0 and drive them with socklab's clients.
 *
 * @example
 * ```ts
 * import type { DemoSection } from "./context.ts";
 * export const section: DemoSection = {
 *   title: "Example",
 *   async run(ctx) {
 *     await ctx.step("one plus one", () => {
 *       ctx.expectEqual(1 + 1, 2, "sum");
 *       return Promise.resolve();
 *     });
 *   },
 * };
 * ```
 * @module
 */

import { lineTest, LineWaiters } from "../cli/line_waiters.ts";

/** One group of the demo transcript (one exercise or example). */
export interface DemoSection {
  title: string;
  run(ctx: DemoContext): Promise<void>;
}

/** A step whose reply was not the expected one. */
export class DemoFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DemoFailure";
  }
}

/** Handed to each section by the demo runner. */
export interface DemoContext {
  /** Aborted when the section ends: servers started with it stop. */
  signal: AbortSignal;
  /** Registers a server's run promise: the runner aborts the signal and awaits it. */
  track<T>(running: Promise<T>): Promise<T>;
  /** Prints one transcript line under the section. */
  say(line: string): void;
  /** A writer for a role (`server`, `client`): lines prefixed, partial writes joined. */
  writer(role: string): Transcript;
  /** Runs one checked step; a thrown error marks it failed and ends the section. */
  step(label: string, fn: () => Promise<void>): Promise<void>;
  /** Throws DemoFailure unless `actual` equals `expected`. */
  expectEqual<T>(actual: T, expected: T, what: string): void;
}

/**
 * Collects a role's output as lines (joining partial writes), prints each, and
 * lets a step wait for a line to appear (an event, not a sleep).
 */
export class Transcript {
  readonly lines: string[] = [];
  #partial = "";
  readonly #waiters = new LineWaiters();
  readonly #print: (line: string) => void;

  constructor(print: (line: string) => void) {
    this.#print = print;
  }

  /** Accepts text with or without newlines. */
  write = (text: string): void => {
    const parts = (this.#partial + text).split("\n");
    this.#partial = parts.pop() ?? "";
    for (const line of parts) this.log(line);
  };

  /** Accepts one whole line. */
  log = (line: string): void => {
    this.lines.push(line);
    this.#print(line);
    this.#waiters.notify(line);
  };

  /** Resolves with the first line (already seen or coming) that matches; rejects after `timeoutMs`. */
  waitFor(pattern: RegExp | string, timeoutMs = 3000): Promise<string> {
    const test = lineTest(pattern);
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    const failure = () => new DemoFailure(`no line matching ${pattern} within ${timeoutMs} ms`);
    return this.#waiters.wait(test, timeoutMs, failure).promise;
  }
}
