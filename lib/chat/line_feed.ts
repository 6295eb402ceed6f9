/**
 * Chunks of one connection into lines, for servers that read many
 * connections into one shared buffer: complete lines are taken straight from
 * the chunk; a {@linkcode LineFramer} (which copies what it keeps) exists
 * only while a partial line is pending, so an idle connection holds none.
 * Frames are exactly LineFramer's (a line without its CR LF or LF, or an
 * overflow naming the length of a line longer than `maxLine`).
 *
 * @example
 * ```ts
 * import { feedLines } from "./line_feed.ts";
 * import type { Frame } from "../net/framing.ts";
 * const frames: Frame[] = [];
 * let framer = feedLines(undefined, new TextEncoder().encode("hi\r\nthe"), 64, frames);
 * framer = feedLines(framer, new TextEncoder().encode("re\n"), 64, frames);
 * console.assert(frames.map((f) => f.kind === "line" && f.text).join() === "hi,there");
 * console.assert(framer === undefined);
 * ```
 * @module
 */
import { type Frame, LineFramer } from "../net/framing.ts";

const LF = 0x0a;
const CR = 0x0d;
const decoder = new TextDecoder();

/**
 * Appends to `out` the frames `chunk` completes, given the connection's
 * framer (undefined when no partial line is pending); returns the framer to
 * keep for its next chunk (undefined again once the chunk ended a line).
 */
export function feedLines(
  framer: LineFramer | undefined,
  chunk: Uint8Array,
  maxLine: number,
  out: Frame[],
): LineFramer | undefined {
  const endsLine = chunk.length > 0 && chunk[chunk.length - 1] === LF;
  if (framer === undefined && endsLine) {
    completeLines(chunk, maxLine, out);
    return undefined;
  }
  framer ??= new LineFramer({ maxLine });
  for (const frame of framer.push(chunk)) out.push(frame);
  return endsLine ? undefined : framer;
}

/** The lines of a chunk that ends with LF. */
function completeLines(chunk: Uint8Array, maxLine: number, out: Frame[]): void {
  let start = 0;
  while (start < chunk.length) {
    const nl = chunk.indexOf(LF, start);
    let end = nl;
    if (end > start && chunk[end - 1] === CR) end--;
    if (end - start > maxLine) out.push({ kind: "overflow", bytes: nl - start });
    else out.push({ kind: "line", text: decoder.decode(chunk.subarray(start, end)) });
    start = nl + 1;
  }
}
