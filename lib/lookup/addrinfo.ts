/**
 * Pure types and formatting for the system resolver's answers: getaddrinfo
 * results as `getent ahosts` prints them (and a long form and JSON),
 * getnameinfo and gethostbyname answers. No FFI, no I/O.
 *
 * ```text
 * getent ahosts line := printf("%s%-*s %-6s %s\n", address, 15 - len(address) - len(scope), scope,
 *                              STREAM|DGRAM|RAW, canonical name on the first line only)
 * ```
 *
 * @example
 * ```ts
 * import { getentLine } from "./addrinfo.ts";
 * const line = getentLine({
 *   family: 4, address: "127.0.0.1", port: 0, socktype: "stream", protocol: 6,
 *   canonname: "localhost",
 * }, false);
 * console.assert(line === "127.0.0.1       STREAM localhost");
 * ```
 * @module
 */
import { formatHostPort } from "../net/address.ts";

/** Socket types the resolver reports. */
export type SockType = "stream" | "dgram" | "raw" | "seqpacket" | `type ${number}`;

/** What getaddrinfo is asked (the `hints` argument), in plain terms. */
export interface AddrInfoHints {
  /** 0 = any (AF_UNSPEC), 4 = AF_INET, 6 = AF_INET6. */
  family: 0 | 4 | 6;
  /** Restrict to one socket type (undefined = every type). */
  socktype?: "stream" | "dgram" | "raw";
  /** Restrict to one protocol number (0 = any). */
  protocol: number;
  /** AI_CANONNAME: ask for the canonical name. */
  canonname: boolean;
  /** AI_NUMERICHOST: NAME must be an address literal; no look-up. */
  numericHost: boolean;
  /** AI_NUMERICSERV: SERVICE must be a number. */
  numericServ: boolean;
  /** AI_PASSIVE: without NAME, the wildcard address (for bind) instead of loopback. */
  passive: boolean;
  /** AI_ADDRCONFIG: only families this host has a (non-loopback) address of. */
  addrconfig: boolean;
  /** AI_V4MAPPED: with IPv6 and no IPv6 answer, IPv4 answers as ::ffff:a.b.c.d. */
  v4mapped: boolean;
  /** AI_ALL (with AI_V4MAPPED): IPv6 and mapped IPv4 answers together. */
  all: boolean;
  /** AI_IDN | AI_CANONIDN: internationalised names (as getent does). */
  idn: boolean;
}

/** The hints `getent ahosts` uses (AI_V4MAPPED | AI_ADDRCONFIG | AI_CANONNAME | AI_IDN). */
export function getentHints(family: 0 | 4 | 6 = 0): AddrInfoHints {
  return {
    family,
    protocol: 0,
    canonname: true,
    numericHost: false,
    numericServ: false,
    passive: false,
    addrconfig: true,
    v4mapped: true,
    all: false,
    idn: true,
  };
}

/** One getaddrinfo result. */
export interface AddrInfo {
  family: 4 | 6;
  address: string;
  port: number;
  /** IPv6 scope (interface index), when not 0. */
  scopeId?: number;
  socktype: SockType;
  protocol: number;
  /** Only the first result carries the canonical name (as in C). */
  canonname?: string;
}

/** An answer of getnameinfo. */
export interface NameInfo {
  host: string;
  service?: string;
}

/** An answer of gethostbyname. */
export interface HostEnt {
  name: string;
  aliases: string[];
  addresses: string[];
}

/** getaddrinfo's socket type names, upper case as getent prints them. */
export function socktypeLabel(t: SockType): string {
  return t.startsWith("type ") ? t.slice(5) : t.toUpperCase();
}

/** Well-known protocol numbers (from /etc/protocols) by number. */
const PROTOCOL_NAMES: Record<number, string> = {
  0: "ip",
  1: "icmp",
  6: "tcp",
  17: "udp",
  58: "ipv6-icmp",
  132: "sctp",
  136: "udplite",
};

/** The protocol's name, e.g. "tcp", or the number as text. */
export function protocolName(n: number): string {
  return PROTOCOL_NAMES[n] ?? String(n);
}

/** Parses `--protocol` (a name from the table or a number 0–255). Throws SyntaxError. */
export function parseProtocol(text: string): number {
  const lower = text.toLowerCase();
  for (const [n, name] of Object.entries(PROTOCOL_NAMES)) if (name === lower) return Number(n);
  if (/^[0-9]{1,3}$/.test(text) && Number(text) <= 255) return Number(text);
  throw new SyntaxError(`Cannot parse protocol "${text}": use tcp, udp, sctp or a number 0-255`);
}

function addressText(r: AddrInfo): string {
  return r.scopeId ? `${r.address}%${r.scopeId}` : r.address;
}

/**
 * One result as `getent ahosts` prints it. With `withPort` (a SERVICE was
 * asked for) the address column is `ADDR:PORT` (`[V6]:PORT`).
 */
export function getentLine(r: AddrInfo, withPort: boolean): string {
  const scope = r.scopeId ? `%${r.scopeId}` : "";
  // getent pads the scope to what is left of 15 columns after the address:
  // printf("%s%-*s", buf, 15 - strlen(buf) - strlen(scope), scope).
  const addr = withPort
    ? formatHostPort(addressText(r), r.port).padEnd(15)
    : r.address + scope.padEnd(Math.max(0, 15 - r.address.length - scope.length));
  return `${addr} ${socktypeLabel(r.socktype).padEnd(6)} ${r.canonname ?? ""}`;
}

/** The long table: one header line, then family, address, port, type, protocol, name. */
export function longLines(results: readonly AddrInfo[]): string[] {
  const rows = [["FAMILY", "ADDRESS", "PORT", "SOCKTYPE", "PROTOCOL", "CANONNAME"]];
  for (const r of results) {
    rows.push([
      r.family === 4 ? "inet" : "inet6",
      addressText(r),
      String(r.port),
      r.socktype,
      `${protocolName(r.protocol)} (${r.protocol})`,
      r.canonname ?? "",
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd());
}

/** The JSON form of one result. */
export function addrInfoJson(r: AddrInfo): Record<string, unknown> {
  return {
    family: r.family === 4 ? "inet" : "inet6",
    address: r.address,
    port: r.port,
    ...(r.scopeId ? { scopeId: r.scopeId } : {}),
    socktype: r.socktype,
    protocol: protocolName(r.protocol),
    protocolNumber: r.protocol,
    ...(r.canonname !== undefined ? { canonname: r.canonname } : {}),
  };
}

/** The lecture's two lines for gethostbyname. */
export function hostEntLines(h: HostEnt): string[] {
  return [`Official name is: ${h.name}`, `    IP addresses: ${h.addresses.join(" ")}`];
}
