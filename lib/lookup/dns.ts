/**
 * `socklab dns NAME [TYPE]`: one direct DNS query, like dig: to `--server`
 * or to the name servers in /etc/resolv.conf, over UDP with the shared
 * time-out and retries (falling back to TCP when the reply is truncated),
 * printed dig-like, as `--short` rdata, or as one JSON document.
 *
 * ```sh
 * socklab dns example.test MX --server 127.0.0.1:5353
 * socklab dns 10.0.0.2 --server 127.0.0.1:5353          # PTR look-up
 * socklab dns example.test TXT --server 127.0.0.1:5353 --json
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { FailError, UsageError } from "../cli/errors.ts";
import { parseFlags, UDP_CLIENT_OPTIONS, udpClientOptions } from "../cli/flags.ts";
import { formatJson } from "../cli/output.ts";
import { after } from "../cli/timer.ts";
import { formatHostPort, type HostPort, parseHostPort, parsePort } from "../net/address.ts";
import { digArgs } from "./dig_args.ts";
import { digLines, messageJson, type QueryInfo, shortLines } from "./dns_format.ts";
import {
  decodeMessage,
  encodeQuery,
  type Message,
  nameLabels,
  parseType,
  reverseName,
} from "./dns_wire.ts";
import { pton } from "./inet.ts";
import { nameServers } from "./resolv_conf.ts";
import { type Exchange, openExchange } from "./udp_exchange.ts";

const USAGE =
  "usage: socklab dns [@SERVER] [-p PORT] [--server IP[:PORT]] [--timeout MS] [--retries N] [--tcp] [--norecurse] [--short|--json] NAME [TYPE]";
const ABOUT = `Sends one DNS query for NAME (TYPE A by default; an IP address as NAME means a
PTR query for its reverse name) and prints the reply like dig: header, flags,
question, answer, authority and additional sections, query time, server.

TYPE: A AAAA CNAME MX NS TXT PTR SOA SRV NAPTR CAA HINFO DNAME ANY ... or TYPEn.`;

const OPTIONS = {
  server: {
    type: "string",
    arg: "IP[:PORT]",
    help: "the name server (default: /etc/resolv.conf's, port 53); dig's @SERVER",
  },
  ...UDP_CLIENT_OPTIONS,
  tcp: {
    type: "boolean",
    help: "query over TCP (UDP falls back to TCP by itself when the reply is truncated)",
  },
  norecurse: { type: "boolean", help: "do not ask for recursion (RD=0)" },
  short: { type: "boolean", help: "only the answers' data, one per line (dig +short)" },
  json: { type: "boolean", help: "one JSON document with every section" },
} as const;

const AFTER = `dig's syntax works too: @SERVER, -p PORT, -t TYPE, -x ADDR, +short, +tcp (+vc),
+norecurse (+norec), +time=S, +tries=N, +retry=N, TYPE before NAME, class IN.`;

const EXIT = "(as dig) 0 for any reply, whatever its status (NXDOMAIN and SERVFAIL are " +
  'shown in the header, or as "status" with --json); 9 when no server answered (time-out ' +
  "or connection refused); 1 for a malformed reply; 2 usage.";

/** A parsed `socklab dns` command line. */
export interface DnsRequest {
  name: string;
  type: number;
  servers: HostPort[] | null;
  timeoutMs: number;
  retries: number;
  tcp: boolean;
  recursion: boolean;
  output: "dig" | "short" | "json";
}

/** Parses the command line; throws UsageError/HelpRequest before any I/O. */
export function parseDnsArgs(args: string[]): DnsRequest {
  let dig;
  try {
    dig = digArgs(args);
  } catch (err) {
    throw new UsageError((err as Error).message, USAGE);
  }
  const { values, positionals } = parseFlags(dig.args, {
    usage: USAGE,
    about: ABOUT,
    options: OPTIONS,
    after: AFTER,
    exitStatus: EXIT,
    minPositionals: 1,
    maxPositionals: 2,
  });
  if (values.short && values.json) throw new UsageError("Use --short or --json, not both", USAGE);
  const { timeoutMs, retries } = udpClientOptions(values);
  let [name, typeText] = positionals;
  let type: number;
  try {
    type = typeText === undefined ? 1 : parseType(typeText);
  } catch (err) {
    throw new UsageError((err as Error).message, USAGE);
  }
  const literal = pton(name);
  if (literal && (typeText === undefined || type === 12)) {
    name = reverseName(literal.bytes);
    type = 12;
  }
  try {
    nameLabels(name);
  } catch (err) {
    throw new UsageError((err as Error).message, USAGE);
  }
  const servers = serverList(values.server, dig.port);
  return {
    name: name.endsWith(".") ? name : `${name}.`,
    type,
    servers,
    timeoutMs,
    retries,
    tcp: values.tcp ?? false,
    recursion: !values.norecurse,
    output: values.json ? "json" : values.short ? "short" : "dig",
  };
}

