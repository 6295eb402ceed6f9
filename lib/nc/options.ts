/**
 * `socklab nc`'s command line as pure code: every flag and every conflict is
 * checked here, before any socket is opened (as OpenBSD nc does).
 *
 * ```text
 * nc [-46dknuvzN] [-w SECS] [--no-shutdown] HOST PORT...   connect (-z: check ports)
 * nc -l [-46dknuvN] [-w SECS] [-p PORT] [HOST] [PORT]      listen
 * PORT... = PORT / LOW-HIGH / PORT,PORT,...                 (several only with -z)
 * ```
 *
 * @example
 * ```ts
 * import { parseNcArgs } from "./options.ts";
 * const o = parseNcArgs(["-lvp", "0"]);
 * console.assert(o.mode === "listen" && o.ports[0] === 0 && o.verbose);
 * ```
 * @module
 */
import { UsageError } from "../cli/errors.ts";
import { parseFlags } from "../cli/flags.ts";
import { DEFAULT_BIND } from "../net/server.ts";

/** Usage lines of `socklab nc`. */
export const USAGE = `usage: socklab nc [-46dknuvzN] [-w SECS] [--no-shutdown] [--json] HOST PORT...
       socklab nc -l [-46dknuvN] [-w SECS] [-p PORT] [HOST] [PORT]`;

const ABOUT = `Connects to HOST PORT (or with -l waits for one peer), then copies stdin to the
socket and the socket to stdout until both ends are done. At end of stdin the
sending side is shut down (half-close), so \`echo hi | socklab nc HOST PORT\`
still prints the whole reply. Status goes to stderr, data to stdout.`;

/** nc's options with their help (short forms as nc users type them). */
const OPTIONS = {
  listen: {
    type: "boolean",
    short: "l",
    help: "listen for one connection (TCP) or one peer (UDP)",
  },
  port: {
    type: "string",
    short: "p",
    arg: "PORT",
    help: "the port to listen on (with -l; 0 = any free port, see -v)",
  },
  "keep-open": {
    type: "boolean",
    short: "k",
    help: "with -l (TCP): after a connection ends, accept the next",
  },
  udp: {
    type: "boolean",
    short: "u",
    help: "UDP instead of TCP: each read of stdin is one datagram",
  },
  "zero-io": {
    type: "boolean",
    short: "z",
    help: "only check whether each PORT is open (TCP); exit 0 if one is",
  },
  verbose: {
    type: "boolean",
    short: "v",
    help: "status on stderr: listening address, peer, connection results",
  },
  wait: {
    type: "string",
    short: "w",
    arg: "SECS",
    help: "give up connecting after SECS, and close after SECS with no data moving either way " +
      "(exit 0)",
  },
  numeric: {
    type: "boolean",
    short: "n",
    help: "HOST must be a numeric address (no name look-up)",
  },
  ipv4: { type: "boolean", short: "4", help: "IPv4 only" },
  ipv6: { type: "boolean", short: "6", help: "IPv6 only" },
  "no-stdin": { type: "boolean", short: "d", help: "do not read stdin (and so never half-close)" },
  shutdown: {
    type: "boolean",
    short: "N",
    help: "shut down the sending side at end of stdin (the default; accepted for nc " +
      "compatibility)",
  },
  "no-shutdown": {
    type: "boolean",
    help: "keep the sending side open at end of stdin (for peers that quit on end of input)",
  },
  json: { type: "boolean", help: "with -z: one JSON document, each port open or closed and why" },
} as const;

/**
 * OpenBSD nc's options that socklab nc does not have, with why: accepted by
 * the parser (so that their value is not taken for HOST) and refused with
 * this reason instead of "unknown option".
 */
export const UNSUPPORTED: Record<string, { type: "string" | "boolean"; why: string }> = {
  s: { type: "string", why: "Deno's TCP connect cannot choose the source address" },
  U: { type: "boolean", why: "Unix domain sockets are not supported" },
  x: { type: "string", why: "proxies are not supported" },
  X: { type: "string", why: "proxies are not supported" },
  e: { type: "string", why: "running a program (ncat -e) is not supported" },
  c: { type: "string", why: "running a program (ncat -c) is not supported" },
  q: { type: "string", why: "use -w SECS to close after SECS without data" },
  t: { type: "boolean", why: "telnet negotiation is not supported" },
  T: { type: "string", why: "Deno sockets cannot set the TOS/DSCP byte" },
  I: { type: "string", why: "Deno sockets cannot set the receive buffer size" },
  O: { type: "string", why: "Deno sockets cannot set the send buffer size" },
  S: { type: "boolean", why: "TCP MD5 signatures are not supported" },
  C: { type: "boolean", why: "CRLF line endings are not supported" },
};

