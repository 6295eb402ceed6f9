/**
 * Exercise 3, the registration server, as pure code: request parsing, the
 * exact replies of SPEC §5, and the registry itself with at-most-once
 * handling of retries (no sockets, the clock is passed in).
 *
 * Wire grammar (one UDP datagram each way; command words case-insensitive):
 * ```text
 * request = "register" SP NAME     -> "OK registered NAME"   / "ERR NAME is already registered"
 *         / "unregister" SP NAME   -> "OK unregistered NAME" / "ERR NAME is not registered"
 *         / "who" [ SP NAME ] [ SP "cookie=" HEX ]
 *                                  -> "USERS" *( SP NAME ) [ SP more ] ; registration order
 * more    = "(+" COUNT " more: send " DQUOTE "who cookie=" HEX DQUOTE " for all)"
 * NAME    = 1*32( ALPHA / DIGIT / "_" / "." / "-" )
 * error   = "ERR " reason          ; bad name, unknown command, over 256 bytes, full, quota
 * ```
 * Anti-amplification (lib/net/amplification.ts): a `who` reply to a source
 * that has not echoed its cookie carries at most max(3x the request, 512)
 * bytes; when the list is longer it ends with `more`, naming the cookie. The
 * same request with ` cookie=HEX` is answered in full (registry-client does
 * this by itself; a person with nc copies the hint).
 * Retries: a client whose reply was lost sends the same request again from
 * the same address. The server remembers each sender's last successful
 * `register`/`unregister` for {@linkcode RETRY_WINDOW_MS} and answers a
 * repeat with the same reply instead of applying it twice (which would turn
 * a lost `OK registered` into `ERR ... is already registered`).
 * @module
 */
import { replyBudget, splitCookie } from "../net/amplification.ts";
import { defaultPerSource, SourceQuota } from "../net/quota.ts";
import { decodeTextRequest, NOT_TEXT, type TextCache } from "../net/udp_text.ts";

/** Default port of the registration service (SPEC §7). */
export const DEFAULT_PORT = 1503;
/** Longest request answered. */
export const MAX_REQUEST = 256;
/** Names held at most: the `USERS` reply of a full registry still fits in one datagram. */
export const MAX_NAMES = 1000;
/** How long a sender's last change is remembered to answer its retries. */
export const RETRY_WINDOW_MS = 30_000;
/** Senders remembered at most (the oldest are forgotten first). */
export const MAX_SENDERS = 10_000;

const NAME_RE = /^[A-Za-z0-9_.-]{1,32}$/;

/**
 * The `USERS` reply for `names`: whole when it fits `budget` bytes (pass
 * Infinity for a validated source), else as many names as fit, then the
 * hint naming the cookie (given, or computed only when the list is cut).
 */
export function whoReply(
  names: readonly string[],
  budget: number,
  cookieOf: string | (() => string),
  full = names.length ? `USERS ${names.join(" ")}` : "USERS",
): string {
  if (full.length <= budget) return full; // names are ASCII: length is bytes
  const cookie = typeof cookieOf === "string" ? cookieOf : cookieOf();
  let text = "USERS";
  for (let i = 0; i < names.length; i++) {
    // The last name that fits still leaves room for the hint about the rest.
    if (
      text.length + 1 + names[i].length + moreHint(names.length - i - 1, cookie).length > budget
    ) {
      return text + moreHint(names.length - i, cookie);
    }
    text += ` ${names[i]}`;
  }
  return text;
}

function moreHint(count: number, cookie: string): string {
  return ` (+${count} more: send "who cookie=${cookie}" for all)`;
}

/** A `USERS` reply taken apart: the names it lists, and the cookie when it is cut short. */
export interface UsersReply {
  names: string[];
  more?: { count: number; cookie: string };
}

const MORE_RE = / \(\+(\d+) more: send "who cookie=([0-9a-f]+)" for all\)$/;

