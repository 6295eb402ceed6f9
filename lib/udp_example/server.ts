/**
 * `socklab udp-server`: the lecture's UDP example 1 server. Prints every
 * datagram it receives, whole (up to 65,507 bytes), one line each.
 *
 * ```sh
 * socklab udp-server --port 0
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { parseServerFlags, serverHelp } from "../cli/flags.ts";
import type { ServiceMonitor } from "../net/monitor.ts";
import { bindUdp } from "../net/udp.ts";
import { runUdpService } from "../net/udp_service.ts";
import { DEFAULT_PORT, receivedLine, waitingLine } from "./protocol.ts";

const USAGE = "usage: socklab udp-server [--port N] [--bind ADDR]";
const HELP = `Prints every datagram received, one line each: "from IP:UDPport : text".

${serverHelp(DEFAULT_PORT)}

Exit status: 0 after SIGINT or SIGTERM, 1 cannot bind, 2 usage.`;

/** Options of {@linkcode runUdpServer}. */
export interface UdpServerOptions {
  signal: AbortSignal;
  /** Where each line goes (default console.log). */
  log?: (line: string) => void;
  /** Told about every datagram printed (the lab console; it sends no replies). */
  monitor?: ServiceMonitor;
}

/** Serves UDP example 1 on an already bound socket until the signal aborts. */
export async function runUdpServer(
  conn: Deno.DatagramConn,
  options: UdpServerOptions,
): Promise<void> {
  const { signal, monitor, log = console.log } = options;
  const startLine = waitingLine((conn.addr as Deno.NetAddr).port);
  await runUdpService("udp-server", conn, (data, from) => {
    const started = monitor ? performance.now() : 0;
    log(receivedLine(data, from));
    monitor?.served(performance.now() - started, false, `${from.hostname}:${from.port}`);
  }, { signal, monitor, log, startLine });
}

/** CLI entry point. */
export async function main(args: string[], ctx: CommandContext): Promise<number> {
  const { address } = parseServerFlags(args, {
    usage: USAGE,
    help: HELP,
    defaultPort: DEFAULT_PORT,
  });
  await runUdpServer(bindUdp(address), { signal: ctx.signal });
  return 0;
}
