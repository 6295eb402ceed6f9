/**
 * Reads TCP example 2's messages with bounded memory and an idle limit.
 *
 * A message is what one `recv` returns: the lecture's C programs send each
 * one with a single `send` of at most 1,023 bytes, and nc users send a line.
 * A longer run of bytes (a 50 MB line) is one message too: it is read up to
 * its newline, or until the peer pauses for {@linkcode PAUSE_MS}, counted,
 * and only its first {@linkcode SHOWN_BYTES} bytes are kept for display. So a
 * huge line costs one 64 KiB buffer and one printed line, whatever its size.
 *
 * @example
 * ```ts ignore
 * import { MessageReader } from "./messages.ts";
 * const reader = new MessageReader(conn);
 * const m = await reader.next(30_000); // null at EOF, "idle" after 30 s of silence
 * ```
 * @module
 */
import { stripLineEnd } from "../net/framing.ts";
import { readSome } from "../net/tcp.ts";
import { type Message, SHOWN_BYTES } from "./protocol.ts";

/** Quiet time that ends a long message without a newline. */
export const PAUSE_MS = 100;
const READ_BUFFER = 64 * 1024;
const LF = 0x0a;

const decoder = new TextDecoder();

/** The first SHOWN_BYTES bytes of a message and its running length. */
class MessageStart {
  readonly #kept = new Uint8Array(SHOWN_BYTES);
  #length = 0;
  bytes = 0;

  add(chunk: Uint8Array): void {
    const room = SHOWN_BYTES - this.#length;
    if (room > 0) {
      const part = chunk.subarray(0, room);
      this.#kept.set(part, this.#length);
      this.#length += part.length;
    }
    this.bytes += chunk.length;
  }

  message(): Message {
    const text = stripLineEnd(decoder.decode(this.#kept.subarray(0, this.#length)));
    return { text, bytes: this.bytes, cut: this.bytes > this.#length };
  }
}

/** Reads messages from one connection; a read a time-out gave up on is kept for the next call. */
export class MessageReader {
  readonly #conn: Deno.Conn;
  readonly #buffer = new Uint8Array(READ_BUFFER);
  #pending: Promise<number | null> | undefined;
  #quiet: QuietTimer | undefined;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /**
   * The next message; `null` at EOF or reset; `"idle"` when nothing came for
   * `idleMs` (0 or omitted: wait as long as it takes).
   */
  async next(idleMs = 0): Promise<Message | null | "idle"> {
    this.#pending ??= readSome(this.#conn, this.#buffer);
    const n = idleMs > 0 ? await raceTimeout(this.#pending, idleMs) : await this.#pending;
    if (n === "timeout") return "idle";
    const start = new MessageStart();
    // Up to 1,023 bytes, or a line: what one recv returns is the message.
    try {
      for (let chunk = this.#take(n); chunk; chunk = await this.#more()) {
        start.add(chunk);
        if (start.bytes <= SHOWN_BYTES || chunk[chunk.length - 1] === LF) break;
      }
    } finally {
      this.#quiet?.stop();
      this.#quiet = undefined;
    }
    return start.bytes > 0 ? start.message() : null;
  }

  /** The bytes a settled read brought (`null` at EOF: then every later read is EOF too). */
  #take(n: number | null): Uint8Array | null {
    this.#pending = n === null ? Promise.resolve(null) : undefined;
    return n === null ? null : this.#buffer.subarray(0, n);
  }

  /** The rest of a long message: the next chunk, or `null` once the peer pauses or ends. */
  async #more(): Promise<Uint8Array | null> {
    this.#quiet ??= new QuietTimer(PAUSE_MS);
    this.#pending ??= readSome(this.#conn, this.#buffer);
    const n = await Promise.race([this.#pending, this.#quiet.quiet]);
    if (n === "timeout") return null; // the read stays pending for the next message
    this.#quiet.touch();
    return this.#take(n);
  }
}

/**
 * Resolves `quiet` once nothing has touched it for `ms`: one timer for a
 * whole long message rather than one per read.
 */
class QuietTimer {
  readonly quiet: Promise<"timeout">;
  #last = performance.now();
  #resolve: (value: "timeout") => void = () => {};
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(ms: number) {
    this.quiet = new Promise((resolve) => (this.#resolve = resolve));
    this.#arm(ms, ms);
  }

  /** Notes activity: the quiet period starts again. */
  touch(): void {
    this.#last = performance.now();
  }

  /** Stops watching. */
  stop(): void {
    clearTimeout(this.#timer);
  }

  #arm(ms: number, delay: number): void {
    this.#timer = setTimeout(() => {
      const idle = performance.now() - this.#last;
      if (idle >= ms) this.#resolve("timeout");
      else this.#arm(ms, ms - idle);
    }, delay);
  }
}

/** `promise`'s value, or `"timeout"` when `ms` pass first (the timer is always cleared). */
async function raceTimeout<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
