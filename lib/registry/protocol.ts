/**
 * Exercise 3, the registration server, as pure code: request parsing, the
 * exact replies of SPEC §5, and the registry itself with at-most-once
 * handling of retries (no sockets, the clock is passed in).
 *
 * Wire grammar (one UDP datagram each way; command words case-insensitive):
 * ```text
 * request = "register" SP NAME     -> "OK registered NAME"   / "ERR NAME is already registered"
 *         / "unregister" SP NAME   -> "OK unregistered NAME" / "ERR NAME is not registered"
 *         / "who" [ SP NAME ]      -> "USERS" *( SP NAME )   ; registration order
 * NAME    = 1*32( ALPHA / DIGIT / "_" / "." / "-" )
 * error   = "ERR " reason          ; bad name, unknown command, over 256 bytes, full
 * ```
 * Retries: a client whose reply was lost sends the same request again from
 * the same address. The server remembers each sender's last successful
 * `register`/`unregister` for {@linkcode RETRY_WINDOW_MS} and answers a
 * repeat with the same reply instead of applying it twice (which would turn
 * a lost `OK registered` into `ERR ... is already registered`).
 * @module
 */
import { decodeTextRequest, NOT_TEXT } from "../net/udp_text.ts";

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

/** A parsed request. */
export type RegistryRequest =
  | { kind: "register" | "unregister"; name: string }
  | { kind: "who" }
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
  const text = raw.trim();
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
    if (command === "who") return { kind: "who" };
    return { kind: "error", reason: `missing name (${USAGE_OF[command]})` };
  }
  if (!isValidName(name)) {
    return { kind: "error", reason: `invalid name ${quote(name)} (1-32 letters, digits, _ . -)` };
  }
  return command === "who" ? { kind: "who" } : { kind: command, name };
}

/** Parses a datagram: a request, an `ERR` reason (binary too), or silence (`ERR...`). */
export function parseRegistryRequest(data: Uint8Array): RegistryRequest {
  const req = decodeTextRequest(data, MAX_REQUEST);
  // SPEC §1: a binary message gets an ERR where the protocol has replies; only
  // someone's ERR reply is never answered (two servers must not ping-pong).
  if (req.kind === "ignore") {
    return req.why === "binary" ? { kind: "error", reason: NOT_TEXT } : { kind: "ignore" };
  }
  if (req.kind === "error") return req;
  return parseRegistryText(req.text);
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
}

/** The registered names (in registration order) and each sender's last change. */
export class Registry {
  readonly #names = new Set<string>();
  readonly #last = new Map<string, { request: string; reply: string; at: number }>();
  readonly #maxNames: number;
  readonly #window: number;
  readonly #maxSenders: number;

  constructor(options: RegistryOptions = {}) {
    this.#maxNames = options.maxNames ?? MAX_NAMES;
    this.#window = options.retryWindowMs ?? RETRY_WINDOW_MS;
    this.#maxSenders = options.maxSenders ?? MAX_SENDERS;
  }

  /** Every registered name, in registration order. */
  names(): string[] {
    return [...this.#names];
  }

  /** Applies `req` from `sender` (any stable key, e.g. `IP:PORT`) at `nowMs`. */
  apply(req: RegistryRequest, sender: string, nowMs: number): Outcome {
    switch (req.kind) {
      case "ignore":
        return { reply: null };
      case "error":
        return { reply: `ERR ${req.reason}` };
      case "who":
        return { reply: this.#names.size ? `USERS ${[...this.#names].join(" ")}` : "USERS" };
    }
    const key = `${req.kind} ${req.name}`;
    const last = this.#last.get(sender);
    if (last && last.request === key && nowMs - last.at <= this.#window) {
      return { reply: last.reply, repeat: true };
    }
    const outcome = req.kind === "register" ? this.#register(req.name) : this.#unregister(req.name);
    if (outcome.change) this.#remember(sender, key, outcome.reply!, nowMs);
    return outcome;
  }

  #register(name: string): Outcome {
    if (this.#names.has(name)) return { reply: `ERR ${name} is already registered` };
    if (this.#names.size >= this.#maxNames) {
      return { reply: `ERR registry is full (${this.#maxNames} names)` };
    }
    this.#names.add(name);
    return { reply: `OK registered ${name}`, change: { kind: "registered", name } };
  }

  #unregister(name: string): Outcome {
    if (!this.#names.delete(name)) return { reply: `ERR ${name} is not registered` };
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