const AFTER = `Not supported (refused with the reason): -${Object.keys(UNSUPPORTED).join(" -")}.

Examples:
  socklab nc -lv -p 9000 > received.bin        # wait for one sender
  socklab nc 127.0.0.1 9000 < file.bin         # send a file, then half-close
  echo hello | socklab nc -u -w 1 ::1 1500     # one datagram over IPv6
  socklab nc -zv 127.0.0.1 20-25               # which ports are open`;

const EXIT = "0 the session ended (end of input, -w idle time, SIGINT/SIGTERM) or, with -z, " +
  "some port open; 1 cannot connect or listen, unknown host, a reset or a send/receive " +
  "error, or with -z no port open; 2 usage.";

/** The flags of {@linkcode UNSUPPORTED}, as parser options named `unsupported-X`. */
const UNSUPPORTED_OPTIONS = Object.fromEntries(
  Object.entries(UNSUPPORTED).map(([letter, o]) => [`unsupported-${letter}`, {
    type: o.type,
    short: letter,
  }]),
) as Record<string, { type: "string" | "boolean"; short: string }>;

/** What to do: connect, listen, or check ports. */
export type NcMode = "connect" | "listen" | "scan";

/** A checked `socklab nc` command line. */
export interface NcOptions {
  mode: NcMode;
  udp: boolean;
  /** The host to connect to, or the address to listen on. */
  host: string;
  /** One port, except for `-z`, which may check several. */
  ports: number[];
  verbose: boolean;
  /** `-w`: connect time-out and idle time-out, in milliseconds; null = none. */
  idleMs: number | null;
  /** Shut down the sending side at end of stdin (default true). */
  shutdownOnEof: boolean;
  /** `-d`: never read stdin. */
  noStdin: boolean;
  /** `-n`: no name look-ups. */
  numeric: boolean;
  /** `-4`/`-6`: 0 when either family will do. */
  family: 0 | 4 | 6;
  /** `-k`: keep accepting connections one after another. */
  keepListening: boolean;
  /** `--json` (with `-z`): one JSON document. */
  json: boolean;
}

/** Longest `-w` accepted: one day. */
export const MAX_WAIT_SECONDS = 86400;
/** Most ports one `-z` run checks. */
export const MAX_SCAN_PORTS = 65536;

function usage(message: string): UsageError {
  return new UsageError(message, USAGE);
}

/** Parses one port 0–65535; `what` names it in the error. */
export function parseNcPort(text: string, what = "port"): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535) {
    throw usage(`Cannot parse ${what} "${text}": must be a number between 0 and 65535`);
  }
  return Number(text);
}

/** Parses `PORT`, `LOW-HIGH` or a comma list of those, in order, without repeats. */
export function parsePortList(text: string): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  for (const part of text.split(",")) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    const [low, high] = range
      ? [parseNcPort(range[1]), parseNcPort(range[2])]
      : [parseNcPort(part), parseNcPort(part)];
    if (low > high) throw usage(`Cannot parse port range "${part}": ${low} is above ${high}`);
    for (let p = low; p <= high; p++) {
      if (seen.has(p)) continue;
      seen.add(p);
      out.push(p);
    }
  }
  if (out.length > MAX_SCAN_PORTS) throw usage(`Too many ports: ${out.length}`);
  return out;
}

/** Throws a UsageError naming the first OpenBSD nc option given that socklab nc lacks. */
function refuseUnsupported(values: Record<string, unknown>): void {
  for (const [letter, o] of Object.entries(UNSUPPORTED)) {
    if (values[`unsupported-${letter}`] !== undefined) {
      throw usage(`-${letter} is not supported: ${o.why}`);
    }
  }
}

type Values = {
  listen?: boolean;
  port?: string;
  "keep-open"?: boolean;
  udp?: boolean;
  "zero-io"?: boolean;
  wait?: string;
  ipv4?: boolean;
  ipv6?: boolean;
  shutdown?: boolean;
  "no-shutdown"?: boolean;
  json?: boolean;
};

