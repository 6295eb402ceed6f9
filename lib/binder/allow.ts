/**
 * `binder --allow CIDR,...`: the networks REGISTER is accepted from (like
 * rpcbind accepting registrations only from trusted sources). Pure: parse a
 * list of IPv4/IPv6 prefixes, then test addresses against it. An IPv4-mapped
 * IPv6 address (`::ffff:10.0.0.5`, what a binder bound to `::` sees) is
 * tested as the IPv4 address it carries.
 *
 * @example
 * ```ts
 * import { parseAllowList } from "./allow.ts";
 * const allow = parseAllowList("127.0.0.0/8,10.1.2.3,fd00::/8");
 * console.assert(allow.allows("127.0.0.2") && allow.allows("::ffff:10.1.2.3"));
 * console.assert(!allow.allows("10.1.2.4") && allow.allows("fd12::1"));
 * ```
 * @module
 */
import { isIPv4Literal, isIPv6Literal } from "../net/address.ts";

/** One network: its address bytes and prefix length. */
interface Network {
  bytes: Uint8Array;
  bits: number;
  text: string;
}

/** The address as 4 (IPv4) or 16 (IPv6) bytes; IPv4-mapped IPv6 as 4. Undefined if not an IP. */
export function ipBytes(text: string): Uint8Array | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  if (mapped) text = mapped[1];
  if (isIPv4Literal(text)) return new Uint8Array(text.split(".").map(Number));
  const bare = text.split("%")[0];
  if (!isIPv6Literal(bare)) return undefined;
  const [head, tail] = bare.split("::");
  const words = (part: string | undefined) => part ? part.split(":") : [];
  const left = words(head);
  const right = tail === undefined ? [] : words(tail);
  const expand = (w: string[]) =>
    w.flatMap((g) => g.includes(".") ? [...v4Words(g)] : [parseInt(g, 16)]);
  const l = expand(left);
  const r = expand(right);
  const all = [...l, ...Array(8 - l.length - r.length).fill(0), ...r];
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

function v4Words(dotted: string): number[] {
  const b = dotted.split(".").map(Number);
  return [(b[0] << 8) | b[1], (b[2] << 8) | b[3]];
}

function matches(net: Network, ip: Uint8Array): boolean {
  if (ip.length !== net.bytes.length) return false;
  const whole = net.bits >> 3;
  for (let i = 0; i < whole; i++) if (ip[i] !== net.bytes[i]) return false;
  const rest = net.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (ip[whole] & mask) === (net.bytes[whole] & mask);
}

/** A parsed `--allow` list. */
export class AllowList {
  readonly networks: readonly Network[];
  constructor(networks: Network[]) {
    this.networks = networks;
  }

  /** True when `ip` is inside one of the networks. */
  allows(ip: string): boolean {
    const bytes = ipBytes(ip);
    return bytes !== undefined && this.networks.some((n) => matches(n, bytes));
  }

  /** The list as given, normalised: `127.0.0.0/8, fd00::/8`. */
  toString(): string {
    return this.networks.map((n) => n.text).join(", ");
  }
}

/**
 * Parses `CIDR,CIDR,...` (an address alone is a /32 or /128). Throws
 * SyntaxError naming the entry that is not one.
 */
export function parseAllowList(text: string): AllowList {
  const entries = text.split(",").map((e) => e.trim()).filter((e) => e !== "");
  if (entries.length === 0) throw new SyntaxError("Cannot parse --allow: no network given");
  return new AllowList(entries.map((entry) => {
    const [addr, bitsText, extra] = entry.split("/");
    const bytes = extra === undefined ? ipBytes(addr) : undefined;
    const max = bytes ? bytes.length * 8 : 0;
    const bits = bitsText === undefined ? max : Number(bitsText);
    if (
      !bytes || (bitsText !== undefined && !/^[0-9]{1,3}$/.test(bitsText)) || bits > max
    ) {
      throw new SyntaxError(
        `Cannot parse --allow entry "${entry}": expected ADDRESS or ADDRESS/BITS (IPv4 or IPv6)`,
      );
    }
    return { bytes, bits, text: `${addr}/${bits}` };
  }));
}
