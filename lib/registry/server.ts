/**
 * `socklab registry-server`: exercise 3's registration server. Keeps a list
 * of names (`register`, `unregister`, `who`), prints every change, and answers
 * a client's retry of a change with the first reply instead of applying it twice.
 *
 * ```sh
 * socklab registry-server --port 1503
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { parseFlags, SERVER_OPTIONS, serverAddress, serverHelp } from "../cli/flags.ts";
import { formatHostPort } from "../net/address.ts";
import { listenLine } from "../net/server.ts";
import { bindUdp } from "../net/udp.ts";
import { serveUdp, type UdpHandler } from "../net/udp_serve.ts";
import { DEFAULT_PORT, parseRegistryRequest, Registry } from "./protocol.ts";

const USAGE = "usage: socklab registry-server [--port N] [--bind ADDR]";
const HELP = `Keeps a list of names: "register NAME", "unregister NAME", "who [NAME]".
Prints each change. Names are 1-32 letters, digits, _ . -

${serverHelp(DEFAULT_PORT)}`;

/** The registry service as a datagram handler; `log` hears every change. */
export function registryHandler(
  registry: Registry,
  log: (line: string) => void,
  now: () => number = Date.now,
): UdpHandler {
  return (data, from) => {
    const sender = formatHostPort(from.hostname, from.port);
    const outcome = registry.apply(parseRegistryRequest(data), sender, now());
    if (outcome.change) {
      log(`socklab registry-server: ${outcome.change.name} ${outcome.change.kind} by ${sender}`);
    }
    return outcome.reply;
  };
}

/** Options of {@linkcode runRegistryServer}. */
export interface RegistryServerOptions {
  signal: AbortSignal;
  /** The registry served (default a new, empty one). */
  registry?: Registry;
  /** Where the start-up line, changes and errors go (default console.log). */
  log?: (line: string) => void;
}

/** Serves the registry on an already bound socket until the signal aborts. */
export async function runRegistryServer(
  conn: Deno.DatagramConn,
  options: RegistryServerOptions,
): Promise<void> {
  const log = options.log ?? console.log;
  log(listenLine("registry-server", conn.addr as Deno.NetAddr));
  await serveUdp(conn, registryHandler(options.registry ?? new Registry(), log), {
    signal: options.signal,
    onError: (err) => log(`socklab registry-server: ${err instanceof Error ? err.message : err}`),
  });
}

/** CLI entry point. */
export async function main(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseFlags(args, {
    usage: USAGE,
    help: HELP,
    maxPositionals: 0,
    options: SERVER_OPTIONS,
  });
  const conn = bindUdp(serverAddress(values, DEFAULT_PORT));
  await runRegistryServer(conn, { signal: ctx.signal });
  return 0;
}
