/**
 * Pure parser for Linux's socket tables `/proc/net/{tcp,tcp6,udp,udp6}`: one
 * row per socket, addresses decoded from the kernel's host-order hex words and
 * states from the kernel's numbers. No file access here (see sockets.ts).
 *
 * Row grammar (fields separated by runs of spaces; the first line is a header):
 * ```text
 * row    = sl ":" local remote st tx_queue ":" rx_queue tr ":" when retrnsmt uid timeout inode *rest
 * local  = addr ":" port          ; port: 4 hex digits, the port number itself
 * addr   = 8HEXDIG                ; IPv4: the 32-bit network-order value printed as a host-order int
 *        / 32HEXDIG               ; IPv6: four such 32-bit words
 * st     = 2HEXDIG                ; TCP_ESTABLISHED = 01 ... TCP_NEW_SYN_RECV = 0C
 * ```
 *
 * @example
 * ```ts
 * import { parseProcNet } from "./proc_net.ts";
 * const text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
 *   "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0 100 0 0 10 0\n";
 * const [s] = parseProcNet(text, { proto: "tcp", family: "inet", littleEndian: true });
 * console.assert(s.local.address === "127.0.0.1" && s.local.port === 8080 && s.state === "LISTEN");
 * ```
 * @module
 */
import { formatIPv6 } from "../lookup/inet.ts";

/** Transport protocol of a socket row. */
export type Proto = "tcp" | "udp";
/** Address family, named as `ip` names them. */
export type Family = "inet" | "inet6";

/** TCP states by the kernel's number (include/net/tcp_states.h), named as netstat names them. */
export const TCP_STATES: Readonly<Record<number, string>> = {
  0x01: "ESTABLISHED",
  0x02: "SYN_SENT",
  0x03: "SYN_RECV",
  0x04: "FIN_WAIT1",
  0x05: "FIN_WAIT2",
  0x06: "TIME_WAIT",
  0x07: "CLOSE",
  0x08: "CLOSE_WAIT",
  0x09: "LAST_ACK",
  0x0a: "LISTEN",
  0x0b: "CLOSING",
  // A request socket (a SYN answered, the handshake not finished); shown as SYN_RECV.
  0x0c: "SYN_RECV",
};

/** A socket's address and port as numbers and text. */
export interface Endpoint {
  address: string;
  port: number;
}

/** One row of a `/proc/net` socket table. */
export interface SocketRow {
  proto: Proto;
  family: Family;
  local: Endpoint;
  remote: Endpoint;
  /**
   * TCP: the state's name (LISTEN, ESTABLISHED, TIME_WAIT, ...). UDP: null for
   * an unconnected socket, "ESTABLISHED" for a connected one (as netstat shows).
   */
  state: string | null;
  /** The kernel's state number. */
  stateCode: number;
  /** Bytes waiting to be read (for a listener: connections waiting in the accept queue). */
  recvQ: number;
  /** Bytes not yet acknowledged by the peer (TCP) or queued to send (UDP). */
  sendQ: number;
  uid: number;
  /** The socket's inode: the key to its owning processes (0 for TIME_WAIT and request sockets). */
  inode: number;
}

