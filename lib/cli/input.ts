/**
 * Line input for interactive commands: the keyboard or a pipe (scriptable), or
 * a fixed list for the demo and tests. EOF is `null`, never an exception.
 *
 * @example
 * ```ts
 * import { listInput } from "./input.ts";
 * const input = listInput(["hello", "q"]);
 * console.assert((await input.next()) === "hello");
 * ```
 * @module
 */
import { LineFramer } from "../net/framing.ts";

/** A source of lines; `next()` resolves `null` at end of input. */
export interface LineInput {
  next(): Promise<string | null>;
  /** True when a person types the lines (a terminal), false for a pipe or file. */
  readonly interactive: boolean;
}

/** Lines from a byte stream (stdin by default), split on LF with CR stripped. */
export function streamInput(
  stream: ReadableStream<Uint8Array> = Deno.stdin.readable,
  interactive = Deno.stdin.isTerminal(),
): LineInput {
  const reader = stream.getReader();
  const framer = new LineFramer({ maxLine: 1 << 20 });
  const queue: string[] = [];
  let done = false;
  return {
    interactive,
    async next() {
      while (queue.length === 0 && !done) {
        const { value, done: end } = await reader.read();
        if (end) {
          done = true;
          const last = framer.end();
          if (last?.kind === "line") queue.push(last.text);
          reader.releaseLock();
          break;
        }
        for (const f of framer.push(value)) if (f.kind === "line") queue.push(f.text);
      }
      return queue.shift() ?? null;
    },
  };
}

/** Lines from a list (the demo's scripted input). */
export function listInput(lines: readonly string[]): LineInput {
  let i = 0;
  return {
    interactive: false,
    next: () => Promise.resolve(i < lines.length ? lines[i++] : null),
  };
}