/** `--server`/`@SERVER` with dig's `-p PORT` as its default port; null for the system's. */
function serverList(server: string | undefined, portText: string | undefined): HostPort[] | null {
  let port = 53;
  if (portText !== undefined) {
    try {
      port = parsePort(portText);
    } catch (err) {
      throw new UsageError((err as Error).message, USAGE);
    }
  }
  if (server === undefined) {
    return portText === undefined ? null : systemNameServers().map((s) => ({ ...s, port }));
  }
  try {
    return [parseHostPort(server, port)];
  } catch (err) {
    throw new UsageError((err as Error).message.replace("address", "--server"), USAGE);
  }
}

/** The name servers of /etc/resolv.conf (127.0.0.1 when it has none or is missing). */
export function systemNameServers(): HostPort[] {
  let text = "";
  try {
    text = Deno.readTextFileSync("/etc/resolv.conf");
  } catch {
    // no file: glibc's default
  }
  return nameServers(text).map((hostname) => ({ hostname, port: 53 }));
}

function replyMatches(data: Uint8Array, id: number): boolean {
  return data.length >= 3 && ((data[0] << 8) | data[1]) === id && (data[2] & 0x80) !== 0;
}

async function readExact(conn: Deno.Conn, n: number): Promise<Uint8Array | null> {
  const out = new Uint8Array(n);
  let off = 0;
  while (off < n) {
    const got = await conn.read(out.subarray(off));
    if (got === null) return null;
    off += got;
  }
  return out;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

/**
 * One query over TCP (2-byte length prefix, RFC 1035 4.2.2), bounded by
 * `timeoutMs`. Deno.connect is used directly, not lib/net/tcp.ts: importing
 * that module (and the UDP transport it brings) costs every `dns` run start-up
 * time that only the rare TCP query would need.
 */
export async function queryTcp(
  server: HostPort,
  packet: Uint8Array,
  timeoutMs: number,
): Promise<Uint8Array> {
  const label = formatHostPort(server.hostname, server.port);
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: server.hostname, port: server.port });
  } catch (err) {
    throw new FailError(`cannot connect to ${label} (TCP): ${(err as Error).message}`);
  }
  let timedOut = false;
  const cancelTimer = after(timeoutMs, () => {
    timedOut = true;
    closeQuietly(conn);
  });
  try {
    const framed = new Uint8Array(packet.length + 2);
    new DataView(framed.buffer).setUint16(0, packet.length);
    framed.set(packet, 2);
    for (let off = 0; off < framed.length;) off += await conn.write(framed.subarray(off));
    const head = await readExact(conn, 2);
    const body = head && await readExact(conn, (head[0] << 8) | head[1]);
    if (!body) throw new FailError(`${label} closed the TCP connection without a reply`);
    return body;
  } catch (err) {
    if (timedOut) throw new FailError(`no reply from ${label} over TCP within ${timeoutMs} ms`);
    if (err instanceof FailError) throw err;
    throw new FailError(`TCP query to ${label} failed: ${(err as Error).message}`);
  } finally {
    cancelTimer();
    closeQuietly(conn);
  }
}

/** A reply and how it came. */
export interface DnsReply {
  message: Message;
  info: QueryInfo;
}

/**
 * Sends the query and returns the decoded reply: UDP to each server in turn
 * for each try (as the C library's stub resolver does), TCP when asked or
 * when the UDP reply is truncated. Throws FailError when nobody answers or
 * the reply is malformed.
 */
