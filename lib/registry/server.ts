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
import { intFlag, parseServerFlags } from "../cli/flags.ts";
import { formatHostPort } from "../net/address.ts";
import { AddressCookies } from "../net/amplification.ts";
import type { ServiceMonitor } from "../net/monitor.ts";
import { bindUdp } from "../net/udp.ts";
import { type UdpHandler, ValidatedReply } from "../net/udp_serve.ts";
import { runUdpService } from "../net/udp_service.ts";
import { defaultPerSource } from "../net/quota.ts";
import { TextCache } from "../net/udp_text.ts";
import {
  DEFAULT_PORT,
  MAX_NAMES,
  parseRegistryRequest,
  Registry,
  type RegistryRequest,
} from "./protocol.ts";

const USAGE = "usage: socklab registry-server [--port N] [--bind ADDR] [--max-per-source N]";
const HELP = `Keeps a list of names: "register NAME", "unregister NAME", "who [NAME]".
Prints each change. Names are 1-32 letters, digits, _ . -

A "who" reply to an address that has not echoed its cookie holds at most
max(3x the request, 512) bytes; a longer list ends with
(+N more: send "who cookie=HEX" for all). registry-client does that itself.

  --port N            port (default ${DEFAULT_PORT}; 0 = any free port)
  --bind ADDR         address to bind (default 0.0.0.0; "::" for IPv6)
  --max-per-source N  names one host (IPv4 address, IPv6 /64) may hold
                      (default ${defaultPerSource(MAX_NAMES)}, a quarter of ${MAX_NAMES})

Exit status: 0 after SIGINT or SIGTERM, 1 cannot bind, 2 usage.`;

/** The registry service as a datagram handler; `log` hears every change. */
export function registryHandler(
  registry: Registry,
  log: (line: string) => void,
  options: { now?: () => number; cookies?: AddressCookies; monitor?: ServiceMonitor } = {},
): UdpHandler {
  const now = options.now ?? Date.now;
  const cookies = options.cookies ?? new AddressCookies();
  const monitor = options.monitor;
  const parsed = new TextCache<RegistryRequest>();
  return (data, from) => {
    const req = parseRegistryRequest(data, parsed);
    const asker = {
      sender: formatHostPort(from.hostname, from.port),
      source: from.hostname,
      requestBytes: data.length,
      validated: req.kind === "who" && cookies.verify(from, req.cookie),
      cookie: () => cookies.cookie(from),
    };
    const outcome = registry.apply(req, asker, now());
    if (outcome.change) {
      const { name, kind } = outcome.change;
      log(`socklab registry-server: ${name} ${kind} by ${asker.sender}`);
      monitor?.event(kind === "registered" ? "register" : "unregister", name, asker.sender);
    }
    // A source that echoed its cookie has proven it receives: the whole list may go.
    return asker.validated && outcome.reply ? new ValidatedReply(outcome.reply) : outcome.reply;
  };
}

/** Options of {@linkcode runRegistryServer}. */
export interface RegistryServerOptions {
  signal: AbortSignal;
  /** Names one source may hold (default a quarter of the table). */
  perSource?: number;
  /** Told about requests, changes and the names (the lab console). */
  monitor?: ServiceMonitor;
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
  const { signal, monitor, log = console.log } = options;
  const registry = options.registry ?? new Registry({ perSource: options.perSource });
  monitor?.setState(() => ({ kind: "registry", names: registry.names() }));
  const handler = registryHandler(registry, log, { monitor });
  await runUdpService("registry-server", conn, handler, { signal, monitor, log });
}

/** CLI entry point. */
export async function main(args: string[], ctx: CommandContext): Promise<number> {
  const { values, address } = parseServerFlags(args, {
    usage: USAGE,
    help: HELP,
    defaultPort: DEFAULT_PORT,
    options: { "max-per-source": { type: "string" } },
  });
  const perSource = intFlag(
    values["max-per-source"],
    "max-per-source",
    1,
    MAX_NAMES,
    defaultPerSource(MAX_NAMES),
  );
  await runRegistryServer(bindUdp(address), { signal: ctx.signal, perSource });
  return 0;
}
