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
import { intFlag, parseFlags, SERVER_OPTIONS, serverAddress } from "../cli/flags.ts";
import { type LineInput, streamInput } from "../cli/input.ts";
import { writeOut } from "../cli/output.ts";
import { closeQuietly, isGone, listenTcp } from "../net/tcp.ts";
import { reason } from "../net/udp.ts";
import { MessageReader } from "./messages.ts";
import {
  connectionLine,
  DEFAULT_PORT,
  isQuit,
  serverReceivedLine,
  waitingLine,
} from "./protocol.ts";
import { sendTurn, type Write } from "./turns.ts";

/** Default idle limit, seconds (SPEC §9). */
export const DEFAULT_IDLE_S = 30;

const USAGE = "usage: socklab tcp-server [--port N] [--bind ADDR] [--idle-timeout S]";
const HELP = `Serves one client at a time: SEND a line from stdin, then print what the
client sends back. q or Q (or end of stdin) ends the connection; the next
queued client is served after it. A message longer than 1,023 bytes is shown
cut, with its size.

  --port N          port (default ${DEFAULT_PORT}; 0 = any free port)
  --bind ADDR       address to bind (default 0.0.0.0; "::" for IPv6)
  --idle-timeout S  close a client that sends nothing for S seconds when it is
                    its turn, so the next one is served (default ${DEFAULT_IDLE_S}; 0 = never)

Exit status: 0 after SIGINT/SIGTERM, 1 cannot listen, 2 usage.`;

/** Options of {@linkcode runTcpServer}. */
export interface TcpServerOptions {
  signal: AbortSignal;
  input: LineInput;
  /** Output text, newlines included (default stdout). */
  write?: Write;
  /** Stop after this many connections (the demo serves one). */
  maxConnections?: number;
  /**
   * Closes a client that sends nothing this long when it is its turn (ms;
   * default {@linkcode DEFAULT_IDLE_S} s, 0 = never).
   */
  idleTimeoutMs?: number;
}

/** Serves TCP example 2 on an open listener until the signal aborts. */
export async function runTcpServer(
  listener: Deno.Listener,
  options: TcpServerOptions,
): Promise<void> {
  const write = options.write ?? writeOut;
  const { signal } = options;
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
        await converse(conn, options);
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

/** One connection's turns: SEND, then wait (at most the idle limit) for the client's message. */
async function converse(conn: Deno.Conn, options: TcpServerOptions): Promise<void> {
  const write = options.write ?? writeOut;
  const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_S * 1000;
  const peer = conn.remoteAddr as Deno.NetAddr;
  const client = `client (${peer.hostname} , ${peer.port})`;
  const closed = () => write(`socklab tcp-server: ${client} closed the connection\n`);
  const reader = new MessageReader(conn);
  write(`${connectionLine(peer)}\n`);
  while (true) {
    try {
      if (await sendTurn(conn, options.input, write, options.signal)) return;
    } catch (err) {
      if (isGone(err)) return closed();
      throw err;
    }
    const message = await reader.next(idleMs);
    if (message === null) return closed();
    if (message === "idle") {
      const seconds = Math.round(idleMs / 100) / 10;
      return write(`socklab tcp-server: ${client} sent nothing for ${seconds} s: closing it\n`);
    }
    if (!message.cut && isQuit(message.text)) return;
    write(`${serverReceivedLine(message)}\n`);
  }
}

/** CLI entry point. */
export async function main(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseFlags(args, {
    usage: USAGE,
    help: HELP,
    maxPositionals: 0,
    options: { ...SERVER_OPTIONS, "idle-timeout": { type: "string" } },
  });
  const idleS = intFlag(values["idle-timeout"], "idle-timeout", 0, 86_400, DEFAULT_IDLE_S);
  const listener = listenTcp(serverAddress(values, DEFAULT_PORT));
  await runTcpServer(listener, {
    signal: ctx.signal,
    input: streamInput(),
    idleTimeoutMs: idleS * 1000,
  });
  return 0;
}
