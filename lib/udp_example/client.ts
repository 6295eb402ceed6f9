/**
 * `socklab udp-client`: the lecture's UDP example 1 client. Resolves the
 * server's name and sends each DATA argument as one datagram.
 *
 * ```sh
 * socklab udp-client localhost hello world --port 1500
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { UsageError } from "../cli/errors.ts";
import { intFlag, parseFlags } from "../cli/flags.ts";
import { parseHostPort } from "../net/address.ts";
import { resolveHost } from "../net/resolve.ts";
import { UdpSocket } from "../net/udp.ts";
import { CLIENT_USAGE, DEFAULT_PORT, sendingLine } from "./protocol.ts";

/** The usage line `--help` shows (a missing argument gets the SPEC's exact `usage : ...`). */
const USAGE = "usage: socklab udp-client SERVER[:PORT] DATA1 ... DATAn [--port N]";
const HELP = `Sends each DATA as one UDP datagram to SERVER (a name, an address, or HOST:PORT).

  --port N  server port (default ${DEFAULT_PORT})

Exit status: 0 sent, 1 unknown host or the send failed, 2 usage.`;

/** Sends each item of `data` as one datagram to `server`; returns the address used. */
export async function sendDatagrams(
  server: string,
  port: number,
  data: readonly string[],
  log: (line: string) => void = console.log,
): Promise<string> {
  const ip = await resolveHost(server);
  log(sendingLine(server, ip));
  await using sock = UdpSocket.forTarget(ip);
  for (const item of data) await sock.send(item, { hostname: ip, port });
  return ip;
}

/** CLI entry point. */
export async function main(args: string[], _ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    usage: USAGE,
    help: HELP,
    options: { port: { type: "string" } },
  });
  if (positionals.length < 2) throw new UsageError("Missing argument", CLIENT_USAGE);
  let target;
  try {
    target = parseHostPort(positionals[0], intFlag(values.port, "port", 0, 65535, DEFAULT_PORT));
  } catch (err) {
    throw new UsageError((err as Error).message, CLIENT_USAGE);
  }
  await sendDatagrams(target.hostname, target.port, positionals.slice(1));
  return 0;
}
