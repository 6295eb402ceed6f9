/**
 * The chat load generator's wire text as pure code: the load message (it
 * carries its send time, so no per-message state is kept), the probe, the
 * line each dialect sends, and the scanner that finds every delivered copy
 * in what a client reads, without a string per copy.
 *
 * ```text
 * socklab (exercise 4b):  -> signin NAME   <- OK signed in as NAME
 *                         -> chat TEXT     <- Msg NAME says: TEXT   (every member, sender too)
 * ncat --chat:            -> TEXT          <- <userN> TEXT          (every other client)
 * TEXT = "~b~" SEND-TIME-µs "~" padding    (a probe before the run: "~p~" ID "~")
 * ```
 *
 * @example
 * ```ts
 * import { chatLine, messageText, sentTimeOf } from "./chat_lines.ts";
 * const line = chatLine("socklab", messageText(1234, 64));
 * console.assert(sentTimeOf(`Msg a says: ${line.slice(5)}`) === 1234);
 * ```
 * @module
 */

/** The servers the generator can talk to. */
export type ChatDialect = "socklab" | "ncat";

const BENCH_MARK = "~b~";
export const PROBE_MARK = "~p~";

/** The text of a load message sent at `sentUs`, padded to `size` bytes. */
export function messageText(sentUs: number, size: number): string {
  const head = `${BENCH_MARK}${Math.round(sentUs)}~`;
  return head + "x".repeat(Math.max(0, size - head.length));
}

/** The send time (µs) carried by a delivered line, or undefined when it carries none. */
export function sentTimeOf(line: string): number | undefined {
  const at = line.indexOf(BENCH_MARK);
  if (at < 0) return undefined;
  const end = line.indexOf("~", at + BENCH_MARK.length);
  if (end < 0) return undefined;
  const t = Number(line.slice(at + BENCH_MARK.length, end));
  return Number.isFinite(t) && end > at + BENCH_MARK.length ? t : undefined;
}

/** The probe id a line carries, or undefined. */
export function probeOf(line: string): number | undefined {
  const m = /~p~(\d+)~/.exec(line);
  return m ? Number(m[1]) : undefined;
}

/** What {@linkcode scanLines} reports. */
export interface LineVisitor {
  /** A load message delivered, with the send time it carries (µs). */
  delivery(sentUs: number): void;
  /** Any other whole line (CR LF stripped). */
  line(text: string): void;
}

/** Longest line a client keeps while waiting for its end. */
export const MAX_LINE = 64 * 1024;

const NL = 10;
const CR = 13;
const TILDE = 126;
const DIGIT_0 = 48;
/** Send times of up to this many digits are exact integers when parsed digit by digit. */
const MAX_FAST_DIGITS = 15;
/** Decodes whole lines; a BOM is kept, as in the middle of a stream. */
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * The send time (µs) written in `text` from `from` up to the first `~` before
 * `nl`, or NaN when there is none, as {@linkcode sentTimeOf} reads it. When
 * `bytes` holds the same characters as bytes from `offset` (the text is
 * ASCII), plain digits are parsed from the bytes by hand, else (or for
 * anything but plain digits) through `Number()`.
 */
function sentTimeIn(
  text: string,
  from: number,
  nl: number,
  bytes: Uint8Array | undefined,
  offset: number,
): number {
  if (bytes) {
    const first = offset + from;
    const stop = offset + nl;
    let v = 0;
    let i = first;
    for (; i < stop; i++) {
      const d = bytes[i] - DIGIT_0;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    if (i < stop && bytes[i] === TILDE && i > first && i - first <= MAX_FAST_DIGITS) return v;
  }
  const end = text.indexOf("~", from);
  if (end <= from || end >= nl) return NaN;
  const t = Number(text.slice(from, end));
  return Number.isFinite(t) ? t : NaN;
}

/**
 * Reports every whole line of `bytes[from, end)` to `visitor` and returns
 * where the unfinished rest starts (`end` when there is none).
 *
 * The whole lines are decoded together into one string, because in V8 a
 * string's `indexOf` (memchr) finds a line end or the marker several times
 * faster than a byte loop or `Uint8Array.prototype.indexOf` (a runtime call
 * of about 40 ns). No string is made per load message: when the lines are
 * ASCII (they are, from either server) the send time's digits are read from
 * the bytes, at the same index. Only other lines are sliced out.
 */
export function scanLines(
  bytes: Uint8Array,
  visitor: LineVisitor,
  from = 0,
  end = bytes.length,
): number {
  const last = end > from ? bytes.lastIndexOf(NL, end - 1) : -1;
  if (last < from) return from;
  const text = utf8.decode(bytes.subarray(from, last + 1));
  // Same length and no U+FFFD: every byte was one ASCII character.
  const ascii = text.length === last + 1 - from && text.indexOf("\uFFFD") < 0;
  scanText(text, visitor, ascii ? bytes : undefined, from);
  return last + 1;
}

/** Reports the lines of `text`, which ends with a line end. */
function scanText(
  text: string,
  visitor: LineVisitor,
  bytes: Uint8Array | undefined,
  offset: number,
): void {
  let start = 0;
  let mark = text.indexOf(BENCH_MARK);
  for (let nl = text.indexOf("\n"); nl >= 0; start = nl + 1, nl = text.indexOf("\n", start)) {
    if (mark >= 0 && mark < start) mark = text.indexOf(BENCH_MARK, start);
    if (mark >= 0 && mark < nl) {
      const t = sentTimeIn(text, mark + BENCH_MARK.length, nl, bytes, offset);
      if (t === t) { // not NaN
        visitor.delivery(t);
        continue;
      }
    }
    visitor.line(text.slice(start, nl > start && text.charCodeAt(nl - 1) === CR ? nl - 1 : nl));
  }
}

/**
 * A client's receive buffer: reads go straight into {@linkcode space}, then
 * {@linkcode filled} reports the whole lines and keeps the unfinished one at
 * the front for the next read. A line longer than {@linkcode MAX_LINE} is
 * dropped up to its end, not buffered.
 */
export class LineBuffer {
  readonly #buf: Uint8Array;
  /** Bytes of an unfinished line at the front of #buf. */
  #kept = 0;
  /** Inside a runaway line: skip up to its end. */
  #dropping = false;

  /** `readSize`: room for each read, beside up to {@linkcode MAX_LINE} kept bytes. */
  constructor(readSize = 64 * 1024) {
    this.#buf = new Uint8Array(readSize + MAX_LINE);
  }

  /** Where the next read goes. */
  space(): Uint8Array {
    return this.#buf.subarray(this.#kept);
  }

  /** Reports the lines completed by the `n` bytes just read into {@linkcode space}. */
  filled(n: number, visitor: LineVisitor): void {
    const buf = this.#buf;
    const end = this.#kept + n;
    let from = 0;
    if (this.#dropping) {
      const nl = buf.indexOf(NL, this.#kept);
      if (nl < 0 || nl >= end) {
        this.#kept = 0;
        return;
      }
      this.#dropping = false;
      from = nl + 1;
    }
    const rest = scanLines(buf, visitor, from, end);
    const kept = end - rest;
    if (kept > MAX_LINE) {
      this.#kept = 0;
      this.#dropping = true;
    } else {
      if (rest > 0 && kept > 0) buf.copyWithin(0, rest, end);
      this.#kept = kept;
    }
  }
}

/** The line a client sends to say `text` in `dialect`. */
export function chatLine(dialect: ChatDialect, text: string): string {
  return dialect === "socklab" ? `chat ${text}\n` : `${text}\n`;
}
