/**
 * The command table: name → section, one-line summary, lazy loader. `main.ts`
 * dispatches through it; `socklab --help` prints it grouped by section. Loading
 * is lazy so a quick look-up never loads a server.
 * @module
 */
import type { CommandModule } from "./command.ts";

/** Exit statuses of a server that runs until SIGINT/SIGTERM. */
export const SERVER_EXIT =
  "0 after SIGINT/SIGTERM, 1 cannot start (address in use, no permission), 2 usage.";
/** Exit statuses of a command that does one job and ends. */
export const CLIENT_EXIT =
  "0 success, 1 the operation failed (unknown host, no reply, refused), 2 usage.";

/**
 * Loads a command's module. The specifier is computed on purpose: Deno walks
 * every statically written `import("...")` of the graph at start-up, which
 * cost every command ~10 ms (a sixth of Deno's own start-up) to read modules
 * it never runs. `scripts/bundle.ts` imports them statically for the bundle.
 */
export function loadCommand(entry: CommandEntry): Promise<CommandModule> {
  const loaded = preloaded?.get(entry.name);
  if (loaded) return Promise.resolve(loaded);
  return import(new URL(entry.module, import.meta.url).href);
}

let preloaded: Map<string, CommandModule> | undefined;

/** Hands over modules imported statically (the bundle and the binary do this). */
export function preloadCommands(modules: Record<string, CommandModule>): void {
  preloaded = new Map(Object.entries(modules));
}

/** One row of the command table. */
export interface CommandEntry {
  name: string;
  section: Section;
  summary: string;
  /** The command's module, relative to this file; loaded by {@linkcode loadCommand}. */
  module: string;
  /**
   * What its exit statuses mean, for a `--help` text that does not say
   * (the help builder appends it as the `Exit status:` line).
   */
  exitStatus: string;
}

/** Sections of `socklab --help`, in the order printed. */
export const SECTIONS = [
  "Name look-ups",
  "Machine and socket tools",
  "Lecture examples",
  "Exercises",
  "Whole lab",
] as const;
export type Section = typeof SECTIONS[number];

