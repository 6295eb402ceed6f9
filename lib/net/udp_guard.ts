/**
 * What every UDP reply passes through before it leaves, on both serve loops:
 * the anti-amplification limit (no reply larger than max(3x the request,
 * 512) bytes to a source that has not proven it receives) and, when a
 * monitor watches, the request count, error replies and service time.
 *
 * A handler that has checked the source's cookie returns its reply wrapped
 * in {@linkcode ValidatedReply}; any other reply over the budget is dropped
 * and reported, so a handler cannot amplify by mistake.
 *
 * @example
 * ```ts
 * import { guardReplies, ValidatedReply } from "./udp_guard.ts";
 * const from = { transport: "udp" as const, hostname: "127.0.0.1", port: 9 };
 * const big = "x".repeat(2000);
 * const errors: unknown[] = [];
 * const guarded = guardReplies(() => big, { onError: (e) => errors.push(e) });
 * console.assert(guarded(new Uint8Array(4), from) === undefined && errors.length === 1);
 * const trusted = guardReplies(() => new ValidatedReply(big), {});
 * console.assert(trusted(new Uint8Array(4), from) === big);
 * ```
 * @module
 */
import { replyBudget } from "./amplification.ts";
import type { ServiceMonitor } from "./monitor.ts";

/** A reply to a source whose cookie the handler verified: exempt from the budget. */
export class ValidatedReply {
  readonly reply: Uint8Array | string;
  constructor(reply: Uint8Array | string) {
    this.reply = reply;
  }
}

/** What a handler answers: bytes, text (UTF-8), a validated reply, or nothing. */
export type GuardedReply = Uint8Array | string | ValidatedReply | null | undefined | void;

/** A handler as services write it. */
export type GuardedHandler = (
  data: Uint8Array,
  from: Deno.NetAddr,
) => GuardedReply | Promise<GuardedReply>;

/** A handler as the serve loops run it. */
export type PlainHandler = (
  data: Uint8Array,
  from: Deno.NetAddr,
) =>
  | Uint8Array
  | string
  | null
  | undefined
  | void
  | Promise<Uint8Array | string | null | undefined | void>;

/** An amplification the guard stopped. */
export class AmplificationError extends Error {
  constructor(bytes: number, budget: number, from: Deno.NetAddr) {
    super(
      `dropped a ${bytes}-byte reply to ${from.hostname}:${from.port}: over its ${budget}-byte budget (no cookie)`,
    );
    this.name = "AmplificationError";
  }
}

const encoder = new TextEncoder();
const ERR = [0x45, 0x52, 0x52]; // "ERR"

function isErrorReply(reply: Uint8Array | string): boolean {
  if (typeof reply === "string") return reply.startsWith("ERR");
  return reply.length >= 3 && reply[0] === ERR[0] && reply[1] === ERR[1] && reply[2] === ERR[2];
}

/** The reply's size on the wire, exact only when it might be over `budget`. */
function overBudget(reply: Uint8Array | string, budget: number): number | undefined {
  if (typeof reply !== "string") return reply.length > budget ? reply.length : undefined;
  if (reply.length * 3 <= budget) return undefined; // UTF-8 is at most 3 bytes per unit
  const bytes = encoder.encode(reply).length;
  return bytes > budget ? bytes : undefined;
}

/** Options of {@linkcode guardReplies}. */
export interface GuardOptions {
  /** Counts requests, error replies and service time. */
  monitor?: ServiceMonitor;
  /** Told about a dropped reply (an {@linkcode AmplificationError}). */
  onError?: (err: unknown, from: Deno.NetAddr | undefined) => void;
}

/** Wraps `handler` so that its replies obey the budget and feed the monitor. */
export function guardReplies(handler: GuardedHandler, options: GuardOptions): PlainHandler {
  const { monitor } = options;
  const onError = options.onError ?? (() => {});
  const settle = (reply: GuardedReply, data: Uint8Array, from: Deno.NetAddr, started: number) => {
    if (reply === null || reply === undefined) return reply;
    const out = reply instanceof ValidatedReply ? reply.reply : reply;
    if (!(reply instanceof ValidatedReply)) {
      const budget = replyBudget(data.length);
      const bytes = overBudget(out, budget);
      if (bytes !== undefined) {
        onError(new AmplificationError(bytes, budget, from), from);
        return undefined;
      }
    }
    if (monitor) {
      const error = isErrorReply(out);
      const reason = error ? (typeof out === "string" ? out : new TextDecoder().decode(out)) : "";
      monitor.served(performance.now() - started, error, `${from.hostname}:${from.port}`, reason);
    }
    return out;
  };
  return (data, from) => {
    const started = monitor ? performance.now() : 0;
    const reply = handler(data, from);
    if (reply instanceof Promise) return reply.then((r) => settle(r, data, from, started));
    return settle(reply, data, from, started);
  };
}
