/**
 * The binder's request handling, as one class: decode a datagram, apply the
 * request to the store (memory or Redis), print what changed, and form the
 * reply, under the binder's rules: REGISTER only from `--allow`ed networks
 * and, with `--key`, only signed and never replayed; LIST to a source that
 * has not completed a round trip at most max(3x the request, 512) bytes
 * (the rest follows its cookie); a store that cannot be reached answers
 * `ERR binder table unavailable ...` at once.
 *
 * With the memory store every answer is computed synchronously (LOOKUP stays
 * a function call on the UDP fast path); with Redis, {@linkcode handle}
 * returns a promise.
 *
 * @example
 * ```ts
 * import { BinderService } from "./service.ts";
 * import { MemoryStore } from "./store.ts";
 * const lines: string[] = [];
 * const binder = new BinderService({
 *   store: new MemoryStore({ ttlMs: 30_000 }),
 *   ttlSeconds: 30,
 *   log: (l) => lines.push(l),
 * });
 * const from = { transport: "udp" as const, hostname: "127.0.0.1", port: 40001 };
 * console.assert(binder.handle(new TextEncoder().encode("REGISTER MAX"), from) === "OK REGISTER MAX");
 * ```
 * @module
 */
import { formatHostPort } from "../net/address.ts";
import { AddressCookies, replyBudget, splitCookie, withCookie } from "../net/amplification.ts";
import type { ServiceMonitor } from "../net/monitor.ts";
import { MAX_DATAGRAM } from "../net/udp.ts";
import { type UdpReply, ValidatedReply } from "../net/udp_serve.ts";
import type { AllowList } from "./allow.ts";
import { MAX_CLOCK_SKEW_MS, verifySignature } from "./auth.ts";
import {
  type BinderRequest,
  formatError,
  formatListReply,
  formatRegisterReply,
  formatTtlReply,
  formatUnregisterReply,
  noServerReply,
  parseRequest,
  recordIp,
} from "./protocol.ts";
import { type BinderStore, type Maybe, type StoredRecord, then } from "./store.ts";
import { formatTable, TableLimitError } from "./table.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const NOT_TEXT = encoder.encode(formatError("request is not UTF-8 text"));

/** Options of {@linkcode BinderService}. */
export interface BinderServiceOptions {
  store: BinderStore;
  /** The record lifetime, for messages and the TTL reply. */
  ttlSeconds: number;
  /** Where each line goes. */
  log: (line: string) => void;
  /** Leave out the line per LOOKUP, LIST and refused request (table changes still print). */
  quiet?: boolean;
  /** Networks REGISTER is accepted from (default: any). */
  allow?: AllowList;
  /** Shared key: REGISTER must be signed with it (default: unsigned accepted). */
  key?: Uint8Array;
  /** Address cookies for large LIST replies (default: a fresh random secret). */
  cookies?: AddressCookies;
  /** Told about table changes and the table itself (the lab console; serveUdp counts requests). */
  monitor?: ServiceMonitor;
  /** Wall clock for signature times (default Date.now). */
  wallClock?: () => number;
  /** Called with the delay to the next expiry after a change adds records. */
  onAdded?: (nextInMs: number) => void;
}

/** Binder state and rules; {@linkcode handle} answers one datagram. */
export class BinderService {
  readonly store: BinderStore;
  readonly ttlSeconds: number;
  readonly #log: (line: string) => void;
  readonly #quiet: boolean;
  readonly #allow?: AllowList;
  readonly #key?: Uint8Array;
  readonly #cookies: AddressCookies;
  readonly #monitor?: ServiceMonitor;
  readonly #wallClock: () => number;
  readonly #onAdded?: (nextInMs: number) => void;
  readonly #ttlReply: Uint8Array;
  /** The last table read, for the console when the store answers asynchronously. */
  #snapshot: { at: number; records: StoredRecord[] } = { at: 0, records: [] };

  constructor(options: BinderServiceOptions) {
    this.store = options.store;
    this.ttlSeconds = options.ttlSeconds;
    this.#log = options.log;
    this.#quiet = options.quiet ?? false;
    this.#allow = options.allow;
    this.#key = options.key;
    this.#cookies = options.cookies ?? new AddressCookies();
    this.#monitor = options.monitor;
    this.#wallClock = options.wallClock ?? Date.now;
    this.#onAdded = options.onAdded;
    this.#ttlReply = encoder.encode(formatTtlReply(options.ttlSeconds));
    this.#monitor?.setState(() => ({ kind: "binder", records: this.#consoleRecords() }));
  }

