/**
 * A UDP service's life around the serve loop, written once: the start-up line
 * (`socklab NAME: listening on UDP ADDR:PORT`, which scripts read the port
 * from), the lines the service adds about itself, then {@linkcode serveUdp}
 * until the signal aborts, every failure one line `socklab NAME: [FROM: ]REASON`.
 *
 * @example
 * ```ts
 * import { runUdpService } from "./udp_service.ts";
 * const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
 * const lines: string[] = [];
 * const stop = new AbortController();
 * const serving = runUdpService("echo-server", conn, (data) => data.slice(), {
 *   signal: stop.signal,
 *   log: (line) => lines.push(line),
 *   notes: ["echoes every datagram"],
 * });
 * stop.abort();
 * await serving;
 * console.assert(lines[0].startsWith("socklab echo-server: listening on UDP 127.0.0.1:"));
 * console.assert(lines[1] === "socklab echo-server: echoes every datagram");
 * ```
 * @module
 */
import { formatHostPort } from "./address.ts";
import { listenLine } from "./server.ts";
import { reason } from "./udp.ts";
import { serveUdp, type ServeUdpOptions, type UdpHandler } from "./udp_serve.ts";

/** Options of {@linkcode runUdpService}: those of {@linkcode serveUdp}, and where lines go. */
export interface UdpServiceOptions extends ServeUdpOptions {
  /** Where the start-up line, the notes and the errors go (default console.log). */
  log?: (line: string) => void;
  /** Said after the start-up line, each as `socklab NAME: NOTE` (what is served, limits). */
  notes?: readonly string[];
  /** The start-up line, for a service that has its own (the lecture's udp-server). */
  startLine?: string;
  /** Default: {@linkcode udpErrorLog}. */
  onError?: ServeUdpOptions["onError"];
}

/** Prints the start-up line and the notes, then serves `conn` with `handler` until the signal aborts. */
export async function runUdpService(
  name: string,
  conn: Deno.DatagramConn,
  handler: UdpHandler,
  options: UdpServiceOptions = {},
): Promise<void> {
  const log = options.log ?? console.log;
  log(options.startLine ?? listenLine(name, conn.addr as Deno.NetAddr));
  for (const note of options.notes ?? []) log(`socklab ${name}: ${note}`);
  await serveUdp(conn, handler, { ...options, onError: options.onError ?? udpErrorLog(name, log) });
}

/**
 * The `onError` of a service's serve loop: one line `socklab NAME: FROM: REASON`
 * (`FROM` left out when no sender is known, as for a failed receive).
 *
 * @example
 * ```ts
 * import { udpErrorLog } from "./udp_service.ts";
 * const lines: string[] = [];
 * const from = { transport: "udp" as const, hostname: "::1", port: 9 };
 * udpErrorLog("time-server", (l) => lines.push(l))(new Error("no route"), from);
 * console.assert(lines[0] === "socklab time-server: [::1]:9: no route");
 * ```
 */
export function udpErrorLog(
  name: string,
  log: (line: string) => void,
): (err: unknown, from: Deno.NetAddr | undefined) => void {
  return (err, from) => {
    const sender = from ? `${formatHostPort(from.hostname, from.port)}: ` : "";
    log(`socklab ${name}: ${sender}${reason(err)}`);
  };
}