export async function query(req: DnsRequest): Promise<DnsReply> {
  const servers = req.servers ?? systemNameServers();
  const resolved: HostPort[] = [];
  for (const s of servers) {
    if (pton(s.hostname.split("%")[0])) {
      resolved.push(s);
      continue;
    }
    // Loaded only for a server given by name: node:dns costs start-up time.
    const { resolveHost } = await import("../net/resolve.ts");
    resolved.push({ hostname: await resolveHost(s.hostname), port: s.port });
  }
  const id = crypto.getRandomValues(new Uint16Array(1))[0];
  const packet = encodeQuery({ id, name: req.name, type: req.type, recursion: req.recursion });
  const decode = (bytes: Uint8Array, server: HostPort): Message => {
    try {
      return decodeMessage(bytes);
    } catch (err) {
      throw new FailError(
        `malformed reply from ${formatHostPort(server.hostname, server.port)}: ${
          (err as Error).message
        }`,
      );
    }
  };
  const viaTcp = async (server: HostPort): Promise<DnsReply> => {
    const started = performance.now();
    const bytes = await queryTcp(server, packet, req.timeoutMs);
    const ms = performance.now() - started;
    if (((bytes[0] << 8) | bytes[1]) !== id) {
      throw new FailError(
        `reply from ${formatHostPort(server.hostname, server.port)} has the wrong id`,
      );
    }
    return {
      message: decode(bytes, server),
      info: { server: server.hostname, port: server.port, transport: "TCP", ms },
    };
  };
  if (req.tcp) {
    let last: unknown;
    for (const server of resolved) {
      try {
        return await viaTcp(server);
      } catch (err) {
        last = err;
      }
    }
    throw last;
  }
  return await queryUdp(resolved, packet, id, req, decode, viaTcp);
}

/**
 * UDP to each server in turn for each try; a server whose port is closed
 * (ICMP port unreachable) is dropped at once, as dig does. FailError with
 * dig's exit status 9 when no server answered.
 */
async function queryUdp(
  resolved: HostPort[],
  packet: Uint8Array,
  id: number,
  req: DnsRequest,
  decode: (bytes: Uint8Array, server: HostPort) => Message,
  viaTcp: (server: HostPort) => Promise<DnsReply>,
): Promise<DnsReply> {
  const sockets = new Map<HostPort, Exchange>();
  const refused = new Set<HostPort>();
  try {
    for (let attempt = 0; attempt <= req.retries; attempt++) {
      for (const server of resolved) {
        if (refused.has(server)) continue;
        let sock = sockets.get(server);
        if (!sock) sockets.set(server, sock = openExchange(server));
        const reply = await sock.request(packet, req.timeoutMs, (data) => replyMatches(data, id));
        if (reply === "refused") refused.add(server);
        if (reply === null || reply === "refused") continue; // next server or try
        const message = decode(reply.data, server);
        if (message.flags.tc) return await viaTcp(server);
        const info = {
          server: server.hostname,
          port: server.port,
          transport: "UDP",
          ms: reply.rttMs,
        };
        return { message, info: info as QueryInfo };
      }
      if (refused.size === resolved.length) break;
    }
  } finally {
    for (const sock of sockets.values()) sock.close();
  }
  const list = resolved.map((s) => formatHostPort(s.hostname, s.port)).join(", ");
  if (refused.size === resolved.length) {
    throw new FailError(`no reply from ${list}: connection refused`, { exitCode: 9 });
  }
  const tries = req.retries + 1;
  throw new FailError(`no reply from ${list} after ${tries} ${tries === 1 ? "try" : "tries"}`, {
    exitCode: 9,
  });
}

/** CLI entry point. */
export async function main(args: string[], _ctx: CommandContext): Promise<number> {
  const req = parseDnsArgs(args);
  // No graceful stop to wait for: like dig, a signal ends the query at once
  // (and not asking for ctx.signal spares the start-up of binding signals).
  const { message, info } = await query(req);
  if (req.output === "json") console.log(formatJson(messageJson(message, info)));
  else if (req.output === "short") {
    const lines = shortLines(message);
    if (lines.length) console.log(lines.join("\n"));
  } else console.log(digLines(message, info).join("\n"));
  // As dig: any reply is a success, its status (NXDOMAIN, SERVFAIL...) is in the output.
  return 0;
}
