/**
 * The TCP chat server: one connection per client, a room of signed-in
 * connections, and a bounded batching outgoing queue per connection so one
 * client that stops reading is dropped instead of stalling the others.
 *
 * ```sh
 * socklab chat-server --port 5600
 * nc.openbsd 127.0.0.1 5600     # then type: signin bob / chat hello / who / signout
 * ```
 * @module
 */
import { formatAddr } from "../net/address.ts";
import { BatchedWriter } from "../net/batched_writer.ts";
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
}

const encoder = new TextEncoder();

/** One connected client (signed in or not). */
class Client {
  readonly conn: Deno.TcpConn;
  readonly peer: string;
  readonly out: BatchedWriter;
  gone = false;
  /** Closes the connection if it has not signed in in time. */
  signinTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(conn: Deno.TcpConn, maxQueue: number, onError: (c: Client, err: unknown) => void) {
    this.conn = conn;
    this.peer = formatAddr(conn.remoteAddr);
    this.out = new BatchedWriter(conn, {
      maxBytes: maxQueue,
      onError: (err) => onError(this, err),
    });
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
  const overflow = `outgoing queue over ${maxQueue} bytes (client not reading)`;
  const tooLong = encoder.encode(`${tooLongLine(maxLine)}\n`);
  const signinTimeoutMs = options.signinTimeoutMs ?? DEFAULT_SIGNIN_TIMEOUT_MS;
  const signinTimeoutReason = `did not sign in within ${signinTimeoutMs / 1000} s`;
  const signinTimeoutLine = encoder.encode(`ERR ${signinTimeoutReason}\n`);
  const room = new ChatRoom<Client>();
  const clients = new Set<Client>();
  const tasks = new Set<Promise<void>>();

  // Broadcasts are walked one at a time: a notice caused by a drop during a
  // walk (the dropped member's "left") is sent after that walk, not inside it.
  const pending: [string, Client | undefined][] = [];
  let walking = false;

  const drop = (c: Client, why: LeaveReason) => {
    if (c.gone) return;
    c.gone = true;
    clearTimeout(c.signinTimer);
    c.out.close();
    closeQuietly(c.conn);
    clients.delete(c);
    const name = room.nameOf(c);
    if (name === undefined) {
      if (why.kind === "failed") log(logLines.strangerDropped(c.peer, why.reason));
      return;
    }
    apply(c, room.leave(c, why));
  };

  const sendTo = (c: Client, bytes: Uint8Array) => {
    if (!c.out.push(bytes) && !c.gone) drop(c, { kind: "failed", reason: overflow });
  };

  const broadcast = (line: string, except: Client | undefined) => {
    pending.push([line, except]);
    if (walking) return;
    walking = true;
    try {
      for (let next = pending.shift(); next; next = pending.shift()) {
        const bytes = encoder.encode(`${next[0]}\n`);
        // A member dropped in this walk is removed from the room at once; the
        // walk goes on safely (see ChatRoom.members).
        for (const member of room.members()) if (member !== next[1]) sendTo(member, bytes);
      }
    } finally {
      walking = false;
    }
  };

  const apply = (c: Client, outcome: Outcome<Client>) => {
    if (outcome.reply !== undefined && !c.gone) sendTo(c, encoder.encode(`${outcome.reply}\n`));
    if (outcome.event?.kind === "joined") log(logLines.joined(outcome.event.name, c.peer));
    if (outcome.event?.kind === "left") {
      log(logLines.left(outcome.event.name, c.peer, outcome.event.why));
    }
    if (outcome.broadcast !== undefined) broadcast(outcome.broadcast, outcome.except);
  };

  const onWriteError = (c: Client, err: unknown) => {
    drop(c, isGone(err) ? { kind: "closed" } : { kind: "failed", reason: reason(err) });
  };

  const serve = async (c: Client) => {
    try {
      await forEachLine(c.conn, (frame) => {
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
  const onAbort = () => {
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
      const c = new Client(conn, maxQueue, onWriteError);
      clients.add(c);
      c.signinTimer = setTimeout(() => {
        if (c.gone || room.nameOf(c) !== undefined) return;
        sendTo(c, signinTimeoutLine);
        c.out.flushed().then(() => drop(c, { kind: "failed", reason: signinTimeoutReason }));
      }, signinTimeoutMs);
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
