/**
 * The command table: name → section, one-line summary, lazy loader. `main.ts`
 * dispatches through it; `socklab --help` prints it grouped by section. Loading
 * is lazy so a quick look-up never loads a server.
 * @module
 */
import type { CommandModule } from "./command.ts";

/** One row of the command table. */
export interface CommandEntry {
  name: string;
  section: Section;
  summary: string;
  load: () => Promise<CommandModule>;
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
    load: () => import("../lookup/hostname.ts"),
  },
  {
    name: "inet",
    section: "Name look-ups",
    summary: "inet aton|ntoa|addr|pton|ntop: IPv4/IPv6 text and numbers, exactly as the C library",
    load: () => import("../lookup/inet_command.ts"),
  },
  {
    name: "gethostbyname",
    section: "Name look-ups",
    summary: "official name and IPv4 addresses of NAME (the lecture's output)",
    load: () => import("../lookup/gethostbyname.ts"),
  },
  {
    name: "getaddrinfo",
    section: "Name look-ups",
    summary: "every address the system resolver returns for NAME [SERVICE], like getent ahosts",
    load: () => import("../lookup/getaddrinfo.ts"),
  },
  {
    name: "getnameinfo",
    section: "Name look-ups",
    summary: "reverse look-up: address to host name, port to service name",
    load: () => import("../lookup/getnameinfo.ts"),
  },
  {
    name: "dns",
    section: "Name look-ups",
    summary: "a direct DNS query (A, AAAA, MX, TXT, PTR, SOA, SRV, ...) with dig-like output",
    load: () => import("../lookup/dns.ts"),
  },
  {
    name: "ifconfig",
    section: "Machine and socket tools",
    summary: "every interface: addresses, prefix/netmask, MAC, flags, MTU, byte counters",
    load: () => import("../sys/ifconfig.ts"),
  },
  {
    name: "info",
    section: "Machine and socket tools",
    summary: "user, host name, architecture, OS, kernel, Deno/V8 versions, CPUs",
    load: () => import("../sys/info.ts"),
  },
  {
    name: "netstat",
    section: "Machine and socket tools",
    summary: "TCP and UDP sockets (IPv4, IPv6) with state and, with -p, the owning program",
    load: () => import("../sys/netstat.ts"),
  },
  {
    name: "nc",
    section: "Machine and socket tools",
    summary: "netcat: connect or listen, TCP or UDP, stdin to socket and socket to stdout",
    load: () => import("../nc/main.ts"),
  },
  {
    name: "udp-server",
    section: "Lecture examples",
    summary: "UDP example 1 server: print every datagram (port 1500)",
    load: () => import("../udp_example/server.ts"),
  },
  {
    name: "udp-client",
    section: "Lecture examples",
    summary: "UDP example 1 client: send each DATA as one datagram",
    load: () => import("../udp_example/client.ts"),
  },
  {
    name: "tcp-server",
    section: "Lecture examples",
    summary: "TCP example 2 server: one client at a time, SEND/RECEIVED turns (port 5000)",
    load: () => import("../tcp_example/server.ts"),
  },
  {
    name: "tcp-client",
    section: "Lecture examples",
    summary: "TCP example 2 client: RECEIVED/SEND turns with the server",
    load: () => import("../tcp_example/client.ts"),
  },
  {
    name: "time-server",
    section: "Exercises",
    summary: "exercise 1 time server: ISO 8601 text and SNTPv4 replies (port 1501)",
    load: () => import("../time/server.ts"),
  },
  {
    name: "time-client",
    section: "Exercises",
    summary: "exercise 1 client: server time, round trip, offset (Cristian, or --ntp)",
    load: () => import("../time/client.ts"),
  },
  {
    name: "rates-server",
    section: "Exercises",
    summary:
      "exercise 2 rates server: CODE or AMOUNT CODE [TARGET], --rates CSV/ECB XML (port 1502)",
    load: () => import("../rates/server.ts"),
  },
  {
    name: "rates-client",
    section: "Exercises",
    summary: "exercise 2 client: a currency against all others, or convert an amount",
    load: () => import("../rates/client.ts"),
  },
  {
    name: "registry-server",
    section: "Exercises",
    summary:
      "exercise 3 registration server: register/unregister/who, retries answered once (port 1503)",
    load: () => import("../registry/server.ts"),
  },
  {
    name: "registry-client",
    section: "Exercises",
    summary: "exercise 3 client: one request, or a prompt (typed or piped)",
    load: () => import("../registry/client.ts"),
  },
  {
    name: "binder",
    section: "Exercises",
    summary:
      "exercise 4a binder: REGISTER/UNREGISTER/LOOKUP/LIST with expiring records (port 5500)",
    load: () => import("../binder/server.ts"),
  },
  {
    name: "exec-server",
    section: "Exercises",
    summary: "exercise 4a server: MIN, MAX, SORTU, SORTD, REVERSE, PERMUTE on big integers",
    load: () => import("../exec/server.ts"),
  },
  {
    name: "exec-client",
    section: "Exercises",
    summary: "exercise 4a client: look CMD up at the binder, call a server, fail over",
    load: () => import("../exec/client.ts"),
  },
  {
    name: "chat-server",
    section: "Exercises",
    summary: "exercise 4b chat server: signin/signout/who/chat, TCP or --udp (port 5600)",
    load: () => import("../chat/server.ts"),
  },
  {
    name: "chat-client",
    section: "Exercises",
    summary: "exercise 4b chat client: sign in, type to chat, messages shown as they arrive",
    load: () => import("../chat/client.ts"),
  },
  {
    name: "demo",
    section: "Whole lab",
    summary: "start the lab's servers on loopback, drive each with its client, print a transcript",
    load: () => import("../demo/main.ts"),
  },
  {
    name: "bench",
    section: "Whole lab",
    summary:
      "bench udp|tcp|chat: load generator, rates, latency percentiles, throughput (iperf3-like)",
    load: () => import("../bench/main.ts"),
  },
];
