/**
 * `socklab tcp-client`: the lecture's TCP example 2 client. Receives, prints
 * `Received data = TEXT`, then sends a line from stdin; `q`/`Q` ends.
 *
 * ```sh
 * printf 'hi\nq\n' | socklab tcp-client localhost --port 5000
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { UsageError } from "../cli/errors.ts";
import { intFlag, parseFlags } from "../cli/flags.ts";
import { type LineInput, streamInput } from "../cli/input.ts";
import { writeOut } from "../cli/output.ts";
import { formatHostPort, parseHostPort, parsePort } from "../net/address.ts";
import { resolveHost } from "../net/resolve.ts";
import { closeQuietly, connectTcp, isGone } from "../net/tcp.ts";
import { MessageReader } from "./message_reader.ts";
import { clientReceivedLine, DEFAULT_PORT, isQuit } from "./protocol.ts";
import { sendTurn, type Write } from "./turns.ts";

const USAGE = "usage: socklab tcp-client [SERVER[:PORT]] [PORT] [--port N]";
const HELP = `Connects to SERVER (default 127.0.0.1), prints what it sends, and answers
with a line from stdin. q or Q (or end of stdin) ends the session.

  --port N  server port (default ${DEFAULT_PORT})

Exit status: 0 the session ended, 1 cannot connect, 2 usage.`;

/** Options of {@linkcode runTcpClient}. */
export interface TcpClientOptions {
  input: LineInput;
  write?: Write;
  signal?: AbortSignal;
}

/** Runs the client's turns on a connected socket until someone quits. */
export async function runTcpClient(conn: Deno.Conn, options: TcpClientOptions): Promise<void> {
  const write = options.write ?? writeOut;
  const onAbort = () => closeQuietly(conn);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const reader = new MessageReader(conn);
  try {
    while (true) {
      const m = await reader.next();
      if (m === "eof" || m === "idle") {
        if (!options.signal?.aborted) {
          write("socklab tcp-client: the server closed the connection\n");
        }
        return;
      }
      if (isQuit(m.text)) return;
      write(`${clientReceivedLine(m.text, m.bytes)}\n`);
      try {
        if (await sendTurn(conn, options.input, write, options.signal)) return;
      } catch (err) {
        if (isGone(err)) {
          write("socklab tcp-client: the server closed the connection\n");
          return;
        }
        throw err;
      }
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    closeQuietly(conn);
  }
}

/** CLI entry point. */
export async function main(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    usage: USAGE,
    help: HELP,
    maxPositionals: 2,
    options: { port: { type: "string" } },
  });
  let target;
  try {
    const fallback = positionals[1] !== undefined
      ? parsePort(positionals[1])
      : intFlag(values.port, "port", 0, 65535, DEFAULT_PORT);
    target = parseHostPort(positionals[0] ?? "127.0.0.1", fallback);
  } catch (err) {
    throw new UsageError((err as Error).message, USAGE);
  }
  const ip = await resolveHost(target.hostname);
  const conn = await connectTcp(
    { hostname: ip, port: target.port },
    formatHostPort(target.hostname, target.port),
  );
  await runTcpClient(conn, { input: streamInput(), signal: ctx.signal });
  return 0;
}
