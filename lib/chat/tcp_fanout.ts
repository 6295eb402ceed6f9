/**
 * How the TCP chat server gets lines to its clients: every broadcast is
 * appended once to a shared log ({@linkcode FanoutLog}); each client's
 * {@linkcode Outbox} knows how far it has written, and the outboxes are
 * written on a shared tick ({@linkcode FlushTicker}), one write per client
 * carrying everything since its last. A client that falls behind while still
 * reading closes the read {@linkcode Gate} (senders wait in TCP, as they would
 * on a blocking server, and nobody's messages are lost); one whose write waits
 * for long is dropped (see lib/net/backlog.ts for the rule).
 *
 * @example
 * ```ts ignore
 * const fanout = new TcpFanout<Client>({ maxQueue: 256 * 1024, drop: (c, why) => server.drop(c, why) });
 * const client = new Client(conn, fanout.shared); // its Outbox follows fanout's log
 * fanout.add(client);
 * fanout.broadcast(new TextEncoder().encode("Msg alice says: hi\n"), undefined);
 * ```
 * @module
 */
import {
  type BacklogLimits,
  backlogLimits,
  DEFAULT_STALL_MS,
  judgeBacklog,
  lagOver,
} from "../net/backlog.ts";
import { FanoutLog, type Outbox, type OutboxShared } from "../net/fanout.ts";
import { FlushTicker } from "../net/flush_ticker.ts";
import { Gate } from "../net/gate.ts";
import { isGone } from "../net/tcp.ts";
import { reason } from "../net/udp.ts";
import type { LeaveReason } from "./protocol.ts";

/**
 * Default least time between two writes to one client under load, in ms: the
 * price of batching is at most this much latency; it keeps the writes per
 * second near clients × 500 whatever the message rate.
 */
export const DEFAULT_FLUSH_INTERVAL_MS = 2;
/**
 * Least time between two writes to one client while the room is busy (at
 * least {@linkcode BUSY_LINES} lines per tick): each write then carries up to
 * 10 ms of the room, so the writes (and their system calls, most of the CPU
 * per copy) are a fifth, for at most 10 ms more latency.
 */
export const BUSY_FLUSH_INTERVAL_MS = 10;
/** Lines broadcast between two ticks from which the room counts as busy. */
export const BUSY_LINES = 16;

/** A connection the fan-out writes to. */
export interface FanoutClient<C> {
  readonly out: Outbox<C>;
  readonly gone: boolean;
}

/** Options of {@linkcode TcpFanout}. */
export interface TcpFanoutOptions<C> {
  /** Bound of each client's backlog in bytes (see lib/net/backlog.ts). */
  maxQueue: number;
  /** Ms without write progress that makes a backlog a stall (default 250). */
  stallMs?: number;
  /** Least ms between two writes to one client (default {@linkcode DEFAULT_FLUSH_INTERVAL_MS}). */
  flushIntervalMs?: number;
  /** The same while the room is busy (default {@linkcode BUSY_FLUSH_INTERVAL_MS}, at least `flushIntervalMs`). */
  busyFlushIntervalMs?: number;
  /** Called once for a client that must go: its write failed or its backlog is over the limit. */
  drop: (client: C, why: LeaveReason) => void;
}

/** The TCP chat's shared log, tick and backpressure (see the module doc). */
export class TcpFanout<C extends FanoutClient<C>> {
  /** Closed while a client that still reads lags behind: reads through it wait. */
  readonly gate: Gate = new Gate();
  /** What every client's outbox shares (its log, tick and callbacks). */
  readonly shared: OutboxShared<C>;
  /** Every connected client, signed in or not. */
  readonly clients: Set<C> = new Set<C>();
  readonly #log = new FanoutLog();
  readonly #ticker: FlushTicker;
  readonly #limits: BacklogLimits;
  readonly #drop: (client: C, why: LeaveReason) => void;
  readonly #laggers = new Set<C>();
  readonly #suspects = new Set<C>();
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  #dirty = false;
  /** Lines broadcast since the last tick (how busy the room is). */
  #lines = 0;
  /**
   * Backlogs are judged on each tick, and also whenever the log has grown by
   * an eighth of the queue bound since the last time, so a burst read
   * between two ticks closes the gate long before anybody's queue is full.
   */
  readonly #checkEvery: number;
  #checkedAt = 0;

