/**
 * The lab's services as one table: name, transport, SPEC §7 default port, and
 * how to start each one on an address (an in-process server on its own bound
 * socket, stopped by an AbortSignal). `socklab demo` sections and
 * `socklab demo --serve` both start servers through it, so the two never
 * drift apart.
 *
 * @example
 * ```ts
 * import { labService } from "./services.ts";
 * const controller = new AbortController();
 * const rates = await labService("rates-server").start({ signal: controller.signal, log: () => {} });
 * console.assert(rates.addr.transport === "udp" && rates.addr.port > 0);
 * controller.abort();
 * await rates.running;
 * ```
 * @module
 */
import type { LineInput } from "../cli/input.ts";
import type { ServiceMonitor } from "../net/monitor.ts";
import { formatHostPort, type HostPort } from "../net/address.ts";
import { listenTcp } from "../net/tcp.ts";
import { bindUdp } from "../net/udp.ts";
import { runUdpServer } from "../udp_example/server.ts";
import { DEFAULT_PORT as UDP_EXAMPLE_PORT } from "../udp_example/protocol.ts";
import { runTcpServer } from "../tcp_example/server.ts";
import { DEFAULT_PORT as TCP_EXAMPLE_PORT } from "../tcp_example/protocol.ts";
import { runTimeServer } from "../time/server.ts";
import { DEFAULT_PORT as TIME_PORT } from "../time/protocol.ts";
import { runRatesServer } from "../rates/server.ts";
import { DEFAULT_PORT as RATES_PORT } from "../rates/protocol.ts";
import { runRegistryServer } from "../registry/server.ts";
import { DEFAULT_PORT as REGISTRY_PORT } from "../registry/protocol.ts";
import { runBinder } from "../binder/server.ts";
import { DEFAULT_PORT as BINDER_PORT } from "../binder/protocol.ts";
import { runExecServer } from "../exec/server.ts";
import { runTcpChatServer } from "../chat/tcp_server.ts";
import { runUdpChatServer } from "../chat/udp_server.ts";
import { DEFAULT_PORT as CHAT_PORT } from "../chat/protocol.ts";
import type { DemoContext, Transcript } from "./context.ts";

/** How to start one service. */
export interface StartOptions {
  /** Stops the service: its sockets close and `running` settles. */
  signal: AbortSignal;
  /** Address to bind (default 127.0.0.1). */
  bind?: string;
  /** Port to bind (default 0: any free port). */
  port?: number;
  /** Where the service's output goes, one line per call (or text with newlines for `write`). */
  log: (line: string) => void;
  /** Text output for services that prompt (tcp-server); default joins into `log`. */
  write?: (text: string) => void;
  /** The binder an exec-server registers with (required for exec-server). */
  binder?: HostPort;
  /** What tcp-server sends each turn (default {@linkcode autoReplies}). */
  input?: LineInput;
  /** tcp-server: stop after this many connections (default unlimited). */
  maxConnections?: number;
  /** binder: record lifetime in seconds (default the binder's 30). */
  ttlSeconds?: number;
  /** exec-server: time-out per try talking to the binder (default 2000 ms). */
  timeoutMs?: number;
  /** exec-server: send UNREGISTER on the way out (default true). */
  unregisterOnExit?: boolean;
  /** Counts requests, errors and events for the lab console (`demo --serve --web`). */
  monitor?: ServiceMonitor;
}

/** A started service. */
export interface RunningService {
  /** The address it actually bound. */
  addr: Deno.NetAddr;
  /** Settles once the service has stopped (rejects if it failed). */
  running: Promise<void>;
}

/** One row of the lab table. */
export interface LabService {
  /** The command that runs it on its own, e.g. `rates-server`. */
  name: string;
  transport: "udp" | "tcp";
  /** SPEC §7 default port; 0 for any free port (exec-server). */
  defaultPort: number;
  /** A client command line that talks to the service at `addr` (for `--serve`). */
  tryIt(addr: string): string;
  /** Binds and starts the service; resolves once it is ready for clients. */
  start(options: StartOptions): Promise<RunningService>;
}

function udpSocket(options: StartOptions): Deno.DatagramConn {
  return bindUdp({ hostname: options.bind ?? "127.0.0.1", port: options.port ?? 0 });
}

function tcpListener(options: StartOptions): Deno.TcpListener {
  return listenTcp({ hostname: options.bind ?? "127.0.0.1", port: options.port ?? 0 });
}

type Socket<T extends "udp" | "tcp"> = T extends "udp" ? Deno.DatagramConn : Deno.TcpListener;

/** A row whose service runs on one socket: bound on start, handed to `run` with the options. */
function service<T extends "udp" | "tcp">(
  transport: T,
  name: string,
  defaultPort: number,
  tryIt: (addr: string) => string,
  run: (socket: Socket<T>, options: StartOptions) => Promise<void>,
): LabService {
  return {
    name,
    transport,
    defaultPort,
    tryIt,
    start(options) {
      const socket = (transport === "udp" ? udpSocket(options) : tcpListener(options)) as Socket<T>;
      return Promise.resolve({ addr: socket.addr as Deno.NetAddr, running: run(socket, options) });
    },
  };
}

