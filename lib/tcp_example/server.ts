/**
 * `socklab tcp-server`: the lecture's TCP example 2 server. Serves one client
 * at a time (the others wait in the listen backlog), alternating SEND (a line
 * from stdin) and RECEIVED; `q`/`Q` from either side ends that connection.
 *
 * ```sh
 * printf 'hello\nq\n' | socklab tcp-server --port 0
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { intFlag, parseServerFlags } from "../cli/flags.ts";
import { type LineInput, streamInput } from "../cli/input.ts";
import { writeOut } from "../cli/output.ts";
import { closeQuietly, isGone, listenTcp } from "../net/tcp.ts";
import { MessageReader } from "./message_reader.ts";
import { reason } from "../net/udp.ts";
import {
  connectionLine,
  DEFAULT_PORT,
  isQuit,
  serverReceivedLine,
  waitingLine,
} from "./protocol.ts";
import { sendTurn, type Write } from "./turns.ts";

/** Seconds a client may stay silent on its turn before it is closed. */
const DEFAULT_IDLE_S = 30;
const USAGE = "usage: socklab tcp-server [--port N] [--bind ADDR] [--idle-timeout S]";
const HELP = `Serves one client at a time: SEND a line from stdin, then print what the
client sends back. q or Q (or end of stdin) ends the connection; the next
queued client is served after it. A client silent for --idle-timeout seconds
on its turn is closed, so one idle client cannot keep the others waiting; an
over-long line is printed as its first 1,023 bytes and its length.

  --port N          port (default ${DEFAULT_PORT}; 0 = any free port)
  --bind ADDR       address to bind (default 0.0.0.0; "::" for IPv6)
  --idle-timeout S  close a client silent for S seconds on its turn
                    (default ${DEFAULT_IDLE_S}; 0 = never, as the lecture's server)

Exit status: 0 after SIGINT or SIGTERM, 1 cannot listen, 2 usage.`;

/** Options of {@linkcode runTcpServer}. */
export interface TcpServerOptions {
  signal: AbortSignal;
  input: LineInput;
  /** Output text, newlines included (default stdout). */
  write?: Write;
  /** Stop after this many connections (the demo serves one). */
  maxConnections?: number;
  /** Close a client silent this long on its turn (default 30,000 ms; 0 = never). */
  idleMs?: number;
}

/** Serves TCP example 2 on an open listener until the signal aborts. */
export async function runTcpServer(
  listener: Deno.Listener,
  options: TcpServerOptions,
): Promise<void> {
  const write = options.write ?? writeOut;
  const { signal, input } = options;
  write(`${waitingLine((listener.addr as Deno.NetAddr).port)}\n`);
  let current: Deno.Conn | undefined;
  const onAbort = () => {
    closeQuietly(listener);
    if (current) closeQuietly(current);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  let served = 0;
  try {
    while (!signal.aborted && served < (options.maxConnections ?? Infinity)) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (signal.aborted || err instanceof Deno.errors.BadResource) break;
        write(`socklab tcp-server: accept failed: ${reason(err)}\n`);
        continue;
      }
      served++;
      current = conn;
      try {
        await converse(conn, {
          input,
          write,
          signal,
          idleMs: options.idleMs ?? DEFAULT_IDLE_S * 1000,
        });
      } catch (err) {
        if (!signal.aborted) write(`socklab tcp-server: connection failed: ${reason(err)}\n`);
      } finally {
        closeQuietly(conn);
        current = undefined;
      }
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    closeQuietly(listener);
  }
}

/** One connection's turns: what {@linkcode converse} needs. */
interface Conversation {
  input: LineInput;
  write: Write;
  signal: AbortSignal;
  /** 0: wait for ever. */
  idleMs: number;
}

async function converse(conn: Deno.Conn, talk: Conversation): Promise<void> {
  const { input, write, signal } = talk;
  const peer = conn.remoteAddr as Deno.NetAddr;
  const who = `client (${peer.hostname} , ${peer.port})`;
  const reader = new MessageReader(conn);
  write(`${connectionLine(peer)}\n`);
  while (true) {
    try {
      if (await sendTurn(conn, input, write, signal)) return;
    } catch (err) {
      if (isGone(err)) return write(`socklab tcp-server: ${who} closed the connection\n`);
      throw err;
    }
    const m = await reader.next({ idleMs: talk.idleMs > 0 ? talk.idleMs : undefined });
    if (m === "eof") return write(`socklab tcp-server: ${who} closed the connection\n`);
    if (m === "idle") {
      return write(`socklab tcp-server: ${who} sent nothing for ${talk.idleMs / 1000} s; closed\n`);
    }
    if (isQuit(m.text)) return;
    write(`${serverReceivedLine(m.text, m.bytes)}\n`);
  }
}

/** CLI entry point. */
export async function main(args: string[], ctx: CommandContext): Promise<number> {
  const { values, address } = parseServerFlags(args, {
    usage: USAGE,
    help: HELP,
    defaultPort: DEFAULT_PORT,
    options: { "idle-timeout": { type: "string" } },
  });
  const idleS = intFlag(values["idle-timeout"], "idle-timeout", 0, 86_400, DEFAULT_IDLE_S);
  const listener = listenTcp(address);
  await runTcpServer(listener, { signal: ctx.signal, input: streamInput(), idleMs: idleS * 1000 });
  return 0;
}