  /**
   * The reply to one datagram (a promise when the store answers later);
   * nothing for a reply. A LIST reply to a source that echoed its cookie
   * comes as a ValidatedReply (exempt from the amplification budget).
   */
  handle(data: Uint8Array, from: Deno.NetAddr): Maybe<UdpReply> {
    let text: string;
    try {
      text = decoder.decode(data);
    } catch {
      this.#note(from, "not text");
      return NOT_TEXT;
    }
    const { request, cookie } = splitCookie(text);
    const req = parseRequest(request);
    switch (req.kind) {
      case "lookup":
        return this.#guard(() => this.#lookup(req.command, from), from);
      case "register":
        return this.#guard(() => this.#register(req, from), from);
      case "unregister":
        return this.#guard(() => this.#unregister(from), from);
      case "list":
        return this.#guard(() => this.#list(req, from, data.length, cookie), from);
      case "ttl":
        return this.#ttlReply;
      case "ignore":
        return undefined;
      case "error":
        return this.#refuse(req.reason, from);
    }
  }

  /** Removes expired records and prints the table if any went; resolves to the next expiry's delay. */
  sweep(): Maybe<number | undefined> {
    return then(this.store.expire(), ({ gone, nextInMs }) => {
      if (gone.length === 0) return this.#refreshSnapshot(nextInMs);
      const n = gone.length;
      const text = `${n} record${n === 1 ? "" : "s"} expired (${
        servers(gone)
      } did not re-register within ${this.ttlSeconds} s)`;
      this.#monitor?.event("expiry", text);
      return then(this.#printTable(text), () => nextInMs);
    });
  }

  #lookup(command: string, from: Deno.NetAddr): Maybe<UdpReply> {
    return then(this.store.lookup(command), (hit) => {
      if (this.#quiet) return hit ? hit.reply : noServerReply(command);
      return then(hit?.matching ?? this.store.matching(command), (all) => {
        const found = all.length === 0
          ? "no record"
          : `${all.length} record${all.length === 1 ? "" : "s"} (${servers(all)})`;
        this.#log(
          `socklab binder: LOOKUP ${command} from ${senderText(from)}: ${found} -> ${
            hit ? formatHostPort(hit.ip, hit.port) : "ERR"
          }`,
        );
        return hit ? hit.reply : noServerReply(command);
      });
    });
  }

