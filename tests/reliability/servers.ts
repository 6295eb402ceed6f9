/**
 * The servers the reliability suite covers, one entry each: how to start it,
 * which words its protocol knows (the fuzzer mixes them into hostile input),
 * and a well-behaved probe with its exact expected reply. A new server joins
 * fuzzing, the SIGTERM check and (with `client`) the packet-loss test by
 * adding one entry here.
 * @module
 */
import {
  type Exchange,
  lectureTcpProbe,
  printedProbe,
  printedTcpProbe,
  type ProbeFactory,
  tcpLineProbe,
  udpRequestProbe,
} from "./probes.ts";
import type { TableFill } from "./amplification.ts";

/** One server under test. */
export interface ServerEntry {
  /** Name in test names and summary lines (`chat-server --udp`). */
  name: string;
  transport: "udp" | "tcp";
  /** socklab arguments; the harness adds `listen(host, port)` (default `--port PORT --bind HOST`, port 0 = any). */
  args: string[];
  /** Arguments that make it listen on `host` at `port`, when not `--port PORT --bind HOST`. */
  listen?: (host: string, port: number) => string[];
  /** The start-up line; its last number is the port actually bound. */
  ready: RegExp;
  /** Where the start-up line appears (default stdout; `nc -v` says it on stderr). */
  readyOn?: "stdout" | "stderr";
  /** A companion it needs: the harness starts a binder and adds `--binder HOST:PORT`. */
  needs?: "binder";
  /** Words of its protocol, for half-formed and valid-looking hostile input. */
  words: string[];
  /** The well-behaved client and its expected reply. */
  probe: ProbeFactory;
  /**
   * Serves one connection at a time (the lecture's tcp-server): hostile
   * sessions run one after another and idle connections close before probing.
   */
  oneAtATime?: boolean;
  /** Fed to stdin, a line per read, for as long as the server runs (tcp-server's SEND turns). */
  stdinLine?: string;
  /** Its command-line client, for the packet-loss test. */
  client?: LossClient;
  /** Most RSS growth allowed over a fuzzing run, in MB (default {@linkcode RSS_GROWTH_LIMIT_MB}). */
  rssLimitMB?: number;
  /**
   * Why replies over the anti-amplification limit are not yet a failure for
   * this server (the count is still printed); absent: any such reply fails.
   */
  amplificationPending?: string;
  /**
   * UDP: well-behaved requests that grow its tables before the fresh-socket
   * amplification check (amplification.ts), so that listings are long.
   */
  fill?: TableFill;
}

/**
 * Default most RSS growth over a fuzzing run: room for V8's heap to grow under
 * 64 KB datagrams and 10 MB lines (the binder levels off near +90 MB), far
 * below what keeping them would cost.
 */
export const RSS_GROWTH_LIMIT_MB = 128;

/** Where a client is sent: `HOST:PORT` of the server, and of its binder when it has one. */
export interface ClientTarget {
  server: string;
  binder?: string;
}