  constructor(options: TcpFanoutOptions<C>) {
    this.#limits = backlogLimits(options.maxQueue, options.stallMs ?? DEFAULT_STALL_MS);
    const interval = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    const busy = Math.max(interval, options.busyFlushIntervalMs ?? BUSY_FLUSH_INTERVAL_MS);
    this.#ticker = new FlushTicker(interval, busy);
    this.#drop = options.drop;
    this.#checkEvery = Math.max(1, this.#limits.maxBytes / 8);
    this.shared = {
      log: this.#log,
      onError: (c, err) =>
        this.#drop(c, isGone(err) ? { kind: "closed" } : { kind: "failed", reason: reason(err) }),
      onProgress: (c) => {
        if (this.#laggers.has(c) && lagOver(c.out.held, 0, this.#limits)) this.#unlag(c);
      },
      schedule: this.#ticker.schedule,
    };
  }

  /** Forgets a client that is gone (its outbox is already closed). */
  remove(c: C): void {
    this.clients.delete(c);
    this.#unlag(c);
    this.#suspects.delete(c);
  }

  /** A line for `c` alone, after everything it was given before. */
  sendTo(c: C, bytes: Uint8Array): void {
    if (c.gone) return;
    c.out.send(bytes);
    this.#check(c, performance.now());
  }

  /** One append of `line` and a line feed for every follower (every member), `except` skipping it. */
  broadcast(line: string, except: C | undefined): void {
    const skip = except !== undefined && except.out.following;
    if (skip) except.out.unfollow();
    this.#log.appendLine(line);
    this.#lines++;
    if (skip) except.out.follow();
    if (this.#log.head - this.#checkedAt > this.#checkEvery) this.#checkAll();
    if (this.#dirty) return;
    this.#dirty = true;
    this.#ticker.schedule(this.#flushAll);
  }

  /** Judges every backlog now, between ticks (a burst read at once may make readers lag). */
  #checkAll(): void {
    this.#checkedAt = this.#log.head;
    const now = performance.now();
    for (const c of this.clients) this.#check(c, now);
  }

  /** Stops the tick and the watchdog and lets every read go (a server shutting down). */
  stop(): void {
    this.#ticker.stop();
    this.gate.dispose();
    clearTimeout(this.#watchdog);
  }

  /** On a tick after broadcasts: writes every outbox, judges backlogs, trims the log. */
  readonly #flushAll = (): void => {
    this.#dirty = false;
    this.#ticker.busy = this.#lines >= BUSY_LINES;
    this.#lines = 0;
    const log = this.#log;
    this.#checkedAt = log.head;
    const now = performance.now();
    let needed = log.head;
    // A drop during the walk is safe: a Set walk skips entries deleted ahead of it.
    for (const c of this.clients) {
      if (!this.#check(c, now)) continue;
      c.out.flush();
      needed = Math.min(needed, c.out.needs);
    }
    log.trim(needed);
  };

  /** Judges `c`'s backlog (see lib/net/backlog.ts); false when it was dropped. */
  #check(c: C, now: number): boolean {
    const limits = this.#limits;
    const held = c.out.held;
    if (held <= limits.lagBytes) return true;
    const stuck = c.out.stuckFor(now);
    const verdict = judgeBacklog(held, stuck, limits);
    if (verdict === "overflow") {
      const why = stuck > limits.stallMs ? notReading(limits.hardBytes) : tooSlow(limits.hardBytes);
      this.#drop(c, { kind: "failed", reason: why, slow: true });
    } else if (verdict === "stalled") {
      this.#drop(c, { kind: "failed", reason: notReading(limits.maxBytes), slow: true });
    } else if (verdict === "lagging") this.#lag(c);
    else if (stuck > limits.stallMs) this.#suspect(c);
    return !c.gone;
  }

  // Backpressure: the gate stays closed while any client in `laggers` is
  // still reading with a backlog. The watchdog notices a lagger whose write
  // got stuck (it stops holding the gate and becomes a suspect) and drops a
  // suspect that stays stuck, traffic or not.

  #lag(c: C): void {
    if (this.#laggers.has(c)) return;
    this.#laggers.add(c);
    this.gate.close();
    this.#watchdog ??= setTimeout(this.#watch, this.#limits.stallMs / 5);
  }

  #unlag(c: C): void {
    if (!this.#laggers.delete(c) || this.#laggers.size > 0) return;
    this.gate.open();
  }

  #suspect(c: C): void {
    this.#suspects.add(c);
    this.#watchdog ??= setTimeout(this.#watch, this.#limits.stallMs / 5);
  }

  readonly #watch = (): void => {
    this.#watchdog = undefined;
    const limits = this.#limits;
    const now = performance.now();
    for (const c of this.#laggers) {
      const stuck = c.out.stuckFor(now);
      if (!lagOver(c.out.held, stuck, limits)) continue;
      this.#unlag(c);
      if (stuck > limits.stallMs) this.#suspects.add(c);
    }
    for (const c of this.#suspects) {
      if (c.gone || c.out.stuckFor(now) <= limits.stallMs) this.#suspects.delete(c);
      else if (!this.#check(c, now)) this.#suspects.delete(c);
    }
    if (this.#laggers.size > 0 || this.#suspects.size > 0) {
      this.#watchdog = setTimeout(this.#watch, limits.stallMs / 5);
    }
  };
}

function notReading(bytes: number): string {
  return `outgoing queue over ${bytes} bytes (client not reading)`;
}

function tooSlow(bytes: number): string {
  return `outgoing queue over ${bytes} bytes (client too slow)`;
}