/** Parses a `USERS` reply; `undefined` when `text` is not one. */
export function parseUsersReply(text: string): UsersReply | undefined {
  if (text !== "USERS" && !text.startsWith("USERS ")) return undefined;
  const m = MORE_RE.exec(text);
  const list = (m ? text.slice(0, m.index) : text).slice(5).trim();
  const names = list === "" ? [] : list.split(/ +/);
  if (!names.every(isValidName)) return undefined;
  return m ? { names, more: { count: Number(m[1]), cookie: m[2] } } : { names };
}

/** A parsed request. */
export type RegistryRequest =
  | { kind: "register" | "unregister"; name: string }
  | { kind: "who"; cookie?: string }
  | { kind: "error"; reason: string }
  | { kind: "ignore" };

function quote(text: string): string {
  return `"${text.length > 32 ? `${text.slice(0, 32)}...` : text}"`;
}

/** True for a valid name: 1–32 letters, digits, `_`, `.`, `-`. */
export function isValidName(name: string): boolean {
  return NAME_RE.test(name);
}

const USAGE_OF = {
  register: "register NAME",
  unregister: "unregister NAME",
  who: "who [NAME]",
} as const;

/** Parses a request's text (decoded and printable; blanks around are ignored). */
export function parseRegistryText(raw: string): RegistryRequest {
  const { request, cookie } = splitCookie(raw.trim());
  const text = request.trim();
  if (text === "") return { kind: "error", reason: "empty request (register, unregister, who)" };
  const words = text.split(/\s+/);
  const command = words[0].toLowerCase();
  if (command !== "register" && command !== "unregister" && command !== "who") {
    return {
      kind: "error",
      reason: `unknown command ${quote(words[0])} (register, unregister, who)`,
    };
  }
  if (words.length > 2) {
    return { kind: "error", reason: `too many words (${USAGE_OF[command]})` };
  }
  const name = words[1];
  if (name === undefined) {
    if (command === "who") return cookie ? { kind: "who", cookie } : { kind: "who" };
    return { kind: "error", reason: `missing name (${USAGE_OF[command]})` };
  }
  if (!isValidName(name)) {
    return { kind: "error", reason: `invalid name ${quote(name)} (1-32 letters, digits, _ . -)` };
  }
  if (command === "who") return cookie ? { kind: "who", cookie } : { kind: "who" };
  return { kind: command, name };
}

/**
 * Parses a datagram: a request, an `ERR` reason (binary too), or silence
 * (`ERR...`). Give a `cache` to parse each distinct text once (a server's
 * requests repeat; the result must then be treated as read-only).
 */
export function parseRegistryRequest(
  data: Uint8Array,
  cache?: TextCache<RegistryRequest>,
): RegistryRequest {
  const req = decodeTextRequest(data, MAX_REQUEST);
  // SPEC §1: a binary message gets an ERR where the protocol has replies; only
  // someone's ERR reply is never answered (two servers must not ping-pong).
  if (req.kind === "ignore") {
    return req.why === "binary" ? { kind: "error", reason: NOT_TEXT } : { kind: "ignore" };
  }
  if (req.kind === "error") return req;
  return cache ? cache.get(req.text, parseRegistryText) : parseRegistryText(req.text);
}

/** What applying a request did. */
export interface Outcome {
  /** The reply, or `null` to stay silent. */
  reply: string | null;
  /** Set when the registry changed (for the server's log). */
  change?: { kind: "registered" | "unregistered"; name: string };
  /** True when this was a repeat answered from memory. */
  repeat?: boolean;
}

/** Options of {@linkcode Registry}. */
export interface RegistryOptions {
  maxNames?: number;
  retryWindowMs?: number;
  maxSenders?: number;
  /** Names one source (IPv4 address or IPv6 /64) may hold (default a quarter of maxNames). */
  perSource?: number;
}

/** Who is asking: `sender` keys retries (`IP:PORT`), `source` the quota (IP). */
export interface Asker {
  sender: string;
  source: string;
  /** Bytes of the request (the reply budget of an unvalidated source). */
  requestBytes: number;
  /** True when the request carried this source's valid cookie. */
  validated: boolean;
  /**
   * The cookie to name in a cut-short reply, or the function that computes
   * it (a keyed hash: worth computing only for a list that is cut).
   */
  cookie: string | (() => string);
}

