/**
 * `struct sockaddr_in` / `sockaddr_in6` ↔ `Deno.NetAddr` for the UDP fast path
 * (lib/net/udp_fast.ts): the kernel fills and reads raw socket addresses, the
 * handlers see the same `NetAddr` objects Deno would give them (same text for
 * IPv6 and IPv4-mapped addresses). Decoded senders are cached, so a busy
 * server builds one object per peer, not one per datagram.
 *
 * @example
 * ```ts
 * import { formatIPv6, parseIpBytes, SockaddrCodec } from "./udp_sockaddr.ts";
 * const codec = new SockaddrCodec(false);
 * const name = codec.encode({ transport: "udp", hostname: "127.0.0.1", port: 1503 })!;
 * console.assert(codec.decode(name, 0).port === 1503);
 * console.assert(formatIPv6(parseIpBytes("2001:db8::1")!, 0) === "2001:db8::1");
 * ```
 * @module
 */
import { AF_INET, AF_INET6 } from "./libc.ts";

/** Room for a `sockaddr_in6` (28 bytes), rounded up: one slot of the name buffers. */
export const NAME = 32;
/** Senders and host names remembered at most (the caches start over when full). */
const CACHE_LIMIT = 4096;

/** IPv6 text as Rust (and so Deno) prints it: RFC 5952, `::ffff:a.b.c.d` for mapped. */
export function formatIPv6(b: Uint8Array, at: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[at + 2 * i] << 8) | b[at + 2 * i + 1]);
  if (words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0 && words[4] === 0) {
    if (words[5] === 0xffff) {
      return `::ffff:${b[at + 12]}.${b[at + 13]}.${b[at + 14]}.${b[at + 15]}`;
    }
  }
  const [bestStart, bestLen] = longestZeroRun(words);
  const hex = (w: number) => w.toString(16);
  if (bestStart < 0) return words.map(hex).join(":");
  const head = words.slice(0, bestStart).map(hex).join(":");
  const tail = words.slice(bestStart + bestLen).map(hex).join(":");
  return `${head}::${tail}`;
}

/** Start and length of the first longest run of two or more zero words, or [-1, 0]. */
function longestZeroRun(words: readonly number[]): [number, number] {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < words.length;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < words.length && words[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  return [bestStart, bestLen];
}

/** The 4 bytes of a dotted quad, or null. */
function parseIPv4(text: string): number[] | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    out.push(Number(part));
  }
  return out;
}

/** The 16-bit words of one side of `::` (a dotted quad may end it), or null. */
function parseWords(text: string): number[] | null {
  if (text === "") return [];
  const words: number[] = [];
  const groups = text.split(":");
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    if (i === groups.length - 1 && g.includes(".")) {
      const v4 = parseIPv4(g);
      if (!v4) return null;
      words.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) {
      words.push(parseInt(g, 16));
    } else {
      return null;
    }
  }
  return words;
}

/** Parses the IPv4 or IPv6 literal Deno reports into 16 bytes (IPv4 mapped), or null. */
export function parseIpBytes(text: string): Uint8Array | null {
  const out = new Uint8Array(16);
  if (!text.includes(":")) {
    const v4 = parseIPv4(text);
    if (!v4) return null;
    out[10] = out[11] = 0xff;
    out.set(v4, 12);
    return out;
  }
  const zone = text.indexOf("%");
  const halves = (zone >= 0 ? text.slice(0, zone) : text).split("::");
  if (halves.length > 2) return null;
  const head = parseWords(halves[0]);
  const tail = halves.length === 2 ? parseWords(halves[1]) : [];
  if (!head || !tail) return null;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return null;
  const words = [...head, ...new Array(halves.length === 2 ? fill : 0).fill(0), ...tail];
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** True for `::ffff:a.b.c.d` as 16 bytes. */
function isMappedV4(ip: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

/** Reads and writes socket addresses of one socket's family. */
export class SockaddrCodec {
  /** True for an IPv6 socket (`sockaddr_in6`, IPv4 peers appear mapped). */
  readonly v6: boolean;
  /** Bytes of this family's sockaddr (16 or 28). */
  readonly length: number;
  readonly #senders = new Map<number | string, Deno.NetAddr>();
  readonly #hosts = new Map<string, Uint8Array | null>();
  readonly #encoded = new WeakMap<object, Uint8Array>();

  constructor(v6: boolean) {
    this.v6 = v6;
    this.length = v6 ? 28 : 16;
  }

  /** The sender written at `names[at]` by the kernel, as one frozen, cached NetAddr. */
  decode(names: Uint8Array, at: number): Deno.NetAddr {
    const family = names[at] | (names[at + 1] << 8);
    const port = (names[at + 2] << 8) | names[at + 3];
    const key = family === AF_INET
      ? ((names[at + 4] << 24 | names[at + 5] << 16 | names[at + 6] << 8 | names[at + 7]) >>> 0) *
          65536 + port
      : `${formatIPv6(names, at + 8)}|${port}`;
    let addr = this.#senders.get(key);
    if (addr === undefined) {
      const hostname = family === AF_INET
        ? `${names[at + 4]}.${names[at + 5]}.${names[at + 6]}.${names[at + 7]}`
        : formatIPv6(names, at + 8);
      addr = Object.freeze(
        Object.assign(Object.create(null), { hostname, port, transport: "udp" }),
      ) as Deno.NetAddr;
      if (this.#senders.size >= CACHE_LIMIT) this.#senders.clear();
      this.#senders.set(key, addr);
    }
    return addr;
  }

  /**
   * Writes `addr` as this family's sockaddr at `names[at]` (NAME bytes);
   * false when it cannot be (not an address literal, or IPv6 on an IPv4 socket).
   */
  write(addr: Deno.NetAddr, names: Uint8Array, at: number): boolean {
    const ip = this.#ipOf(addr.hostname);
    if (!ip || addr.port < 0 || addr.port > 65535) return false;
    if (!this.v6 && !isMappedV4(ip)) return false;
    names.fill(0, at, at + NAME);
    names[at] = (this.v6 ? AF_INET6 : AF_INET) & 0xff;
    names[at + 2] = addr.port >> 8;
    names[at + 3] = addr.port & 0xff;
    if (this.v6) names.set(ip, at + 8);
    else names.set(ip.subarray(12), at + 4);
    return true;
  }

  /** `addr` as a sockaddr of its own (cached per NetAddr object), or undefined. */
  encode(addr: Deno.NetAddr): Uint8Array | undefined {
    let name = this.#encoded.get(addr);
    if (name) return name;
    name = new Uint8Array(NAME);
    if (addr.port < 1 || !this.write(addr, name, 0)) return undefined;
    this.#encoded.set(addr, name);
    return name;
  }

  /** The 16 bytes of a host literal, parsed once per distinct text. */
  #ipOf(hostname: string): Uint8Array | null {
    let ip = this.#hosts.get(hostname);
    if (ip === undefined) {
      ip = parseIpBytes(hostname);
      if (this.#hosts.size >= CACHE_LIMIT) this.#hosts.clear();
      this.#hosts.set(hostname, ip);
    }
    return ip;
  }
}
