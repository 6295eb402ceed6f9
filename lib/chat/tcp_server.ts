/**
 * The TCP chat server: one connection per client, each a {@linkcode Seat} of
 * the {@linkcode Room}; lines reach the room's members through the shared
 * log and tick of {@linkcode TcpFanout}, so one client that stops reading is
 * dropped instead of stalling the others. Limits: connections in all and per
 * source address, a sign-in deadline for strangers, a line length.
 *
 * ```sh
 * socklab chat-server --port 5600
 * nc.openbsd 127.0.0.1 5600     # then type: signin bob / chat hello / who / signout
 * ```
 * @module
 */
import { formatAddr } from "../net/address.ts";
import { Outbox, type OutboxShared } from "../net/fanout.ts";
import { forEachLine } from "../net/line_reader.ts";
import type { ServiceMonitor } from "../net/monitor.ts";
import { defaultPerSource, sourceKey, SourceQuota } from "../net/quota.ts";
import { listenLine } from "../net/server.ts";
import { closeQuietly } from "../net/tcp.ts";
import { reason } from "../net/udp.ts";
import { MemoryBus, type RoomBus } from "./bus.ts";
import {
  DEFAULT_MAX_LINE,
  type LeaveReason,
  logLines,
  parseRequest,
  serverFullLine,
  sourceFullLine,
  tooLongLine,
} from "./protocol.ts";
import { Room, type RoomOutput, type Seat } from "./room.ts";
import { DEFAULT_FLUSH_INTERVAL_MS, TcpFanout } from "./tcp_fanout.ts";
import { FastConn, FastListener, openFastTcp } from "./fast_tcp.ts";
import { feedLines } from "./line_feed.ts";
import type { Frame, LineFramer } from "../net/framing.ts";

export { DEFAULT_FLUSH_INTERVAL_MS };

/** Default most clients connected at once. */
export const DEFAULT_MAX_CLIENTS = 1024;
/** Default bound of each client's outgoing queue, in bytes. */
export const DEFAULT_MAX_QUEUE = 256 * 1024;
/**
 * Default time a TCP connection has to sign in: a connection that never signs
 * in would otherwise hold one of the max-clients slots for ever.
 */
export const DEFAULT_SIGNIN_TIMEOUT_MS = 60_000;
/**
 * Read buffer per connection on Deno's sockets (the fast path reads every
 * connection into one shared buffer). Every idle client holds one in its
 * pending read, so it is small (measured: 1 KiB cost 1.5 KiB more RSS per
 * client than 256 B); chat lines are short and longer ones arrive in pieces.
 */
const READ_BUFFER = 256;

/** Options of the chat servers. */
export interface ChatServerOptions {
  /** Stops the server: every socket is closed and the run function resolves. */
  signal: AbortSignal;
  /** Where log lines go (default console.log). */
  log?: (line: string) => void;
  /** Most clients at once (TCP: connections; UDP: members); default {@linkcode DEFAULT_MAX_CLIENTS}. */
  maxClients?: number;
  /**
   * Most clients from one source address (TCP: connections; UDP: members);
   * default a quarter of `maxClients`, at least 16 (lib/net/quota.ts).
   */
  maxPerSource?: number;
  /** Bound of each TCP client's outgoing queue in bytes (default {@linkcode DEFAULT_MAX_QUEUE}). */
  maxQueue?: number;
  /** Longest client line in bytes (default 4096). */
  maxLine?: number;
  /** TCP: ms a connection may stay without signing in (default {@linkcode DEFAULT_SIGNIN_TIMEOUT_MS}). */
  signinTimeoutMs?: number;
  /** TCP: ms without write progress that makes a backlog a stall (default 250). */
  stallMs?: number;
  /** TCP: least ms between two writes to one client (default {@linkcode DEFAULT_FLUSH_INTERVAL_MS}). */
  flushIntervalMs?: number;
  /** UDP: ms a member may stay silent before it is signed out (default 300,000). */
  memberTtlMs?: number;
  /** The room-wide half of the room (default: a {@linkcode MemoryBus}, this server alone). */
  bus?: RoomBus;
  /** Told of every line handled, sign-ins, sign-outs and drops (the lab console). */
  monitor?: ServiceMonitor;
}

const encoder = new TextEncoder();

/** A client's connection: Deno's, or the fast path's (fast_tcp.ts). */
type ChatConn = Deno.TcpConn | FastConn;

/** One connected client (signed in or not). */
class TcpSeat implements Seat {
  readonly conn: ChatConn;
  readonly peer: string;
  readonly host: string;
  readonly out: Outbox<TcpSeat>;
  name: string | undefined = undefined;
  gone = false;
  hinted = false;
  /** Closes the connection if it has not signed in in time. */
  signinTimer: ReturnType<typeof setTimeout> | undefined;
  /** Fast path: the partial line pending (see line_feed.ts). */
  framer: LineFramer | undefined;
  /** Fast path: a line waits for the room (the connection is paused meanwhile). */
  waiting = false;

