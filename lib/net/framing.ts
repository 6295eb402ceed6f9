/**
 * TCP line framing as pure code: bytes in, whole lines out, with a maximum
 * line length. A partial line is a normal state (it waits for more bytes); an
 * over-long line is reported once and its bytes are discarded up to the next
 * newline, so one bad client line never costs unbounded memory.
 *
 * Wire grammar:
 * ```text
 * stream = *( line LF )      ; CR before LF is stripped
 * line   = *( any byte except LF )   ; at most maxLine bytes
 * ```
 *
 * @example
 * ```ts
 * import { LineFramer } from "./framing.ts";
 * const f = new LineFramer({ maxLine: 8 });
 * const out = f.push(new TextEncoder().encode("hi\r\nthere\npart"));
 * console.assert(out.length === 2 && out[0].kind === "line" && out[0].text === "hi");
 * ```
 * @module
 */

/** A framed event: a whole line, or notice that a line exceeded the limit. */
export type Frame =
  | { kind: "line"; text: string }
  | { kind: "overflow"; bytes: number };

/** Default longest line accepted: 64 KiB. */
export const DEFAULT_MAX_LINE = 65536;

const LF = 0x0a;
const CR = 0x0d;

/** Options of {@linkcode LineFramer}. */
export interface LineFramerOptions {
  /** Longest line in bytes, without its terminator (default {@linkcode DEFAULT_MAX_LINE}). */
  maxLine?: number;
}

/** Splits a byte stream into lines; keeps at most `maxLine` bytes buffered. */
export class LineFramer {
  readonly maxLine: number;
  #parts: Uint8Array[] = [];
  #size = 0;
  #discarding = false;
  #discarded = 0;
  #decoder = new TextDecoder();

  constructor(options: LineFramerOptions = {}) {
    this.maxLine = options.maxLine ?? DEFAULT_MAX_LINE;
  }

  /** Bytes of the partial line held now. */
  get buffered(): number {
    return this.#size;
  }

  /** Feeds bytes (they are copied if kept) and returns the frames they complete. */
  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(LF, start);
      const end = nl < 0 ? chunk.length : nl;
      const piece = chunk.subarray(start, end);
      if (this.#discarding) {
        this.#discarded += piece.length;
      } else if (this.#size + piece.length > this.maxLine + 1) {
        // +1: the last byte may be the CR of a CR LF.
        this.#discarding = true;
        this.#discarded = this.#size + piece.length;
        this.#parts = [];
        this.#size = 0;
      } else if (piece.length > 0) {
        this.#parts.push(nl < 0 ? piece.slice() : piece);
        this.#size += piece.length;
      }
      if (nl < 0) break;
      if (this.#discarding) {
        frames.push({ kind: "overflow", bytes: this.#discarded });
        this.#discarding = false;
        this.#discarded = 0;
      } else {
        frames.push(this.#take());
      }
      start = nl + 1;
    }
    return frames;
  }

  /** At end of stream: the unterminated last line, if any (overflow if too long). */
  end(): Frame | undefined {
    if (this.#discarding) {
      this.#discarding = false;
      return { kind: "overflow", bytes: this.#discarded };
    }
    if (this.#size === 0) return undefined;
    return this.#take();
  }

  #take(): Frame {
    let bytes: Uint8Array;
    if (this.#parts.length === 1) {
      bytes = this.#parts[0];
    } else {
      bytes = new Uint8Array(this.#size);
      let off = 0;
      for (const p of this.#parts) {
        bytes.set(p, off);
        off += p.length;
      }
    }
    this.#parts = [];
    this.#size = 0;
    let n = bytes.length;
    if (n > 0 && bytes[n - 1] === CR) n--;
    if (n > this.maxLine) return { kind: "overflow", bytes: bytes.length };
    return { kind: "line", text: this.#decoder.decode(bytes.subarray(0, n)) };
  }
}

/** Strips one trailing LF, CR LF or CR (the lecture's messages carry none; nc adds one). */
export function stripLineEnd(text: string): string {
  return text.replace(/\r?\n$|\r$/, "");
}
