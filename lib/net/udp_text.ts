/**
 * Text requests over UDP, decoded once for every line-per-datagram service:
 * trailing CR/LF/NUL stripped (nc sends a newline, the lecture's C clients a
 * NUL), a length limit, strict UTF-8 with no control bytes, and the rule that
 * keeps two servers from ping-ponging forever: a datagram that starts with
 * `ERR` is someone's error reply and is never answered.
 *
 * Grammar:
 * ```text
 * datagram = text *( CR / LF / NUL )
 * text     = *( UTF-8 character except controls; TAB allowed )  ; at most maxBytes
 * ```
 *
 * @example
 * ```ts
 * import { decodeTextRequest } from "./udp_text.ts";
 * const r = decodeTextRequest(new TextEncoder().encode("USD\n"), 512);
 * console.assert(r.kind === "text" && r.text === "USD");
 * ```
 * @module
 */

/** A decoded datagram: its text, a reason for an `ERR` reply, or silence. */
export type TextRequest =
  | { kind: "text"; text: string }
  | { kind: "error"; reason: string }
  | { kind: "ignore"; why: "error-reply" | "binary" };

/** The reason services give for a binary datagram: `ERR request is not text ...`. */
export const NOT_TEXT = "request is not text (UTF-8 without control characters)";

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** True when `data` starts with the bytes `ERR` (a reply, never a request). */
export function isErrorReply(data: Uint8Array): boolean {
  return data.length >= 3 && data[0] === 0x45 && data[1] === 0x52 && data[2] === 0x52;
}

/** The length of `data` without trailing CR, LF and NUL bytes. */
export function trimmedLength(data: Uint8Array): number {
  let end = data.length;
  while (end > 0) {
    const b = data[end - 1];
    if (b !== 0 && b !== 0x0a && b !== 0x0d) break;
    end--;
  }
  return end;
}

/**
 * Decodes one datagram as a text request of at most `maxBytes` bytes (after
 * trailing CR/LF/NUL). Anything longer is an error (`request too long (max N
 * bytes)`, checked first so a 64 KiB datagram is never decoded); invalid UTF-8
 * or control bytes (but tab) are binary and ignored, as is anything starting
 * with `ERR`. Leading and trailing blanks are trimmed.
 */
export function decodeTextRequest(data: Uint8Array, maxBytes: number): TextRequest {
  if (isErrorReply(data)) return { kind: "ignore", why: "error-reply" };
  const end = trimmedLength(data);
  if (end > maxBytes) {
    return { kind: "error", reason: `request too long (max ${maxBytes} bytes)` };
  }
  const ascii = printableAscii(data, end);
  if (ascii !== undefined) return { kind: "text", text: ascii.trim() };
  let text: string;
  try {
    text = strict.decode(data.subarray(0, end));
  } catch {
    return { kind: "ignore", why: "binary" };
  }
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(text)) return { kind: "ignore", why: "binary" };
  return { kind: "text", text: text.trim() };
}

/** Requests up to this long take the ASCII shortcut (one call with that many arguments). */
const ASCII_SHORTCUT = 1024;

/**
 * The first `end` bytes as text when they are all printable ASCII or tab (what
 * nearly every request is), else `undefined`. Cheaper than a UTF-8 decoder
 * call for a few dozen bytes; anything else takes the strict decoder.
 */
function printableAscii(data: Uint8Array, end: number): string | undefined {
  if (end > ASCII_SHORTCUT) return undefined;
  for (let i = 0; i < end; i++) {
    const b = data[i];
    if (b < 0x20 ? b !== 0x09 : b > 0x7e) return undefined;
  }
  return String.fromCharCode.apply(null, data.subarray(0, end) as unknown as number[]);
}

/**
 * The last request's bytes and its reply, for a protocol whose reply depends
 * on the request alone: a client repeating itself (a load generator, a class
 * asking `USD`) is answered without decoding. Requests up to 64 bytes.
 *
 * @example
 * ```ts
 * import { LastExchange } from "./udp_text.ts";
 * const last = new LastExchange<string>();
 * last.remember(new Uint8Array([1, 2]), "reply");
 * console.assert(last.reply(new Uint8Array([1, 2])) === "reply");
 * console.assert(last.reply(new Uint8Array([1, 3])) === undefined);
 * ```
 */
export class LastExchange<T> {
  readonly #request = new Uint8Array(64);
  #length = -1;
  #reply: T | undefined;

  /** The reply remembered for exactly these bytes, or `undefined`. */
  reply(data: Uint8Array): T | undefined {
    if (data.length !== this.#length) return undefined;
    for (let i = 0; i < data.length; i++) if (data[i] !== this.#request[i]) return undefined;
    return this.#reply;
  }

  /** Remembers `reply` as the answer to `data` (forgets everything for a longer request). */
  remember(data: Uint8Array, reply: T): void {
    if (data.length > this.#request.length) {
      this.#length = -1;
      return;
    }
    this.#request.set(data);
    this.#length = data.length;
    this.#reply = reply;
  }
}

/**
 * What a pure function of a request's text gave, remembered by that text: a
 * repeated request (the same `USD` from a whole class) skips parsing, and for
 * a deterministic protocol formatting too. Bounded: when full it starts over,
 * so a flood of distinct requests costs no memory and little time.
 *
 * @example
 * ```ts
 * import { TextCache } from "./udp_text.ts";
 * const cache = new TextCache<string>(2);
 * console.assert(cache.get("a", (t) => t.toUpperCase()) === "A");
 * console.assert(cache.get("a", () => "never called") === "A");
 * ```
 */
export class TextCache<T> {
  readonly #limit: number;
  readonly #values = new Map<string, T>();

  constructor(limit = 1024) {
    this.#limit = limit;
  }

  /** The value for `text`: remembered, or `compute(text)` (then remembered). */
  get(text: string, compute: (text: string) => T): T {
    const known = this.#values.get(text);
    if (known !== undefined) return known;
    const value = compute(text);
    if (this.#values.size >= this.#limit) this.#values.clear();
    this.#values.set(text, value);
    return value;
  }
}