/** What {@linkcode parseProcNet} needs to know about the table it reads. */
export interface TableInfo {
  proto: Proto;
  family: Family;
  /** Byte order of the machine that wrote the table (default: this machine's). */
  littleEndian?: boolean;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Decodes a `/proc/net` address: 8 hex digits (IPv4) or 32 (IPv6). Each group
 * of 8 digits is a 32-bit word holding 4 address bytes in memory order,
 * printed as an integer of the writer's byte order.
 * Throws SyntaxError for anything else.
 */
export function decodeAddress(hex: string, littleEndian = HOST_LITTLE_ENDIAN): string {
  if (!/^(?:[0-9A-Fa-f]{8}|[0-9A-Fa-f]{32})$/.test(hex)) {
    throw new SyntaxError(`Cannot parse address "${hex}": expected 8 or 32 hex digits`);
  }
  const bytes = new Uint8Array(hex.length / 2);
  for (let w = 0; w < hex.length / 8; w++) {
    const word = parseInt(hex.slice(8 * w, 8 * w + 8), 16);
    for (let b = 0; b < 4; b++) {
      const shift = littleEndian ? 8 * b : 8 * (3 - b);
      bytes[4 * w + b] = (word >>> shift) & 0xff;
    }
  }
  return bytes.length === 4 ? bytes.join(".") : formatIPv6(bytes);
}

/** Decodes `ADDR:PORT` as written in `/proc/net`. Throws SyntaxError when malformed. */
export function decodeEndpoint(text: string, littleEndian = HOST_LITTLE_ENDIAN): Endpoint {
  const colon = text.indexOf(":");
  const portHex = text.slice(colon + 1);
  if (colon < 0 || !/^[0-9A-Fa-f]{4}$/.test(portHex)) {
    throw new SyntaxError(`Cannot parse endpoint "${text}": expected ADDR:PORT in hex`);
  }
  return {
    address: decodeAddress(text.slice(0, colon), littleEndian),
    port: parseInt(portHex, 16),
  };
}

function hexField(text: string, what: string): number {
  if (!/^[0-9A-Fa-f]+$/.test(text)) throw new SyntaxError(`Cannot parse ${what} "${text}"`);
  return parseInt(text, 16);
}

function decField(text: string, what: string): number {
  if (!/^[0-9]+$/.test(text)) throw new SyntaxError(`Cannot parse ${what} "${text}"`);
  return Number(text);
}

/** Parses one data row; throws SyntaxError naming the bad field. */
export function parseRow(line: string, info: TableInfo): SocketRow {
  const f = line.trim().split(/\s+/);
  if (f.length < 10 || !/^\d+:$/.test(f[0])) {
    throw new SyntaxError(`Cannot parse socket row "${line.trim()}": too few fields`);
  }
  const le = info.littleEndian ?? HOST_LITTLE_ENDIAN;
  const stateCode = hexField(f[3], "state");
  const [txq, rxq] = f[4].split(":");
  let state: string | null;
  if (info.proto === "tcp") {
    state = TCP_STATES[stateCode] ?? `UNKNOWN(${stateCode})`;
  } else {
    state = stateCode === 0x01 ? "ESTABLISHED" : null;
  }
  return {
    proto: info.proto,
    family: info.family,
    local: decodeEndpoint(f[1], le),
    remote: decodeEndpoint(f[2], le),
    state,
    stateCode,
    recvQ: hexField(rxq ?? "", "rx_queue"),
    sendQ: hexField(txq, "tx_queue"),
    uid: decField(f[7], "uid"),
    inode: decField(f[9], "inode"),
  };
}

/**
 * Parses a whole table (header line first). Rows that do not parse are
 * skipped, so one odd kernel line never hides the rest.
 */
export function parseProcNet(text: string, info: TableInfo): SocketRow[] {
  const rows: SocketRow[] = [];
  const lines = text.split("\n");
  for (let k = 1; k < lines.length; k++) {
    if (lines[k].trim() === "") continue;
    try {
      rows.push(parseRow(lines[k], info));
    } catch {
      // A row in a format this parser does not know: skip it.
    }
  }
  return rows;
}

/** The four tables netstat reads, with what each holds. */
export const PROC_NET_TABLES: readonly (TableInfo & { file: string })[] = [
  { file: "tcp", proto: "tcp", family: "inet" },
  { file: "tcp6", proto: "tcp", family: "inet6" },
  { file: "udp", proto: "udp", family: "inet" },
  { file: "udp6", proto: "udp", family: "inet6" },
];

/** The inode in a `/proc/PID/fd/N` link target `socket:[INODE]`, else null. */
export function socketInode(link: string): number | null {
  const m = /^socket:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : null;
}
