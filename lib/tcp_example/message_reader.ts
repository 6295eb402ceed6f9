/**
 * Reads the lecture's TCP messages ("the text alone, no terminator, one send
 * per message"): one `recv` of at most 1,023 bytes is one message, as in the
 * C programs. A peer that sends one huge line (nc with 50 MB) would make that
 * thousands of messages and as many printed lines; so a read that fills the
 * buffer without ending a line swallows what follows while it keeps coming
 * (each next chunk within {@linkcode CONTINUE_MS}) up to {@linkcode MAX_SWALLOW}
 * bytes, and counts it: the message keeps its first 1,023 bytes and its whole
 * length. Memory stays one buffer whatever the line's size.
 *
 * A read still in flight when a message ends (the peer paused) is kept for
 * the next message, so no byte is lost or reordered.
 *
 * @example
 * ```ts ignore
 * import { MessageReader } from "./message_reader.ts";
 * const reader = new MessageReader(conn);
 * const m = await reader.next({ idleMs: 30_000 }); // { text, bytes } | "eof" | "idle"
 * ```
 * @module
 */
import { stripLineEnd } from "../net/framing.ts";
import { readSome } from "../net/tcp.ts";

/** Bytes of one lecture message (the C programs' `recv(sock, buf, 1023, 0)`). */
export const MESSAGE_MAX = 1023;
/** Longest gap between two chunks of one over-long line. */
export const CONTINUE_MS = 100;
/** Most bytes one over-long message swallows before the rest becomes the next message. */
export const MAX_SWALLOW = 16 * 1024 * 1024;

/** A message: its first {@linkcode MESSAGE_MAX} bytes as text, and how long it really was. */
export interface Message {
  text: string;
  bytes: number;
}

type Chunk = Uint8Array | null;

/** Largest read: one chunk of an over-long line. */
const READ_BUFFER = 64 * 1024;

/** One connection's messages, read in turn. */
export class MessageReader {
  readonly #conn: Deno.Conn;
  /**
   * The one buffer every read goes into: a chunk is decoded or counted before
   * the next read starts, and a fresh 64 KiB per read made a 50 MB line cost
   * +30 MB of RSS (garbage V8 sized its young generation for).
   */
  readonly #buffer = new Uint8Array(READ_BUFFER);
  #pending: Promise<Chunk> | undefined;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  #read(size: number): Promise<Chunk> {
    const p = this.#pending ?? (async () => {
      const buf = this.#buffer.subarray(0, size);
      const n = await readSome(this.#conn, buf);
      return n === null ? null : buf.subarray(0, n);
    })();
    this.#pending = p;
    return p.finally(() => {
      if (this.#pending === p) this.#pending = undefined;
    });
  }

  /**
   * The next message; `"eof"` when the peer is gone; `"idle"` when nothing
   * came for `idleMs` (the connection is then left to the caller to close).
   */
  async next(options: { idleMs?: number } = {}): Promise<Message | "eof" | "idle"> {
    const first = await withTimeout(this.#read(MESSAGE_MAX), options.idleMs);
    if (first === "timeout") return "idle";
    if (first === null) return "eof";
    // A chunk kept from the last message's tail may be longer than one message.
    const text = stripLineEnd(new TextDecoder().decode(first.subarray(0, MESSAGE_MAX)));
    let bytes = first.length;
    let last = first.at(-1);
    while (bytes >= MESSAGE_MAX && bytes < MAX_SWALLOW && last !== 0x0a) {
      const more = await withTimeout(this.#read(READ_BUFFER), CONTINUE_MS);
      if (more === "timeout" || more === null) break;
      bytes += more.length;
      last = more.at(-1);
    }
    return { text, bytes };
  }
}

/** `p`, or `"timeout"` after `ms` (no timer without `ms`). */
async function withTimeout<T>(p: Promise<T>, ms: number | undefined): Promise<T | "timeout"> {
  if (ms === undefined || !Number.isFinite(ms)) return await p;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