/** An asker known only by `IP:PORT`: its source is the IP, and it is trusted to receive. */
function trustedAsker(sender: string): Asker {
  const source = sender.startsWith("[")
    ? sender.slice(1, sender.indexOf("]"))
    : sender.split(":")[0];
  return { sender, source, requestBytes: 0, validated: true, cookie: "" };
}

/** The registered names (in registration order) and each sender's last change. */
export class Registry {
  /** Name → the source that registered it (for the quota), in registration order. */
  readonly #names = new Map<string, string>();
  /** The whole `USERS` line, kept until the names change (most requests are `who`). */
  #users: string | undefined;
  readonly #quota: SourceQuota;
  readonly #last = new Map<string, { request: string; reply: string; at: number }>();
  readonly #maxNames: number;
  readonly #window: number;
  readonly #maxSenders: number;

  constructor(options: RegistryOptions = {}) {
    this.#maxNames = options.maxNames ?? MAX_NAMES;
    this.#window = options.retryWindowMs ?? RETRY_WINDOW_MS;
    this.#maxSenders = options.maxSenders ?? MAX_SENDERS;
    this.#quota = new SourceQuota({
      perSource: options.perSource ?? defaultPerSource(this.#maxNames),
    });
  }

  /** Every registered name, in registration order. */
  names(): string[] {
    return [...this.#names.keys()];
  }

  /**
   * Applies `req` at `nowMs`. `asker` may be a plain `IP:PORT` sender key
   * (tests, a trusted caller): then its source is the IP and it counts as validated.
   */
  apply(req: RegistryRequest, asker: Asker | string, nowMs: number): Outcome {
    const who = typeof asker === "string" ? trustedAsker(asker) : asker;
    switch (req.kind) {
      case "ignore":
        return { reply: null };
      case "error":
        return { reply: `ERR ${req.reason}` };
      case "who": {
        const budget = who.validated ? Infinity : replyBudget(who.requestBytes);
        this.#users ??= whoReply(this.names(), Infinity, "");
        if (this.#users.length <= budget) return { reply: this.#users };
        return { reply: whoReply(this.names(), budget, who.cookie, this.#users) };
      }
    }
    const key = `${req.kind} ${req.name}`;
    const last = this.#last.get(who.sender);
    if (last && last.request === key && nowMs - last.at <= this.#window) {
      return { reply: last.reply, repeat: true };
    }
    const outcome = req.kind === "register"
      ? this.#register(req.name, who.source)
      : this.#unregister(req.name);
    if (outcome.change) this.#remember(who.sender, key, outcome.reply!, nowMs);
    return outcome;
  }

  #register(name: string, source: string): Outcome {
    if (this.#names.has(name)) return { reply: `ERR ${name} is already registered` };
    if (this.#names.size >= this.#maxNames) {
      return { reply: `ERR registry is full (${this.#maxNames} names)` };
    }
    if (!this.#quota.tryTake(source)) {
      return {
        reply: `ERR ${source} holds ${this.#quota.perSource} names already (the most one host may)`,
      };
    }
    this.#names.set(name, source);
    this.#users = undefined;
    return { reply: `OK registered ${name}`, change: { kind: "registered", name } };
  }

  #unregister(name: string): Outcome {
    const source = this.#names.get(name);
    if (source === undefined) return { reply: `ERR ${name} is not registered` };
    this.#names.delete(name);
    this.#users = undefined;
    this.#quota.release(source);
    return { reply: `OK unregistered ${name}`, change: { kind: "unregistered", name } };
  }

  #remember(sender: string, request: string, reply: string, at: number): void {
    this.#last.delete(sender); // re-insert: the Map's order is then oldest first
    this.#last.set(sender, { request, reply, at });
    for (const [old, entry] of this.#last) {
      if (this.#last.size <= this.#maxSenders && at - entry.at <= this.#window) break;
      this.#last.delete(old);
    }
  }
}