/** A command-line client run once per request in the packet-loss test. */
export interface LossClient {
  /** Its name in the report (`rates-client`). */
  name: string;
  /** socklab arguments for request `i`, with default time-out and retries. */
  args: (to: ClientTarget, i: number) => string[];
  /** What its stdout must match for request `i` (with exit 0). */
  expect: (i: number) => RegExp;
  /** For a protocol without replies: the line the server prints when request `i` arrives. */
  delivered?: (i: number) => RegExp;
  /**
   * A last look at the server's state after every request: `args` run with
   * generous retries, then `verify` gets its stdout and the requests that
   * succeeded, and returns what is wrong (or nothing).
   */
  final?: {
    args: (to: ClientTarget) => string[];
    verify: (stdout: string, succeeded: number[]) => string | undefined;
  };
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$/;
const RATES_USD = /^1 USD = 0\.653624 GBP, 1\.00481 CAD, 0\.751033 EUR, 1\.07338 AUD$/;

/** The chat servers' command words (and a capitalised one) for the fuzzer. */
const CHAT_WORDS = ["signin", "signout", "who", "chat", "SIGNIN", "chat"];
/** The probe's chat line `i` and its own broadcast, the answer to it. */
const chatExchange = (i: number): Exchange[] => [[
  `chat probe message ${i}`,
  new RegExp(`^Msg probe says: probe message ${i}$`),
]];

/** Every server, UDP first. */
export const SERVERS: ServerEntry[] = [
  {
    name: "udp-server",
    transport: "udp",
    args: ["udp-server"],
    ready: /^socklab udp-server: waiting for data on port UDP \d+$/,
    words: ["hello", "q"],
    // It prints every datagram whole: a 65,507-byte binary one is a 260 KB
    // line of \xNN escapes, and V8's heap grows to ~150 MB under a stream of
    // them (measured: +134 MB at 5,000 datagrams, +146 MB at 50,000: a plateau).
    rssLimitMB: 192,
    probe: printedProbe((i, port) =>
      new RegExp(`^socklab udp-server: from 127\\.0\\.0\\.1:UDP${port} : probe-${i}$`)
    ),
    client: {
      name: "udp-client",
      args: (to, i) => ["udp-client", to.server, `loss-${i}`],
      expect: () => /^socklab udp-client: sending data to '[\d.]+' \(IP : [\d.]+\)$/m,
      delivered: (i) => new RegExp(` : loss-${i}$`),
    },
  },
  {
    name: "time-server",
    transport: "udp",
    args: ["time-server"],
    ready: /^socklab time-server: listening on UDP \S+:\d+$/,
    words: ["TIME", "time"],
    probe: udpRequestProbe(() => [["TIME", ISO_TIME]]),
    client: {
      name: "time-client",
      args: (to) => ["time-client", to.server],
      expect: () => /^server time {3}\d{4}-\d\d-\d\dT/m,
    },
  },
  {
    name: "rates-server",
    transport: "udp",
    args: ["rates-server"],
    ready: /^socklab rates-server: listening on UDP \S+:\d+$/,
    words: ["USD", "GBP", "CAD", "EUR", "AUD", "100", "usd"],
    probe: udpRequestProbe(() => [
      ["USD", RATES_USD],
      ["100 usd eur", /^100 USD = 75\.1033 EUR$/],
    ]),
    client: {
      name: "rates-client",
      args: (to) => ["rates-client", to.server, "USD"],
      expect: () => new RegExp(RATES_USD.source, "m"),
    },
  },
  {
    name: "registry-server",
    transport: "udp",
    args: ["registry-server"],
    ready: /^socklab registry-server: listening on UDP \S+:\d+$/,
    words: ["register", "unregister", "who", "REGISTER"],
    // Out and back in under one name: works even when the fuzzer has filled
    // the registry (its names all start with "f"), and is never a retry.
    probe: udpRequestProbe(() => [
      ["unregister probe", /^OK unregistered probe$/],
      ["register probe", /^OK registered probe$/],
    ], { setup: [["register probe", /^OK registered probe$/]] }),
    // 200 names (within one host's quota of 250): a "who" list of about 2 KB.
    fill: { count: 200, request: (i) => `register fill-${String(i).padStart(3, "0")}` },
    client: {
      name: "registry-client",
      args: (to, i) => ["registry-client", to.server, "register", `r${i}`],
      expect: (i) => new RegExp(`^OK registered r${i}$`, "m"),
      // Each name once: a retried register was never applied twice.
      final: {
        args: (to) => ["registry-client", to.server, "who", "x", "--retries", "20"],
        verify(stdout, succeeded) {
          const names = stdout.trim().split(" ").slice(1);
          if (new Set(names).size !== names.length) return `a name appears twice: ${stdout}`;
          const missing = succeeded.filter((i) => !names.includes(`r${i}`));
          return missing.length
            ? `r${missing[0]} said OK but is not registered: ${stdout}`
            : undefined;
        },
      },
    },
  },
  {
    name: "binder",
    transport: "udp",
    args: ["binder", "--quiet"],
    ready: /^socklab binder: listening on UDP \S+:\d+$/,
    words: ["REGISTER", "UNREGISTER", "LOOKUP", "LIST", "TTL", "register", "lookup"],
    // Records from thousands of fuzzing addresses (up to its 4,096) and the
    // whole table printed on every change: +51 MB at 5,000 datagrams, +126 MB
    // at 100,000 from 2,544 addresses.
    rssLimitMB: 192,
    // PROBE is a name the fuzzer never registers (its names start with "f").
    probe: udpRequestProbe((i): Exchange[] => [
      [`REGISTER PROBE${i % 8}`, new RegExp(`^OK REGISTER PROBE${i % 8}$`)],
      [`LOOKUP PROBE${i % 8}`, new RegExp(`^PROBE${i % 8} 127\\.0\\.0\\.1 \\d+$`)],
    ]),
    // 128 records from 8 ports of one host (issue 17's LIST row): a LIST of about 3.5 KB.
    fill: { count: 128, request: (i) => `REGISTER FILL${i}` },
  },
  {
    name: "exec-server",
    transport: "udp",
    args: ["exec-server"],
    needs: "binder",
    ready: /^socklab exec-server: listening on UDP \S+:\d+$/,
    words: ["MIN", "MAX", "SORTU", "SORT-UP", "SORTD", "SORT-DOWN", "REVERSE", "PERMUTE", "max"],
    probe: udpRequestProbe((i): Exchange[] => [
      [
        `MAX -7 ${i + 1}123456789012345678901234567890 3`,
        new RegExp(`^MAX ${i + 1}123456789012345678901234567890$`),
      ],
      [`SORTU ${i + 2} ${i} -${i + 1}`, new RegExp(`^SORTU -${i + 1} ${i} ${i + 2}$`)],
    ]),
    client: {
      name: "exec-client (via binder)",
      args: (
        to,
        i,
      ) => ["exec-client", "--binder", to.binder!, "MAX", "-5", `${i + 1}`, `${i + 1}0`],
      expect: (i) => new RegExp(`^MAX ${i + 1}0$`, "m"),
    },
  },
  {
    name: "chat-server --udp",
    transport: "udp",
    args: ["chat-server", "--udp"],
    ready: /^socklab chat-server: listening on UDP \S+:\d+$/,
    words: CHAT_WORDS,
    // The probe's socket is signed in as "probe", so it also receives the
    // fuzzer's chat broadcasts: only its own message counts as the answer.
    probe: udpRequestProbe(
      chatExchange,
      {
        // The server asks a new address to prove it receives: echo the cookie it names.
        setup: [
          ["signin probe", /^CONFIRM to sign in, send: signin probe cookie=[0-9a-f]+ /],
          [(confirm) => /send: (\S+ \S+ \S+) /.exec(confirm)![1], /^OK signed in as probe$/],
        ],
        filter: true,
      },
    ),
  },
  {
    name: "tcp-server",
    transport: "tcp",
    args: ["tcp-server"],
    ready: /^TCP Server Waiting for client on port \d+$/,
    words: ["q", "Q", "hello"],
    probe: lectureTcpProbe("srv"),
    oneAtATime: true,
    stdinLine: "srv",
  },
  {
    name: "chat-server",
    transport: "tcp",
    args: ["chat-server"],
    ready: /^socklab chat-server: listening on TCP \S+:\d+$/,
    words: CHAT_WORDS,
    probe: tcpLineProbe(
      chatExchange,
      {
        open: [["signin probe", /^OK signed in as probe$/]],
        close: [["signout", /^OK signed out probe$/]],
      },
    ),
  },
  {
    name: "nc -l",
    transport: "tcp",
    // -k: the next connection after each one ends; -d: nothing from stdin,
    // so it only copies what peers send to its stdout.
    args: ["nc", "-l", "-k", "-d", "-v"],
    listen: (host, port) => ["-p", String(port), host],
    ready: /^socklab nc: listening on TCP \S+:\d+$/,
    readyOn: "stderr",
    words: [],
    // A newline first: the hostile peer before may have left a line unfinished.
    probe: printedTcpProbe((i) => `\nprobe-${i}\n`, (i) => new RegExp(`^probe-${i}$`)),
    oneAtATime: true,
  },
];
