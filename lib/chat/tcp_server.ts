/**
 * The TCP chat server: one connection per client, a room of signed-in
 * connections, and a bounded batching outgoing queue per connection so one
 * client that stops reading is dropped instead of stalling the others.
 *
 * Fan-out under load: a broadcast is appended once to a shared log
 * ({@linkcode FanoutLog}); each client's {@linkcode Outbox} knows how far it
 * has written, and the outboxes are written on a shared tick
 * ({@linkcode FlushTicker}), one write per client carrying everything since
 * its last. A client that falls behind while still reading closes the read
 * {@linkcode Gate} (senders wait in TCP, as they would on a blocking server,
 * and nobody's messages are lost); one whose write waits for long is dropped
 * (see lib/net/backlog.ts).
 *
 * ```sh
 * socklab chat-server --port 5600
 * nc.openbsd 127.0.0.1 5600     # then type: signin bob / chat hello / who / signout
 * ```
 * @module
 */
import { formatAddr } from "../net/address.ts";
import { backlogLimits, DEFAULT_STALL_MS, judgeBacklog, lagOver } from "../net/backlog.ts";
import { FanoutLog, Outbox, type OutboxShared } from "../net/fanout.ts";
import { FlushTicker } from "../net/flush_ticker.ts";
import { Gate } from "../net/gate.ts";
import { listenLine } from "../net/server.ts";
import { forEachLine } from "../net/line_reader.ts";
import { closeQuietly, isGone } from "../net/tcp.ts";
import { reason } from "../net/udp.ts";
import { ChatRoom, type Outcome } from "./members.ts";
import {
  DEFAULT_MAX_LINE,
  type LeaveReason,
  logLines,
  parseRequest,
  serverFullLine,
  tooLongLine,
} from "./protocol.ts";

/** Default most clients connected at once. */
export const DEFAULT_MAX_CLIENTS = 1024;
/** Default bound of each client's outgoing queue, in bytes. */
export const DEFAULT_MAX_QUEUE = 256 * 1024;
/**
 * Default least time between two writes to one client under load, in ms: the
 * price of batching is at most this much latency; it keeps the writes per
 * second near clients × 500 whatever the message rate.
 */
export const DEFAULT_FLUSH_INTERVAL_MS = 2;
/**
 * Read buffer per connection. Every idle client holds one in its pending read,
 * so it is small (measured: 1 KiB cost 1.5 KiB more RSS per client than 256 B);
 * chat lines are short and longer ones arrive in pieces.
 */
const READ_BUFFER = 256;

/**
 * Default time a TCP connection has to sign in: a connection that never signs
 * in would otherwise hold one of the max-clients slots for ever.
 */
export const DEFAULT_SIGNIN_TIMEOUT_MS = 60_000;

/** Options of the chat servers. */
export interface ChatServerOptions {
  /** Stops the server: every socket is closed and the run function resolves. */
  signal: AbortSignal;
  /** Where log lines go (default console.log). */
  log?: (line: string) => void;
  /** Most clients at once (TCP: connections; UDP: members); default {@linkcode DEFAULT_MAX_CLIENTS}. */
  maxClients?: number;
  /** Bound of each TCP client's outgoing queue in bytes (default {@linkcode DEFAULT_MAX_QUEUE}). */
  maxQueue?: number;
  /** Longest client line in bytes (default 4096). */
  maxLine?: number;
  /** TCP: ms a connection may stay without signing in (default {@linkcode DEFAULT_SIGNIN_TIMEOUT_MS}). */
  signinTimeoutMs?: number;
  /** TCP: ms without write progress that makes a backlog a stall (default {@linkcode DEFAULT_STALL_MS}). */
  stallMs?: number;
  /** TCP: least ms between two writes to one client (default {@linkcode DEFAULT_FLUSH_INTERVAL_MS}). */
  flushIntervalMs?: number;
}

const encoder = new TextEncoder();

/** One connected client (signed in or not). */
class Client {
  readonly conn: Deno.TcpConn;
  readonly peer: string;
  readonly out: Outbox<Client>;
  gone = false;
  /** Closes the connection if it has not signed in in time. */
  signinTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(conn: Deno.TcpConn, shared: OutboxShared<Client>) {
    this.conn = conn;
    this.peer = formatAddr(conn.remoteAddr);
    this.out = new Outbox<Client>(shared, conn, this);
  }
}

