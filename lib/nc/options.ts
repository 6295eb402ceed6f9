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
export const USAGE = `usage: socklab nc [-46dknuvzN] [-w SECS] [--no-shutdown] HOST PORT...
       socklab nc -l [-46dknuvN] [-w SECS] [-p PORT] [HOST] [PORT]`;

/** Help text after the usage lines. */
export const HELP = `Connects to HOST PORT (or with -l waits for one peer), then copies stdin to the
socket and the socket to stdout until both ends are done. At end of stdin the
sending side is shut down (half-close), so \`echo hi | socklab nc HOST PORT\`
still prints the whole reply. Status goes to stderr, data to stdout.

  -l          listen for one connection (TCP) or one peer (UDP)
  -p PORT     the port to listen on (with -l; 0 = any free port, see -v)
  -k          with -l (TCP): after a connection ends, accept the next
  -u          UDP instead of TCP: each read of stdin is one datagram
  -z          only check whether each PORT is open (TCP); exit 0 if one is
  -v          status on stderr: listening address, peer, connection results
  -w SECS     give up connecting after SECS, and close after SECS with no data
              moving either way (exit 0)
  -n          HOST must be a numeric address (no name look-up)
  -4, -6      IPv4 or IPv6 only
  -d          do not read stdin (and so never half-close)
  -N          shut down the sending side at end of stdin (the default; accepted
              for nc compatibility)
  --no-shutdown  keep the sending side open at end of stdin (for peers that
              quit on end of input)

Examples:
  socklab nc -lv -p 9000 > received.bin        # wait for one sender
  socklab nc 127.0.0.1 9000 < file.bin         # send a file, then half-close
  echo hello | socklab nc -u -w 1 ::1 1500     # one datagram over IPv6
  socklab nc -zv 127.0.0.1 20-25               # which ports are open`;

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

/** Parses and checks `socklab nc`'s arguments; throws UsageError (or HelpRequest). */
export function parseNcArgs(args: string[]): NcOptions {
  const { values: v, positionals: pos } = parseFlags(args, {
    usage: USAGE,
    help: HELP,
    options: {
      listen: { type: "boolean", short: "l" },
      port: { type: "string", short: "p" },
      keep: { type: "boolean", short: "k" },
      udp: { type: "boolean", short: "u" },
      zero: { type: "boolean", short: "z" },
      verbose: { type: "boolean", short: "v" },
      wait: { type: "string", short: "w" },
      numeric: { type: "boolean", short: "n" },
      ipv4: { type: "boolean", short: "4" },
      ipv6: { type: "boolean", short: "6" },
      "no-stdin": { type: "boolean", short: "d" },
      shutdown: { type: "boolean", short: "N" },
      "no-shutdown": { type: "boolean" },
    },
  });
  if (v.ipv4 && v.ipv6) throw usage("Cannot use -4 and -6 together");
  if (v.listen && v.zero) throw usage("Cannot use -l and -z together");
  if (v.keep && !v.listen) throw usage("-k works only with -l");
  if (v.keep && v.udp) throw usage("-k works only with TCP");
  if (v.zero && v.udp) throw usage("-z checks TCP ports only (UDP gives no answer to check)");
  if (v.shutdown && v["no-shutdown"]) throw usage("Cannot use -N and --no-shutdown together");
  if (v.port !== undefined && !v.listen) {
    throw usage("-p sets the port to listen on and works only with -l");
  }
  let idleMs: number | null = null;
  if (v.wait !== undefined) {
    if (!/^[0-9]+(\.[0-9]+)?$/.test(v.wait)) {
      throw usage(`Cannot parse -w "${v.wait}": not a number of seconds`);
    }
    const secs = Number(v.wait);
    if (secs <= 0 || secs > MAX_WAIT_SECONDS) {
      throw usage(`Cannot parse -w "${v.wait}": must be above 0 and at most ${MAX_WAIT_SECONDS}`);
    }
    idleMs = Math.round(secs * 1000);
  }
  const family: 0 | 4 | 6 = v.ipv4 ? 4 : v.ipv6 ? 6 : 0;
  let mode: NcMode;
  let host: string;
  let ports: number[];
  if (v.listen) {
    mode = "listen";
    if (pos.length > 2) throw usage(`Unexpected argument "${pos[2]}"`);
    let portText: string | undefined;
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
    host ||= family === 6 ? "::" : DEFAULT_BIND;
    ports = [parseNcPort(portText)];
  } else {
    mode = v.zero ? "scan" : "connect";
    if (pos.length < 2) throw usage(pos.length === 0 ? "Missing host and port" : "Missing port");
    host = pos[0];
    if (v.zero) {
      ports = pos.slice(1).flatMap(parsePortList);
    } else {
      if (pos.length > 2) throw usage(`Unexpected argument "${pos[2]}" (several ports need -z)`);
      ports = [parseNcPort(pos[1])];
      if (ports[0] === 0) throw usage("Cannot connect to port 0");
    }
  }
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
    keepListening: v.keep ?? false,
  };
}
