/**
 * An exec server's side of the binder: register its commands at start-up,
 * re-register every ttl/3, fail over to the next binder of `--binder A,B,...`
 * when one stops acknowledging, and unregister on the way out. Everything is
 * sent from the serving socket itself: the binder records the datagram's
 * source address, so that is the address clients will be sent to. With a key
 * (`--key FILE`) every REGISTER is signed afresh (a new time, so never a replay).
 *
 * The binder's replies arrive on the serving socket too: the server's handler
 * hands them to {@linkcode BinderLink.onReply}.
 *
 * @example
 * ```ts ignore
 * import { BinderLink } from "./binder_link.ts";
 * const link = new BinderLink(conn, { binders, names: ["MAX"], signal, log: console.log });
 * const ttl = await link.register();  // FailError when no binder accepts
 * link.startRefresh(ttl);
 * // ... serve; the handler calls link.onReply(text, from) for OK/ERR datagrams
 * await link.unregister();
 * ```
 * @module
 */
import { FailError } from "../cli/errors.ts";
import { formatHostPort, type HostPort } from "../net/address.ts";
import { reason, UdpSocket } from "../net/udp.ts";
import {
  DEFAULT_TTL_SECONDS,
  formatRegister,
  isErrorReply,
  parseRegisterReply,
  parseTtlReply,
  parseUnregisterReply,
  recordIp,
} from "../binder/protocol.ts";
import { signRegister } from "../binder/auth.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const UNREGISTER = encoder.encode("UNREGISTER");

/** Options of {@linkcode BinderLink}. */
export interface BinderLinkOptions {
  /** The binders, tried in order. */
  binders: readonly HostPort[];
  /** Every command name to register. */
  names: readonly string[];
  signal: AbortSignal;
  log: (line: string) => void;
  /** The records' lifetime; `undefined` asks the binder (`TTL`). */
  ttlSeconds?: number;
  /** Wait per try (default 2000 ms). */
  timeoutMs?: number;
  /** Retries per binder at start-up and on the way out (default 2). */
  retries?: number;
  /** Shared key: sign every REGISTER with it. */
  key?: Uint8Array;
}

function label(b: HostPort): string {
  return `binder ${formatHostPort(b.hostname, b.port)}`;
}

/** True when `data` is a binder's answer to `verb`: `OK VERB ...` or an `ERR`. */
export function answers(verb: string, text: string): boolean {
  return text.startsWith(`OK ${verb}`) || isErrorReply(text);
}

/** Registration with one binder of a list, kept alive, failed over, and undone. */
export class BinderLink {
  readonly #conn: Deno.DatagramConn;
  readonly #o: BinderLinkOptions;
  readonly #timeoutMs: number;
  readonly #retries: number;
  #current = 0;
  /** Binders it registered with (each gets UNREGISTER on the way out). */
  readonly #registered = new Set<number>();
  #refresh?: ReturnType<typeof setInterval>;
  #acked = true;
  #sendFailed = false;
  #lastError = "";
  #onUnregistered?: (text: string, from: Deno.NetAddr) => void;

  constructor(conn: Deno.DatagramConn, options: BinderLinkOptions) {
    this.#conn = conn;
    this.#o = options;
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#retries = options.retries ?? 2;
  }

  /** The binder in use. */
  get binder(): HostPort {
    return this.#o.binders[this.#current];
  }