/** Every command socklab has. */
export const COMMANDS: CommandEntry[] = [
  {
    name: "hostname",
    section: "Name look-ups",
    summary: "this machine's name (gethostname); --verbose for the lecture's line",
    module: "../lookup/hostname.ts",
    exitStatus: CLIENT_EXIT,
  },
  {
    name: "inet",
    section: "Name look-ups",
    summary: "inet aton|ntoa|addr|pton|ntop: IPv4/IPv6 text and numbers, exactly as the C library",
    module: "../lookup/inet_command.ts",
    exitStatus: CLIENT_EXIT,
  },
  {
    name: "gethostbyname",
    section: "Name look-ups",
    summary: "official name and IPv4 addresses of NAME (the lecture's output)",
    module: "../lookup/gethostbyname.ts",
    exitStatus: CLIENT_EXIT,
  },
  {
    name: "getaddrinfo",
    section: "Name look-ups",
    summary: "every address the system resolver returns for NAME [SERVICE], like getent ahosts",
    module: "../lookup/getaddrinfo.ts",
    exitStatus: CLIENT_EXIT,
  },
  {
    name: "getnameinfo",
    section: "Name look-ups",
    summary: "reverse look-up: address to host name, port to service name",
    module: "../lookup/getnameinfo.ts",
    exitStatus: CLIENT_EXIT,
  },
  {
    name: "dns",
    section: "Name look-ups",
    summary: "a direct DNS query (A, AAAA, MX, TXT, PTR, SOA, SRV, ...) with dig-like output",
    module: "../lookup/dns.ts",
    exitStatus: CLIENT_EXIT,
  },
  {
    name: "ifconfig",
    section: "Machine and socket tools",
    summary: "every interface: addresses, prefix/netmask, MAC, flags, MTU, byte counters",
    module: "../sys/ifconfig.ts",
    exitStatus: CLIENT_EXIT,
  },
  {
    name: "info",
    section: "Machine and socket tools",
    summary: "user, host name, architecture, OS, kernel, Deno/V8 versions, CPUs",
    module: "../sys/info.ts",
    exitStatus: CLIENT_EXIT,
  },
  {
    name: "netstat",
    section: "Machine and socket tools",
    summary: "TCP, UDP (and -x Unix) sockets with state, owner (-p), ss filters; -s counters",
    module: "../sys/netstat_command.ts",
    exitStatus: CLIENT_EXIT,
  },
  {
    name: "nc",
    section: "Machine and socket tools",
    summary: "netcat: connect or listen, TCP or UDP, stdin to socket and socket to stdout",
    module: "../nc/main.ts",
    exitStatus: CLIENT_EXIT,
  },
  {
    name: "udp-server",
    section: "Lecture examples",
    summary: "UDP example 1 server: print every datagram (port 1500)",
    module: "../udp_example/server.ts",
    exitStatus: SERVER_EXIT,
  },
  {
    name: "udp-client",
    section: "Lecture examples",
    summary: "UDP example 1 client: send each DATA as one datagram",
    module: "../udp_example/client.ts",
    exitStatus: CLIENT_EXIT,
  },
  {
    name: "tcp-server",
    section: "Lecture examples",
    summary: "TCP example 2 server: one client at a time, SEND/RECEIVED turns (port 5000)",
    module: "../tcp_example/server.ts",
    exitStatus: SERVER_EXIT,
  },
  {
    name: "tcp-client",
    section: "Lecture examples",
    summary: "TCP example 2 client: RECEIVED/SEND turns with the server",
    module: "../tcp_example/client.ts",
    exitStatus: CLIENT_EXIT,
  },
  {
    name: "time-server",
    section: "Exercises",
    summary: "exercise 1 time server: ISO 8601 text and SNTPv4 replies (port 1501)",
    module: "../time/server.ts",
    exitStatus: SERVER_EXIT,
  },
  {
    name: "time-client",
    section: "Exercises",
    summary: "exercise 1 client: server time, round trip, offset (Cristian, or --ntp)",
    module: "../time/client.ts",
    exitStatus: CLIENT_EXIT,
  },
  {
    name: "rates-server",
    section: "Exercises",
    summary:
      "exercise 2 rates server: CODE or AMOUNT CODE [TARGET], --rates CSV/ECB XML (port 1502)",
    module: "../rates/server.ts",
    exitStatus: SERVER_EXIT,
  },
  {
    name: "rates-client",
    section: "Exercises",
    summary: "exercise 2 client: a currency against all others, or convert an amount",
    module: "../rates/client.ts",
    exitStatus: CLIENT_EXIT,
  },
  {
    name: "registry-server",
    section: "Exercises",
    summary:
      "exercise 3 registration server: register/unregister/who, retries answered once (port 1503)",
    module: "../registry/server.ts",
    exitStatus: SERVER_EXIT,
  },
  {
    name: "registry-client",
    section: "Exercises",
    summary: "exercise 3 client: one request, or a prompt (typed or piped)",
    module: "../registry/client.ts",
    exitStatus: CLIENT_EXIT,
  },
  {
    name: "binder",
    section: "Exercises",
    summary:
      "exercise 4a binder: REGISTER/UNREGISTER/LOOKUP/LIST with expiring records (port 5500)",
    module: "../binder/server.ts",
    exitStatus: SERVER_EXIT,
  },
  {
    name: "exec-server",
    section: "Exercises",
    summary: "exercise 4a server: MIN, MAX, SORTU, SORTD, REVERSE, PERMUTE on big integers",
    module: "../exec/server.ts",
    exitStatus: SERVER_EXIT,
  },
  {
    name: "exec-client",
    section: "Exercises",
    summary: "exercise 4a client: look CMD up at the binder, call a server, fail over",
    module: "../exec/client.ts",
    exitStatus: CLIENT_EXIT,
  },
  {
    name: "chat-server",
    section: "Exercises",
    summary: "exercise 4b chat server: signin/signout/who/chat, TCP or --udp (port 5600)",
    module: "../chat/server.ts",
    exitStatus: SERVER_EXIT,
  },
  {
    name: "chat-client",
    section: "Exercises",
    summary: "exercise 4b chat client: sign in, type to chat, messages shown as they arrive",
    module: "../chat/client.ts",
    exitStatus: CLIENT_EXIT,
  },
  {
    name: "demo",
    section: "Whole lab",
    summary: "start the lab's servers on loopback, drive each with its client, print a transcript",
    module: "../demo/main.ts",
    exitStatus:
      "0 every step got its expected reply (--serve: stopped by SIGINT/SIGTERM), 1 a step failed or a service could not start, 2 usage.",
  },
  {
    name: "bench",
    section: "Whole lab",
    summary:
      "bench udp|tcp|chat: load generator, rates, latency percentiles, throughput (iperf3-like)",
    module: "../loadgen/main.ts",
    exitStatus: CLIENT_EXIT,
  },
];
