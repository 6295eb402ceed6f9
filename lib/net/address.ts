/**
 * Address parsing written once: `HOST`, `HOST:PORT`, `[v6]:PORT`, bare IPv6
 * literals, and ports checked to 0–65535.
 *
 * @example
 * ```ts
 * import { parseHostPort, formatHostPort } from "./address.ts";
 * const a = parseHostPort("[::1]:1501", 1500);
 * console.assert(a.hostname === "::1" && a.port === 1501);
 * console.assert(formatHostPort("::1", 53) === "[::1]:53");
 * ```
 * @module
 */

/** A host (name or literal, no brackets) and a port. */
export interface HostPort {
  hostname: string;
  port: number;
}

/**
 * Parses a port number 0–65535 given as decimal text.
 * Throws SyntaxError for non-numbers and RangeError for out-of-range values.
 */
export function parsePort(text: string): number {
  if (!/^[0-9]{1,10}$/.test(text)) {
    throw new SyntaxError(`Cannot parse port "${text}": not a number`);
  }
  const port = Number(text);
  if (port > 65535) {
    throw new RangeError(`Cannot parse port "${text}": must be between 0 and 65535`);
  }
  return port;
}

/**
 * Parses `HOST`, `HOST:PORT`, `[V6]`, `[V6]:PORT` or a bare IPv6 literal.
 * Without a port in the text, `defaultPort` is used (SyntaxError if none).
 */
export function parseHostPort(text: string, defaultPort?: number): HostPort {
  let hostname: string;
  let portText: string | undefined;
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end < 0) throw new SyntaxError(`Cannot parse address "${text}": missing "]"`);
    hostname = text.slice(1, end);
    const rest = text.slice(end + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) {
        throw new SyntaxError(`Cannot parse address "${text}": expected ":PORT" after "]"`);
      }
      portText = rest.slice(1);
    }
    if (!hostname.includes(":")) {
      throw new SyntaxError(`Cannot parse address "${text}": brackets are for IPv6 literals`);
    }
  } else {
    const first = text.indexOf(":");
    if (first >= 0 && first === text.lastIndexOf(":")) {
      hostname = text.slice(0, first);
      portText = text.slice(first + 1);
    } else {
      hostname = text; // a name, an IPv4 literal, or a bare IPv6 literal
    }
  }
  if (hostname === "") throw new SyntaxError(`Cannot parse address "${text}": empty host`);
  if (/\s/.test(hostname)) {
    throw new SyntaxError(`Cannot parse address "${text}": host contains white space`);
  }
  let port: number;
  if (portText !== undefined) {
    port = parsePort(portText);
  } else if (defaultPort !== undefined) {
    port = defaultPort;
  } else {
    throw new SyntaxError(`Cannot parse address "${text}": missing port`);
  }
  return { hostname, port };
}

/** `host:port`, with IPv6 literals in brackets. */
export function formatHostPort(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/** `host:port` of a Deno address (Unix addresses print their path). */
export function formatAddr(addr: Deno.Addr): string {
  if (addr.transport === "tcp" || addr.transport === "udp") {
    return formatHostPort(addr.hostname, addr.port);
  }
  return "path" in addr ? String(addr.path) : addr.transport;
}

/** True for an IPv4 dotted-quad literal (strict: four decimal parts 0–255). */
export function isIPv4Literal(text: string): boolean {
  const parts = text.split(".");
  return parts.length === 4 &&
    parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

/** True for text that looks like an IPv6 literal (contains ":" and only hex, ":", "." and a zone). */
export function isIPv6Literal(text: string): boolean {
  return text.includes(":") && /^[0-9a-fA-F:.]+(%[\w.-]+)?$/.test(text);
}