/** The conflicts OpenBSD nc refuses too, checked before anything else. */
function checkConflicts(v: Values): void {
  if (v.ipv4 && v.ipv6) throw usage("Cannot use -4 and -6 together");
  if (v.listen && v["zero-io"]) throw usage("Cannot use -l and -z together");
  if (v["keep-open"] && !v.listen) throw usage("-k works only with -l");
  if (v["keep-open"] && v.udp) throw usage("-k works only with TCP");
  if (v["zero-io"] && v.udp) throw usage("-z checks TCP ports only (UDP gives no answer to check)");
  if (v.shutdown && v["no-shutdown"]) throw usage("Cannot use -N and --no-shutdown together");
  if (v.json && !v["zero-io"]) throw usage("--json reports the results of -z");
  if (v.port !== undefined && !v.listen) {
    throw usage(
      "-p sets the port to listen on and works only with -l (the source port of a connection " +
        "cannot be chosen: Deno's connect takes none)",
    );
  }
}

/** `-w SECS` in milliseconds, or null without it. */
export function parseWait(text: string | undefined): number | null {
  if (text === undefined) return null;
  if (!/^[0-9]+(\.[0-9]+)?$/.test(text)) {
    throw usage(`Cannot parse -w "${text}": not a number of seconds`);
  }
  const secs = Number(text);
  if (secs <= 0 || secs > MAX_WAIT_SECONDS) {
    throw usage(`Cannot parse -w "${text}": must be above 0 and at most ${MAX_WAIT_SECONDS}`);
  }
  return Math.round(secs * 1000);
}

/** `-l`: the address and port to listen on, from `-p` or the arguments. */
function listenTarget(v: Values, pos: string[], family: 0 | 4 | 6): [string, number[]] {
  if (pos.length > 2) throw usage(`Unexpected argument "${pos[2]}"`);
  let host: string;
  let portText: string;
  if (v.port !== undefined) {
    if (pos.length === 2) throw usage("Give the port once: with -p or as an argument");
    host = pos[0] ?? "";
    portText = v.port;
  } else if (pos.length === 2) {
    [host, portText] = pos;
  } else if (pos.length === 1 && /^[0-9]+$/.test(pos[0])) {
    host = "";
    portText = pos[0];
  } else {
    throw usage("Missing port to listen on (-p PORT)");
  }
  return [host || (family === 6 ? "::" : DEFAULT_BIND), [parseNcPort(portText)]];
}

/** Connect or `-z`: HOST and its port (or, with `-z`, ports). */
function connectTarget(v: Values, pos: string[]): [string, number[]] {
  if (pos.length < 2) throw usage(pos.length === 0 ? "Missing host and port" : "Missing port");
  if (v["zero-io"]) return [pos[0], pos.slice(1).flatMap(parsePortList)];
  if (pos.length > 2) throw usage(`Unexpected argument "${pos[2]}" (several ports need -z)`);
  const port = parseNcPort(pos[1]);
  if (port === 0) throw usage("Cannot connect to port 0");
  return [pos[0], [port]];
}

/** Parses and checks `socklab nc`'s arguments; throws UsageError (or HelpRequest). */
export function parseNcArgs(args: string[]): NcOptions {
  const { values: v, positionals: pos } = parseFlags(args, {
    usage: USAGE,
    about: ABOUT,
    options: { ...OPTIONS, ...UNSUPPORTED_OPTIONS },
    after: AFTER,
    exitStatus: EXIT,
  });
  refuseUnsupported(v as Record<string, unknown>);
  checkConflicts(v);
  const idleMs = parseWait(v.wait);
  const family: 0 | 4 | 6 = v.ipv4 ? 4 : v.ipv6 ? 6 : 0;
  const mode: NcMode = v.listen ? "listen" : v["zero-io"] ? "scan" : "connect";
  const [host, ports] = v.listen ? listenTarget(v, pos, family) : connectTarget(v, pos);
  return {
    mode,
    udp: v.udp ?? false,
    host,
    ports,
    verbose: v.verbose ?? false,
    idleMs,
    shutdownOnEof: !v["no-shutdown"],
    noStdin: v["no-stdin"] ?? false,
    numeric: v.numeric ?? false,
    family,
    keepListening: v["keep-open"] ?? false,
    json: v.json ?? false,
  };
}