/** Serves the chat over TCP on an open listener until the signal aborts. */
export async function runTcpChatServer(
  listener: Deno.TcpListener,
  options: ChatServerOptions,
): Promise<void> {
  const log = options.log ?? console.log;
  const { signal } = options;
  const maxClients = options.maxClients ?? DEFAULT_MAX_CLIENTS;
  const maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
  const maxLine = options.maxLine ?? DEFAULT_MAX_LINE;
  const limits = backlogLimits(maxQueue, options.stallMs ?? DEFAULT_STALL_MS);
  const notReading = (bytes: number) => `outgoing queue over ${bytes} bytes (client not reading)`;
  const tooSlow = `outgoing queue over ${limits.hardBytes} bytes (client too slow)`;
  const ticker = new FlushTicker(options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS);
  // Closed while a client that still reads lags behind: see the module doc.
  const gate = new Gate();
  const laggers = new Set<Client>();
  const suspects = new Set<Client>();
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  const tooLong = encoder.encode(`${tooLongLine(maxLine)}\n`);
  const signinTimeoutMs = options.signinTimeoutMs ?? DEFAULT_SIGNIN_TIMEOUT_MS;
  const signinTimeoutReason = `did not sign in within ${signinTimeoutMs / 1000} s`;
  const signinTimeoutLine = encoder.encode(`ERR ${signinTimeoutReason}\n`);
  const room = new ChatRoom<Client>();
  const clients = new Set<Client>();
  const tasks = new Set<Promise<void>>();
  // Every broadcast, once; members follow it (see apply).
  const fanout = new FanoutLog();
  let fanoutDirty = false;
  // Backlogs are judged on each tick, and also whenever the log has grown by
  // an eighth of the queue bound since the last time, so a burst read
  // between two ticks closes the gate long before anybody's queue is full.
  const checkEvery = Math.max(1, limits.maxBytes / 8);
  let checkedAt = 0;

  const drop = (c: Client, why: LeaveReason) => {
    if (c.gone) return;
    c.gone = true;
    clearTimeout(c.signinTimer);
    c.out.close();
    closeQuietly(c.conn);
    clients.delete(c);
    unlag(c);
    suspects.delete(c);
    const name = room.nameOf(c);
    if (name === undefined) {
      if (why.kind === "failed") log(logLines.strangerDropped(c.peer, why.reason));
      return;
    }
    apply(c, room.leave(c, why));
  };

  /** Judges `c`'s backlog (see lib/net/backlog.ts); false when it was dropped. */
  const check = (c: Client, now: number): boolean => {
    const held = c.out.held;
    if (held <= limits.lagBytes) return true;
    const stuck = c.out.stuckFor(now);
    const verdict = judgeBacklog(held, stuck, limits);
    if (verdict === "overflow") {
      const why = stuck > limits.stallMs ? notReading(limits.hardBytes) : tooSlow;
      drop(c, { kind: "failed", reason: why });
    } else if (verdict === "stalled") drop(c, { kind: "failed", reason: notReading(maxQueue) });
    else if (verdict === "lagging") lag(c);
    else if (stuck > limits.stallMs) suspect(c);
    return !c.gone;
  };

  /** A line for `c` alone, after everything it was given before. */
  const sendTo = (c: Client, bytes: Uint8Array) => {
    if (c.gone) return;
    c.out.send(bytes);
    check(c, performance.now());
  };

  /** On a tick after broadcasts: writes every outbox, judges backlogs, trims the log. */
  const flushAll = () => {
    fanoutDirty = false;
    checkedAt = fanout.head;
    const now = performance.now();
    let needed = fanout.head;
    // A drop during the walk is safe: a Set walk skips entries deleted ahead of it.
    for (const c of clients) {
      if (!check(c, now)) continue;
      c.out.flush();
      needed = Math.min(needed, c.out.needs);
    }
    fanout.trim(needed);
  };

  // Backpressure: the gate stays closed while any client in `laggers` is
  // still reading with a backlog. The watchdog notices a lagger whose write
  // got stuck (it stops holding the gate and becomes a suspect) and drops a
  // suspect that stays stuck, traffic or not.
  const lag = (c: Client) => {
    if (laggers.has(c)) return;
    laggers.add(c);
    gate.close();
    watchdog ??= setTimeout(watch, limits.stallMs / 5);
  };
  const unlag = (c: Client) => {
    if (!laggers.delete(c) || laggers.size > 0) return;
    gate.open();
  };
  const suspect = (c: Client) => {
    suspects.add(c);
    watchdog ??= setTimeout(watch, limits.stallMs / 5);
  };
  const watch = () => {
    watchdog = undefined;
    const now = performance.now();
    for (const c of laggers) {
      const stuck = c.out.stuckFor(now);
      if (!lagOver(c.out.held, stuck, limits)) continue;
      unlag(c);
      if (stuck > limits.stallMs) suspects.add(c);
    }
    for (const c of suspects) {
      if (c.gone || c.out.stuckFor(now) <= limits.stallMs) suspects.delete(c);
      else if (!check(c, now)) suspects.delete(c);
    }
    if (laggers.size > 0 || suspects.size > 0) watchdog = setTimeout(watch, limits.stallMs / 5);
  };
  const onProgress = (c: Client) => {
    if (laggers.has(c) && lagOver(c.out.held, 0, limits)) unlag(c);
  };

  /** One append for every member (every follower), `except` skipping it. */
  const broadcast = (line: string, except: Client | undefined) => {
    const skip = except !== undefined && except.out.following;
    if (skip) except.out.unfollow();
    fanout.append(encoder.encode(`${line}\n`));
    if (skip) except.out.follow();
    if (fanout.head - checkedAt > checkEvery) return flushAll();
    if (fanoutDirty) return;
    fanoutDirty = true;
    ticker.schedule(flushAll);
  };

  // Followers of the log are exactly the room's members: a member follows
  // from its sign-in (after its own reply and join notice) to its leaving
  // (before the notice of it).
  const apply = (c: Client, outcome: Outcome<Client>) => {
    const event = outcome.event;
    if (outcome.reply !== undefined && !c.gone) sendTo(c, encoder.encode(`${outcome.reply}\n`));
    if (event?.kind === "joined") {
      // Signed in: its sign-in deadline is over (and an idle member holds no timer).
      clearTimeout(c.signinTimer);
      c.signinTimer = undefined;
      log(logLines.joined(event.name, c.peer));
    }
    if (event?.kind === "left") {
      c.out.unfollow();
      log(logLines.left(event.name, c.peer, event.why));
      // Signed out but still connected: a stranger again, with a deadline again.
      if (!c.gone) armSigninTimer(c);
    }
    if (outcome.broadcast !== undefined) broadcast(outcome.broadcast, outcome.except);
    if (event?.kind === "joined" && !c.gone) c.out.follow();
  };

  /** A connection that is not signed in gets `signinTimeoutMs` to sign in (again). */
  const armSigninTimer = (c: Client) => {
    c.signinTimer = setTimeout(() => {
      if (c.gone || room.nameOf(c) !== undefined) return;
      sendTo(c, signinTimeoutLine);
      c.out.flushed().then(() => drop(c, { kind: "failed", reason: signinTimeoutReason }));
    }, signinTimeoutMs);
  };

  const onWriteError = (c: Client, err: unknown) => {
    drop(c, isGone(err) ? { kind: "closed" } : { kind: "failed", reason: reason(err) });
  };

  const serve = async (c: Client) => {
    try {
      await forEachLine(gate.guard(c.conn), (frame) => {
        if (c.gone) return false;
        if (frame.kind === "overflow") sendTo(c, tooLong);
        else apply(c, room.handle(c, parseRequest(frame.text)));
      }, { maxLine, bufferSize: READ_BUFFER });
      drop(c, { kind: "closed" });
    } catch (err) {
      drop(c, { kind: "failed", reason: reason(err) });
    }
  };

  log(listenLine("chat-server", listener.addr));
  const shared: OutboxShared<Client> = {
    log: fanout,
    onError: onWriteError,
    onProgress,
    schedule: ticker.schedule,
  };
  const onAbort = () => {
    ticker.stop();
    gate.dispose();
    clearTimeout(watchdog);
    closeQuietly(listener);
    for (const c of clients) {
      clearTimeout(c.signinTimer);
      c.gone = true;
      c.out.close();
      closeQuietly(c.conn);
    }
  };
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    while (!signal.aborted) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (signal.aborted || err instanceof Deno.errors.BadResource) break;
        // Out of descriptors, say: wait a little instead of spinning.
        log(`socklab chat-server: accept failed: ${reason(err)}`);
        await pause(100, signal);
        continue;
      }
      if (signal.aborted) {
        closeQuietly(conn);
        break;
      }
      if (clients.size >= maxClients) {
        log(logLines.refused(formatAddr(conn.remoteAddr), `server full (${maxClients} clients)`));
        await conn.write(encoder.encode(`${serverFullLine(maxClients)}\n`)).catch(() => {});
        closeQuietly(conn);
        continue;
      }
      try {
        conn.setNoDelay(true);
      } catch {
        // the peer is already gone; the read loop will notice
      }
      const c = new Client(conn, shared);
      clients.add(c);
      armSigninTimer(c);
      const task = serve(c);
      tasks.add(task);
      task.finally(() => tasks.delete(task));
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    onAbort();
    await Promise.allSettled([...tasks]);
  }
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