  constructor(conn: ChatConn, shared: OutboxShared<TcpSeat>) {
    this.conn = conn;
    this.host = conn.remoteAddr.hostname;
    this.peer = formatAddr(conn.remoteAddr);
    this.out = new Outbox<TcpSeat>(shared, conn, this);
  }
}

/** The TCP chat server's state: its listener, room, fan-out and limits. */
export class TcpChatServer implements RoomOutput<TcpSeat> {
  readonly room: Room<TcpSeat>;
  readonly #listener: Deno.TcpListener | FastListener;
  readonly #signal: AbortSignal;
  readonly #log: (line: string) => void;
  readonly #fanout: TcpFanout<TcpSeat>;
  readonly #quota: SourceQuota;
  readonly #maxClients: number;
  readonly #maxLine: number;
  readonly #tooLong: string;
  readonly #signinTimeoutMs: number;
  readonly #tasks = new Set<Promise<void>>();

  constructor(listener: Deno.TcpListener, options: ChatServerOptions) {
    // Linux: epoll and plain system calls through FFI (fast_tcp.ts); elsewhere Deno's sockets.
    const fast = openFastTcp(listener);
    this.#listener = fast ?? listener;
    this.#signal = options.signal;
    this.#log = options.log ?? console.log;
    this.#maxClients = options.maxClients ?? DEFAULT_MAX_CLIENTS;
    const perSource = options.maxPerSource ?? defaultPerSource(this.#maxClients);
    this.#quota = new SourceQuota({ perSource });
    this.#maxLine = options.maxLine ?? DEFAULT_MAX_LINE;
    this.#tooLong = tooLongLine(this.#maxLine);
    this.#signinTimeoutMs = options.signinTimeoutMs ?? DEFAULT_SIGNIN_TIMEOUT_MS;
    this.#fanout = new TcpFanout<TcpSeat>({
      maxQueue: options.maxQueue ?? DEFAULT_MAX_QUEUE,
      stallMs: options.stallMs,
      flushIntervalMs: options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS,
      drop: (c, why) => this.drop(c, why),
    });
    const bus: RoomBus = options.bus ?? new MemoryBus();
    // A lagging reader pauses everyone's input, the room's lines from other instances too.
    bus.holdWhile?.(() => this.#fanout.gate.whenOpen());
    this.room = new Room(bus, this, { monitor: options.monitor });
    fast?.holdReadsWhile(() => this.#fanout.gate.whenOpen());
  }

  /** Accepts and serves clients until the signal aborts; then closes everything. */
  async run(): Promise<void> {
    const signal = this.#signal;
    this.#log(listenLine("chat-server", this.#listener.addr));
    const onAbort = () => this.#close();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      while (!signal.aborted) {
        const conn = await this.#accept();
        if (conn === "stop") break;
        if (conn !== undefined) this.#admit(conn);
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.#close();
      await Promise.allSettled([...this.#tasks]);
      if (this.#listener instanceof FastListener) await this.#listener.done;
    }
  }

  /** Removes `c` at once: its connection closes and the room hears it left. */
  drop(c: TcpSeat, why: LeaveReason): void {
    if (c.gone) return;
    c.gone = true;
    clearTimeout(c.signinTimer);
    c.out.close();
    closeQuietly(c.conn);
    this.#fanout.remove(c);
    this.#quota.release(c.host);
    if (c.name === undefined) {
      if (why.kind === "failed") this.#log(logLines.strangerDropped(c.peer, why.reason));
      return;
    }
    void this.room.leave(c, why);
  }

  // RoomOutput: what the room asks of the connections.

  reply(c: TcpSeat, line: string): void {
    this.#fanout.sendTo(c, encoder.encode(`${line}\n`));
  }

  broadcast(line: string, except: TcpSeat | undefined): void {
    this.#fanout.broadcast(line, except);
  }

  joined(c: TcpSeat): void {
    // Signed in: its sign-in deadline is over (and an idle member holds no timer).
    clearTimeout(c.signinTimer);
    c.signinTimer = undefined;
    this.#log(logLines.joined(c.name!, c.peer));
    // A member follows the log from its sign-in (after its own reply) to its leaving.
    if (!c.gone) c.out.follow();
  }

  left(c: TcpSeat, name: string, why: LeaveReason): void {
    c.out.unfollow();
    this.#log(logLines.left(name, c.peer, why));
    // Signed out but still connected: a stranger again, with a deadline again.
    if (!c.gone) this.#armSigninTimer(c);
  }

  /** The next connection; undefined after a failure already handled; "stop" at shutdown. */
  async #accept(): Promise<ChatConn | undefined | "stop"> {
    const signal = this.#signal;
    let conn: ChatConn;
    try {
      conn = await this.#listener.accept();
    } catch (err) {
      if (signal.aborted || err instanceof Deno.errors.BadResource) return "stop";
      // Out of descriptors, say: wait a little instead of spinning.
      this.#log(`socklab chat-server: accept failed: ${reason(err)}`);
      await pause(100, signal);
      return undefined;
    }
    if (!signal.aborted) return conn;
    closeQuietly(conn);
    return "stop";
  }

  /** Takes a new connection in, or turns it away when the server or its source is full. */
  #admit(conn: ChatConn): void {
    const host = conn.remoteAddr.hostname;
    const refusal = this.#fanout.clients.size >= this.#maxClients
      ? serverFullLine(this.#maxClients)
      : !this.#quota.tryTake(host)
      ? sourceFullLine("connections", sourceKey(host), this.#quota.perSource)
      : undefined;
    if (refusal !== undefined) {
      this.#log(logLines.refused(formatAddr(conn.remoteAddr), refusal.slice(4)));
      conn.write(encoder.encode(`${refusal}\n`)).catch(() => {}).finally(() => closeQuietly(conn));
      return;
    }
    try {
      conn.setNoDelay(true);
    } catch {
      // the peer is already gone; the read loop will notice
    }
    const c = new TcpSeat(conn, this.#fanout.shared);
    this.#fanout.clients.add(c);
    this.#armSigninTimer(c);
    if (conn instanceof FastConn) return this.#feed(c, conn);
    const task = this.#serve(c);
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }

  /** The fast path: chunks as they arrive, into lines, into the room. */
  #feed(c: TcpSeat, conn: FastConn): void {
    conn.start({
      data: (bytes) => {
        if (c.gone) return;
        const frames: Frame[] = [];
        c.framer = feedLines(c.framer, bytes, this.#maxLine, frames);
        this.#process(c, conn, frames, 0);
      },
      end: (err) => {
        const last = err ? undefined : c.framer?.end();
        const r = last && !c.gone ? this.#frame(c, last) : undefined;
        const why: LeaveReason = err ? { kind: "failed", reason: reason(err) } : { kind: "closed" };
        if (r instanceof Promise) r.then(() => this.drop(c, why));
        else this.drop(c, why);
      },
    });
  }

  /** Hands `frames` to the room in order; a line that waits for the room pauses the rest. */
  #process(c: TcpSeat, conn: FastConn, frames: Frame[], from: number): void {
    for (let i = from; i < frames.length; i++) {
      if (c.gone) return;
      const r = this.#frame(c, frames[i]);
      if (!(r instanceof Promise)) continue;
      c.waiting = true;
      conn.pause();
      r.then(() => {
        c.waiting = false;
        this.#process(c, conn, frames, i + 1);
        if (!c.waiting && !c.gone) conn.resume();
      });
      return;
    }
  }

  /** One frame from `c`: a line for the room, or a line too long. */
  #frame(c: TcpSeat, frame: Frame): void | Promise<void> {
    if (frame.kind === "overflow") return this.room.reject(c, this.#tooLong);
    return this.room.handle(c, parseRequest(frame.text));
  }

  /** Reads `c`'s lines into the room until it closes. */
  async #serve(c: TcpSeat): Promise<void> {
    try {
      await forEachLine(this.#fanout.gate.guard(c.conn as Deno.TcpConn), (frame) => {
        if (c.gone) return false;
        return this.#frame(c, frame);
      }, { maxLine: this.#maxLine, bufferSize: READ_BUFFER });
      this.drop(c, { kind: "closed" });
    } catch (err) {
      this.drop(c, { kind: "failed", reason: reason(err) });
    }
  }

  /** A connection that is not signed in gets `signinTimeoutMs` to sign in (again). */
  #armSigninTimer(c: TcpSeat): void {
    const why = `did not sign in within ${this.#signinTimeoutMs / 1000} s`;
    c.signinTimer = setTimeout(() => {
      if (c.gone || c.name !== undefined) return;
      this.#fanout.sendTo(c, encoder.encode(`ERR ${why}\n`));
      c.out.flushed().then(() => this.drop(c, { kind: "failed", reason: why }));
    }, this.#signinTimeoutMs);
  }

  #close(): void {
    this.#fanout.stop();
    closeQuietly(this.#listener);
    for (const c of this.#fanout.clients) {
      clearTimeout(c.signinTimer);
      c.gone = true;
      c.out.close();
      closeQuietly(c.conn);
    }
  }
}

/** Serves the chat over TCP on an open listener until the signal aborts. */
export function runTcpChatServer(
  listener: Deno.TcpListener,
  options: ChatServerOptions,
): Promise<void> {
  return new TcpChatServer(listener, options).run();
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
