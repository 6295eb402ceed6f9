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
import { parseFlags, SERVER_OPTIONS, serverAddress, serverHelp } from "../cli/flags.ts";
import { type LineInput, streamInput } from "../cli/input.ts";
import { writeOut } from "../cli/output.ts";
import { closeQuietly, isGone, listenTcp, readMessage } from "../net/tcp.ts";
import { reason } from "../net/udp.ts";
import {
  connectionLine,
  DEFAULT_PORT,
  isQuit,
  serverReceivedLine,
  waitingLine,
} from "./protocol.ts";
import { sendTurn, type Write } from "./turns.ts";

const USAGE = "usage: socklab tcp-server [--port N] [--bind ADDR]";
const HELP = `Serves one client at a time: SEND a line from stdin, then print what the
client sends back. q or Q (or end of stdin) ends the connection; the next
queued client is served after it.


${serverHelp(DEFAULT_PORT)}`;

/** Options of {@linkcode runTcpServer}. */
export interface TcpServerOptions {
  signal: AbortSignal;
  input: LineInput;
  /** Output text, newlines included (default stdout). */
  write?: Write;
  /** Stop after this many connections (the demo serves one). */
  maxConnections?: number;
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
        await converse(conn, input, write, signal);
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

async function converse(
  conn: Deno.Conn,
  input: LineInput,
  write: Write,
  signal: AbortSignal,
): Promise<void> {
  const peer = conn.remoteAddr as Deno.NetAddr;
  const closed = () =>
    write(`socklab tcp-server: client (${peer.hostname} , ${peer.port}) closed the connection\n`);
  write(`${connectionLine(peer)}\n`);
  while (true) {
    try {
      if (await sendTurn(conn, input, write, signal)) return;
    } catch (err) {
      if (isGone(err)) return closed();
      throw err;
    }
    const text = await readMessage(conn);
    if (text === null) return closed();
    if (isQuit(text)) return;
    write(`${serverReceivedLine(text)}\n`);
  }
}

/** CLI entry point. */
export async function main(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseFlags(args, {
    usage: USAGE,
    help: HELP,
    maxPositionals: 0,
    options: SERVER_OPTIONS,
  });
  const listener = listenTcp(serverAddress(values, DEFAULT_PORT));
  await runTcpServer(listener, { signal: ctx.signal, input: streamInput() });
  return 0;
}