  #register(
    req: Extract<BinderRequest, { kind: "register" }>,
    from: Deno.NetAddr,
  ): Maybe<UdpReply> {
    const ip = recordIp(from.hostname);
    if (this.#allow && !this.#allow.allows(ip)) {
      return this.#refuse(`REGISTER not allowed from ${ip} (binder --allow)`, from);
    }
    if (!this.#key) return this.#record(req.commands, from);
    const why = verifySignature(req.signature, this.#key, this.#wallClock());
    if (why) return this.#refuse(why, from);
    return then(
      this.store.claimSignature(req.signature!.sig, 2 * MAX_CLOCK_SKEW_MS),
      (fresh) =>
        fresh
          ? this.#record(req.commands, from)
          : this.#refuse("replayed REGISTER refused (this signature was used before)", from),
    );
  }

  #record(commands: string[], from: Deno.NetAddr): Maybe<UdpReply> {
    const ip = recordIp(from.hostname);
    return then(this.store.register(ip, from.port, commands), (result) => {
      const reply = formatRegisterReply(commands);
      if (result.added.length === 0) return reply;
      const text = `REGISTER ${commands.join(" ")} from ${
        senderText(from)
      } (${result.added.length} new)`;
      this.#monitor?.event("register", text, senderText(from));
      this.#onAdded?.(Math.min(...result.added.map((r) => r.expiresInMs)));
      return then(this.#printTable(text), () => reply);
    });
  }

  #unregister(from: Deno.NetAddr): Maybe<UdpReply> {
    const sender = senderText(from);
    return then(this.store.unregister(recordIp(from.hostname), from.port), (gone) => {
      if (gone.length === 0) {
        if (!this.#quiet) {
          this.#log(
            `socklab binder: UNREGISTER from ${sender}: it has no records (only the registering address can delete records)`,
          );
        }
        return formatUnregisterReply(0);
      }
      this.#log(`socklab binder: UNREGISTER from ${sender} deletes:`);
      for (const r of gone) this.#log(`  ${r.command} ${r.ip} ${r.port}`);
      const text = `UNREGISTER from ${sender} (${gone.length} deleted)`;
      this.#monitor?.event("unregister", text, sender);
      return then(this.#printTable(text), () => formatUnregisterReply(gone.length));
    });
  }

  #list(
    req: Extract<BinderRequest, { kind: "list" }>,
    from: Deno.NetAddr,
    requestBytes: number,
    cookie: string | undefined,
  ): Maybe<UdpReply> {
    const validated = this.#cookies.verify(from, cookie);
    return then(this.store.records(req.command), (records) => {
      if (!this.#quiet) {
        this.#log(
          `socklab binder: LIST${req.command ? ` ${req.command}` : ""} from ${
            senderText(from)
          }: ${records.length} record${records.length === 1 ? "" : "s"}`,
        );
      }
      const request = req.command ? `LIST ${req.command}` : "LIST";
      const mine = this.#cookies.cookie(from);
      const reply = formatListReply(records.map(view), {
        maxBytes: validated ? MAX_DATAGRAM : replyBudget(requestBytes),
        from: req.from,
        more: (next) => withCookie(`${request} from=${next}`, mine),
      });
      return validated ? new ValidatedReply(reply) : reply;
    });
  }

  /** Runs a store operation, turning its failures into ERR replies. */
  #guard(op: () => Maybe<UdpReply>, from: Deno.NetAddr): Maybe<UdpReply> {
    try {
      const reply = op();
      return reply instanceof Promise ? reply.catch((err) => this.#failed(err, from)) : reply;
    } catch (err) {
      return this.#failed(err, from);
    }
  }

  #failed(err: unknown, from: Deno.NetAddr): string {
    if (err instanceof TableLimitError) return this.#refuse(err.message, from);
    if (this.store.kind === "memory") throw err; // a bug, not an outage: onError reports it
    const why = err instanceof Error ? err.message : String(err);
    return this.#refuse(`binder table unavailable (${why}); try again`, from);
  }

  #refuse(reason: string, from: Deno.NetAddr): string {
    this.#note(from, reason);
    return formatError(reason);
  }

  #note(from: Deno.NetAddr, reason: string): void {
    if (this.#quiet) return;
    this.#log(`socklab binder: ERR to ${formatHostPort(from.hostname, from.port)}: ${reason}`);
  }

  #printTable(event: string): Maybe<void> {
    return then(this.store.records(), (records) => {
      this.#snapshot = { at: performance.now(), records };
      const n = records.length;
      this.#log(`socklab binder: ${event}; table has ${n} record${n === 1 ? "" : "s"}:`);
      for (const line of formatTable(records.map(view))) this.#log(line);
    });
  }

  /** With a monitor and a store that answers later, keeps the console's copy of the table fresh. */
  #refreshSnapshot(nextInMs: number | undefined): Maybe<number | undefined> {
    if (!this.#monitor || this.store.kind === "memory") return nextInMs;
    return then(this.store.records(), (records) => {
      this.#snapshot = { at: performance.now(), records };
      return nextInMs;
    });
  }

  #consoleRecords() {
    const live = this.store.kind === "memory" ? this.store.records() : undefined;
    const elapsed = live ? 0 : performance.now() - this.#snapshot.at;
    const records = live instanceof Array ? live : this.#snapshot.records;
    return records.map((r) => ({
      command: r.command,
      host: r.ip,
      port: r.port,
      expiresInMs: Math.max(0, r.expiresInMs - elapsed),
    })).filter((r) => r.expiresInMs > 0);
  }
}

function view(r: StoredRecord) {
  return {
    command: r.command,
    ip: r.ip,
    port: r.port,
    secondsLeft: Math.ceil(r.expiresInMs / 1000),
  };
}

/** The sender as records show it (computed only when a line needs it: LOOKUP under load does not). */
function senderText(from: Deno.NetAddr): string {
  return formatHostPort(recordIp(from.hostname), from.port);
}

/** `127.0.0.1:40001, 127.0.0.1:40002`: the distinct servers of some records. */
function servers(records: readonly { ip: string; port: number }[]): string {
  return [...new Set(records.map((r) => formatHostPort(r.ip, r.port)))].join(", ");
}