  /**
   * Registers with the first binder that accepts, in order; resolves with the
   * records' ttl. Throws the last failure (FailError) when none does.
   */
  async register(): Promise<number> {
    const setup = new UdpSocket(this.#conn);
    let last: unknown;
    for (let i = 0; i < this.#o.binders.length; i++) {
      try {
        const ttl = await this.#registerWith(setup, this.#o.binders[i]);
        this.#current = i;
        this.#registered.add(i);
        return ttl;
      } catch (err) {
        if (this.#o.signal.aborted) throw err;
        last = err instanceof SyntaxError
          ? new FailError(`${label(this.#o.binders[i])}: ${err.message}`)
          : err;
        if (i + 1 < this.#o.binders.length) {
          this.#o.log(`socklab exec-server: ${(last as Error).message}; trying the next binder`);
        }
      }
    }
    throw last;
  }

  async #registerWith(sock: UdpSocket, binder: HostPort): Promise<number> {
    const talk = {
      timeoutMs: this.#timeoutMs,
      retries: this.#retries,
      label: label(binder),
      signal: this.#o.signal,
    };
    let ttl = this.#o.ttlSeconds;
    if (ttl === undefined) {
      const reply = await sock.request("TTL", binder, talk);
      ttl = parseTtlReply(decoder.decode(reply.data));
      if (ttl === undefined) {
        this.#o.log(
          `socklab exec-server: ${talk.label} does not say its ttl; assuming ${DEFAULT_TTL_SECONDS} s (use --ttl)`,
        );
        ttl = DEFAULT_TTL_SECONDS;
      }
    }
    const reply = await sock.request(this.#registerText(), binder, {
      ...talk,
      accept: (data, from) =>
        from.port === binder.port && answers("REGISTER", decoder.decode(data.subarray(0, 12))),
    });
    const ok = parseRegisterReply(decoder.decode(reply.data));
    if (ok !== true) throw new FailError(`${talk.label} refused REGISTER: ${ok}`);
    return ttl;
  }

  #registerText(): string {
    return this.#o.key ? signRegister(this.#o.names, this.#o.key) : formatRegister(this.#o.names);
  }

  /** Re-registers every `refreshMs`, moving to the next binder when one stops acknowledging. */
  startRefresh(refreshMs: number): void {
    this.#refresh = setInterval(() => this.#refreshOnce(), refreshMs);
  }

  #refreshOnce(): void {
    if (!this.#acked && this.#o.binders.length > 1) {
      const from = this.binder;
      this.#current = (this.#current + 1) % this.#o.binders.length;
      this.#o.log(
        `socklab exec-server: ${
          label(from)
        } did not acknowledge the last REGISTER; re-registering with ${label(this.binder)}`,
      );
    }
    this.#acked = false;
    this.#registered.add(this.#current);
    const to = this.binder;
    const addr: Deno.NetAddr = { transport: "udp", hostname: to.hostname, port: to.port };
    this.#conn.send(encoder.encode(this.#registerText()), addr).then(() => {
      if (this.#sendFailed) {
        this.#o.log(`socklab exec-server: re-registering with ${label(to)} again`);
      }
      this.#sendFailed = false;
    }, (err) => {
      if (!this.#sendFailed && !this.#o.signal.aborted) {
        this.#o.log(`socklab exec-server: cannot re-register with ${label(to)}: ${reason(err)}`);
      }
      this.#sendFailed = true;
    });
  }

  stopRefresh(): void {
    clearInterval(this.#refresh);
    this.#refresh = undefined;
  }

  /** The index of the binder `from` is, or -1. */
  #binderIndex(from: Deno.NetAddr): number {
    const ip = recordIp(from.hostname);
    return this.#o.binders.findIndex((b) => b.port === from.port && recordIp(b.hostname) === ip);
  }

  /**
   * Takes a datagram the server does not answer (`OK ...`/`ERR ...`): true
   * when it came from one of the binders. A binder's ERR is logged (once per
   * distinct reply in a row).
   */
  onReply(text: string, from: Deno.NetAddr): boolean {
    const index = this.#binderIndex(from);
    if (index < 0) return false;
    if (this.#onUnregistered && answers("UNREGISTER", text)) {
      this.#onUnregistered(text, from);
      return true;
    }
    if (text.startsWith("OK REGISTER") && index === this.#current) {
      this.#acked = true;
      this.#lastError = "";
    } else if (isErrorReply(text)) {
      const line = text.trim();
      if (line !== this.#lastError) {
        this.#o.log(`socklab exec-server: ${label(this.#o.binders[index])} says: ${line}`);
      }
      this.#lastError = line;
    }
    return true;
  }

  /** Sends UNREGISTER to every binder registered with; each gets a short wait for its answer. */
  async unregister(): Promise<void> {
    const targets = [...this.#registered].map((i) => this.#o.binders[i]);
    const waiters = new Map<string, (text: string) => void>();
    this.#onUnregistered = (text, from) => {
      waiters.get(`${recordIp(from.hostname)} ${from.port}`)?.(text);
    };
    try {
      await Promise.all(targets.map((b) => this.#unregisterFrom(b, waiters)));
    } finally {
      this.#onUnregistered = undefined;
    }
  }

  async #unregisterFrom(
    binder: HostPort,
    waiters: Map<string, (text: string) => void>,
  ): Promise<void> {
    const tries = this.#retries + 1;
    const waitMs = Math.min(this.#timeoutMs, 500); // shutdown should be quick
    const key = `${recordIp(binder.hostname)} ${binder.port}`;
    const addr: Deno.NetAddr = { transport: "udp", hostname: binder.hostname, port: binder.port };
    for (let attempt = 1; attempt <= tries; attempt++) {
      const text = await new Promise<string | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), waitMs);
        waiters.set(key, (t) => {
          clearTimeout(timer);
          resolve(t);
        });
        this.#conn.send(UNREGISTER, addr).catch(() => {});
      });
      waiters.delete(key);
      if (text === undefined) continue;
      this.#logUnregistered(binder, text);
      return;
    }
    this.#o.log(
      `socklab exec-server: cannot unregister: no reply from ${label(binder)} after ${tries} ${
        tries === 1 ? "try" : "tries"
      }`,
    );
  }

  #logUnregistered(binder: HostPort, text: string): void {
    try {
      const n = parseUnregisterReply(text);
      this.#o.log(
        `socklab exec-server: unregistered from ${label(binder)} (${n} record${
          n === 1 ? "" : "s"
        } deleted)`,
      );
    } catch (err) {
      this.#o.log(`socklab exec-server: cannot unregister: ${(err as Error).message}`);
    }
  }
}
