/**
 * Anti-amplification for UDP services, written once (RFC 9000 §8, DNS
 * cookies RFC 7873): to a source address that has not proven it receives, a
 * service answers one datagram with at most max(3× the request, 512) bytes.
 * A source proves it receives by echoing a cookie: a keyed hash of its
 * address and a time window, so the server keeps no table an attacker could
 * fill (stateless, like DTLS's HelloVerifyRequest).
 *
 * Wire convention shared by every socklab service: a reply cut to the budget
 * ends with a hint naming the cookie, and the same request sent again with
 * ` cookie=HEX` as its last word is answered in full. socklab's clients do
 * that round trip themselves; a person with `nc -u` is told what to type.
 *
 * @example
 * ```ts
 * import { AddressCookies, replyBudget, splitCookie } from "./amplification.ts";
 * const cookies = new AddressCookies();
 * const from = { transport: "udp" as const, hostname: "127.0.0.1", port: 40000 };
 * console.assert(replyBudget(4) === 512 && replyBudget(1000) === 3000);
 * const { request, cookie } = splitCookie(`LIST cookie=${cookies.cookie(from)}`);
 * console.assert(request === "LIST" && cookies.verify(from, cookie));
 * ```
 * @module
 */
import { createHmac, randomBytes } from "node:crypto";

/** Smallest budget: any request may be answered with this many bytes. */
export const MIN_BUDGET = 512;
/** Factor of the request size a reply to an unvalidated source may reach. */
export const AMPLIFICATION_FACTOR = 3;

/** Most bytes one reply may carry to a source that has not completed a round trip. */
export function replyBudget(requestBytes: number): number {
  return Math.max(AMPLIFICATION_FACTOR * requestBytes, MIN_BUDGET);
}

/** Options of {@linkcode AddressCookies}. */
export interface AddressCookiesOptions {
  /** HMAC key (default: 32 random bytes per process). Instances sharing it accept each other's cookies. */
  secret?: Uint8Array;
  /** Length of one time window in ms (default 60,000); a cookie is valid for 1–2 windows. */
  windowMs?: number;
  /** Clock (default Date.now), for tests. */
  now?: () => number;
}

/** Hex digits of a cookie (64 bits). */
const COOKIE_HEX = 16;

/** Stateless cookies bound to a source address and port, valid for one to two windows. */
export class AddressCookies {
  readonly #secret: Uint8Array;
  readonly #windowMs: number;
  readonly #now: () => number;

  constructor(options: AddressCookiesOptions = {}) {
    this.#secret = options.secret ?? randomBytes(32);
    this.#windowMs = options.windowMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** The cookie `from` must echo to be answered in full. */
  cookie(from: Deno.NetAddr): string {
    return this.#mac(from, Math.floor(this.#now() / this.#windowMs));
  }

  /** True when `cookie` is this window's or the last window's cookie for `from`. */
  verify(from: Deno.NetAddr, cookie: string | undefined): boolean {
    if (cookie === undefined || cookie.length !== COOKIE_HEX) return false;
    const window = Math.floor(this.#now() / this.#windowMs);
    return cookie === this.#mac(from, window) || cookie === this.#mac(from, window - 1);
  }

  #mac(from: Deno.NetAddr, window: number): string {
    return createHmac("sha256", this.#secret)
      .update(`${window}|${from.hostname}|${from.port}`)
      .digest("hex")
      .slice(0, COOKIE_HEX);
  }
}

/** A text request split from its trailing ` cookie=HEX` word (if any). */
export interface CookieSplit {
  request: string;
  cookie?: string;
}

const COOKIE_WORD = /\s+cookie=([0-9a-fA-F]{1,64})\s*$/;

/** Splits `"who alice cookie=0123abcd..."` into the request and the cookie. */
export function splitCookie(text: string): CookieSplit {
  const m = COOKIE_WORD.exec(text);
  if (!m) return { request: text };
  return { request: text.slice(0, m.index), cookie: m[1].toLowerCase() };
}

/** `request cookie=HEX`: what a client sends to be answered in full. */
export function withCookie(request: string, cookie: string): string {
  return `${request} cookie=${cookie}`;
}

const encoder = new TextEncoder();

/** Byte length of a reply as it goes on the wire (UTF-8 for text). */
export function replyBytes(reply: string | Uint8Array): number {
  return typeof reply === "string" ? encoder.encode(reply).length : reply.length;
}