/**
 * What the lab's tcp-server "types" when nobody sits at it: a numbered line
 * each turn, never EOF (so a connection ends only when the client sends q).
 */
export function autoReplies(): LineInput {
  let turn = 0;
  return {
    interactive: false,
    next: () => Promise.resolve(`hello from the lab's tcp-server (turn ${++turn}); q ends`),
  };
}

/** Splits text with newlines into `log` lines, holding a partial line back. */
function lineJoiner(log: (line: string) => void): (text: string) => void {
  let partial = "";
  return (text) => {
    const parts = (partial + text).split("\n");
    partial = parts.pop() ?? "";
    parts.forEach(log);
  };
}

/** The address clients on this machine use to reach `addr` (a wildcard means loopback). */
export function reachable(addr: Deno.NetAddr): HostPort {
  const hostname = addr.hostname === "0.0.0.0"
    ? "127.0.0.1"
    : addr.hostname === "::"
    ? "::1"
    : addr.hostname;
  return { hostname, port: addr.port };
}

/** Every service of the lab, in the order `--serve` starts them. */
export const LAB_SERVICES: readonly LabService[] = [
  service(
    "udp",
    "udp-server",
    UDP_EXAMPLE_PORT,
    (a) => `socklab udp-client ${a} hello world`,
    runUdpServer,
  ),
  service(
    "tcp",
    "tcp-server",
    TCP_EXAMPLE_PORT,
    (a) => `socklab tcp-client ${a}`,
    (listener, options) =>
      runTcpServer(listener, {
        signal: options.signal,
        input: options.input ?? autoReplies(),
        write: options.write ?? lineJoiner(options.log),
        maxConnections: options.maxConnections,
      }),
  ),
  service("udp", "time-server", TIME_PORT, (a) => `socklab time-client ${a}`, runTimeServer),
  service(
    "udp",
    "rates-server",
    RATES_PORT,
    (a) => `socklab rates-client ${a} USD`,
    runRatesServer,
  ),
  service(
    "udp",
    "registry-server",
    REGISTRY_PORT,
    (a) => `socklab registry-client ${a} register alice`,
    runRegistryServer,
  ),
  service(
    "udp",
    "binder",
    BINDER_PORT,
    (a) => `socklab exec-client --binder ${a} MAX 1 2 3`,
    (conn, { signal, log, monitor, ttlSeconds }) =>
      runBinder(conn, { signal, log, monitor, ttlSeconds }),
  ),
  {
    name: "exec-server",
    transport: "udp",
    defaultPort: 0,
    tryIt: (a) => `socklab bench udp ${a} --payload "MAX 1 2 3" --duration 2`,
    async start(options) {
      if (!options.binder) throw new TypeError("exec-server needs the binder's address");
      const conn = udpSocket(options);
      const addr = conn.addr as Deno.NetAddr;
      let registered!: () => void;
      const ready = new Promise<void>((resolve) => (registered = resolve));
      const running = runExecServer(conn, {
        signal: options.signal,
        binder: options.binder,
        log: options.log,
        timeoutMs: options.timeoutMs,
        unregisterOnExit: options.unregisterOnExit,
        onRegistered: () => registered(),
      });
      // Ready once registered; a binder that does not answer rejects here.
      await Promise.race([ready, running]);
      return { addr, running };
    },
  },
  service(
    "tcp",
    "chat-server",
    CHAT_PORT,
    (a) => `socklab chat-client ${a} alice`,
    (listener, { signal, log, monitor }) => runTcpChatServer(listener, { signal, log, monitor }),
  ),
  service(
    "udp",
    "chat-server --udp",
    CHAT_PORT,
    (a) => `socklab chat-client ${a} alice --udp`,
    (conn, { signal, log, monitor }) => runUdpChatServer(conn, { signal, log, monitor }),
  ),
];

/** The row named `name`. Throws RangeError for a name not in the table. */
export function labService(name: string): LabService {
  const service = LAB_SERVICES.find((s) => s.name === name);
  if (!service) throw new RangeError(`Cannot find lab service "${name}"`);
  return service;
}

/** What `socklab demo --serve` runs: each name once, the exec-server twice (exercise 4a). */
export const SERVE_PLAN: readonly string[] = [
  "udp-server",
  "tcp-server",
  "time-server",
  "rates-server",
  "registry-server",
  "binder",
  "exec-server",
  "exec-server",
  "chat-server",
  "chat-server --udp",
];

/** `HOST:PORT` of an address, IPv6 in brackets. */
export function addressText(addr: Deno.NetAddr): string {
  return formatHostPort(addr.hostname, addr.port);
}

/**
 * Starts the lab service `name` for a demo section: on 127.0.0.1 with a free
 * port, its output in `out`, stopped (and awaited) when the section ends.
 */
export async function startInDemo(
  ctx: DemoContext,
  name: string,
  out: Transcript,
  options: Omit<Partial<StartOptions>, "log" | "write"> = {},
): Promise<RunningService> {
  const service = await labService(name).start({
    signal: ctx.signal,
    log: out.log,
    write: out.write,
    ...options,
  });
  ctx.track(service.running);
  return service;
}
