/**
 * Pure pieces of `ifconfig`: interface flags as the kernel reports them
 * (`/sys/class/net/NAME/flags` plus the operational state), IPv6 addresses from
 * `/proc/net/if_inet6`, netmasks from prefix lengths, and the text layout of
 * net-tools ifconfig. No file access here (see ifconfig.ts).
 *
 * `/proc/net/if_inet6` grammar (one address per line):
 * ```text
 * line = addr SP ifindex SP prefixlen SP scope SP flags SP+ name
 * addr = 32HEXDIG              ; the 16 address bytes in network order
 * ifindex / prefixlen / scope / flags = HEXDIG+
 * ```
 *
 * @example
 * ```ts
 * import { flagNames, parseIfInet6, prefixToNetmask } from "./interfaces.ts";
 * console.assert(flagNames(0x49).join(",") === "UP,LOOPBACK,RUNNING");
 * const [a] = parseIfInet6("00000000000000000000000000000001 01 80 10 80       lo\n");
 * console.assert(a.address === "::1" && a.prefixlen === 128 && a.scope === "host");
 * console.assert(prefixToNetmask(24, "inet") === "255.255.255.0");
 * ```
 * @module
 */
import { formatIPv6 } from "../lookup/inet.ts";

/** Interface flag bits (linux/if.h), in the order net-tools prints them. */
export const IFF_FLAGS: readonly [string, number][] = [
  ["UP", 0x1],
  ["BROADCAST", 0x2],
  ["DEBUG", 0x4],
  ["LOOPBACK", 0x8],
  ["POINTOPOINT", 0x10],
  ["NOTRAILERS", 0x20],
  ["RUNNING", 0x40],
  ["NOARP", 0x80],
  ["PROMISC", 0x100],
  ["ALLMULTI", 0x200],
  ["MASTER", 0x400],
  ["SLAVE", 0x800],
  ["MULTICAST", 0x1000],
  ["PORTSEL", 0x2000],
  ["AUTOMEDIA", 0x4000],
  ["DYNAMIC", 0x8000],
  ["LOWER_UP", 0x10000],
  ["DORMANT", 0x20000],
  ["ECHO", 0x40000],
];

const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;
const IFF_LOWER_UP = 0x10000;
const IFF_DORMANT = 0x20000;

/** The names of the bits set in `flags`. */
export function flagNames(flags: number): string[] {
  return IFF_FLAGS.filter(([, bit]) => (flags & bit) !== 0).map(([name]) => name);
}

/**
 * The flags `SIOCGIFFLAGS` reports (the kernel's dev_get_flags): the
 * administrative flags from sysfs plus RUNNING (up and operationally up or
 * unknown), LOWER_UP (carrier) and DORMANT, which sysfs's `flags` leaves out.
 */
export function effectiveFlags(
  sysFlags: number,
  operstate: string,
  carrier: boolean | null,
): number {
  let flags = sysFlags & ~(IFF_RUNNING | IFF_LOWER_UP | IFF_DORMANT);
  if ((flags & IFF_UP) === 0) return flags;
  if (operstate === "up" || operstate === "unknown") flags |= IFF_RUNNING;
  if (carrier) flags |= IFF_LOWER_UP;
  if (operstate === "dormant") flags |= IFF_DORMANT;
  return flags;
}

/** IPv6 scopes by `/proc/net/if_inet6`'s scope bits, named as `ip` names them. */
export function scopeName(scope: number): string {
  switch (scope & 0xf0) {
    case 0x00:
      return "global";
    case 0x10:
      return "host";
    case 0x20:
      return "link";
    case 0x40:
      return "site";
    default:
      return `0x${scope.toString(16)}`;
  }
}

/** The scope of an IPv6 address from its prefix (when the kernel's scope bits are not at hand). */
export function scopeOfAddress(address: string): string {
  const a = address.toLowerCase();
  if (a === "::1") return "host";
  if (/^fe[89ab]/.test(a)) return "link";
  if (/^fe[c-f]/.test(a)) return "site";
  return "global";
}

/** One row of `/proc/net/if_inet6`. */
export interface Inet6Row {
  address: string;
  ifindex: number;
  prefixlen: number;
  /** The scope bits (0x10 host, 0x20 link, 0 global, ...). */
  scopeId: number;
  scope: string;
  /** IFA_F_* bits: 0x01 secondary, 0x02 nodad, 0x20 dadfailed, 0x40 tentative, 0x80 permanent ... */
  flags: number;
  name: string;
}

/** Parses `/proc/net/if_inet6`; lines that do not fit the grammar are skipped. */
export function parseIfInet6(text: string): Inet6Row[] {
  const rows: Inet6Row[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || !/^[0-9a-fA-F]{32}$/.test(f[0])) continue;
    if (!f.slice(1, 5).every((x) => /^[0-9a-fA-F]+$/.test(x))) continue;
    const bytes = new Uint8Array(16);
    for (let k = 0; k < 16; k++) bytes[k] = parseInt(f[0].slice(2 * k, 2 * k + 2), 16);
    const scopeId = parseInt(f[3], 16);
    rows.push({
      address: formatIPv6(bytes),
      ifindex: parseInt(f[1], 16),
      prefixlen: parseInt(f[2], 16),
      scopeId,
      scope: scopeName(scopeId),
      flags: parseInt(f[4], 16),
      name: f[5],
    });
  }
  return rows;
}

/** The netmask of a prefix length: dotted quad for IPv4, RFC 5952 text for IPv6. */
export function prefixToNetmask(prefixlen: number, family: "inet" | "inet6"): string {
  const bits = family === "inet" ? 32 : 128;
  if (!Number.isInteger(prefixlen) || prefixlen < 0 || prefixlen > bits) {
    throw new RangeError(`Cannot use prefix length ${prefixlen}: must be between 0 and ${bits}`);
  }
  const bytes = new Uint8Array(bits / 8);
  for (let k = 0; k < bytes.length; k++) {
    const left = Math.max(0, Math.min(8, prefixlen - 8 * k));
    bytes[k] = (0xff00 >> left) & 0xff;
  }
  return family === "inet" ? bytes.join(".") : formatIPv6(bytes);
}

/** Link types (`/sys/class/net/NAME/type`, ARPHRD_*) as `ip` names them. */
export const LINK_TYPES: Readonly<Record<number, string>> = {
  1: "ether",
  24: "ieee1394",
  512: "ppp",
  768: "ipip",
  769: "tunnel6",
  772: "loopback",
  776: "sit",
  778: "gre",
  801: "ieee802.11",
  823: "gre6",
  65534: "none",
};

/** An address on an interface. */
export interface InterfaceAddress {
  family: "inet" | "inet6";
  address: string;
  prefixlen: number;
  netmask: string;
  /** IPv6 only: host, link, global, site. */
  scope?: string;
  /** IPv4 only: the address's label (`eth0:1` style aliases). */
  label?: string;
}

/** Byte and packet counters (`/sys/class/net/NAME/statistics`). */
export interface InterfaceStats {
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
  collisions: number;
  /** Receive FIFO overruns (net-tools' RX-OVR / "overruns"). */
  rxFifoErrors: number;
  /** Transmit FIFO errors (net-tools' TX-OVR). */
  txFifoErrors: number;
}

/** Everything ifconfig shows about one interface. */
export interface Interface {
  name: string;
  index: number | null;
  /** Flag names, as in {@linkcode IFF_FLAGS}, RUNNING and LOWER_UP included. */
  flags: string[];
  /** The flag bits (net-tools prints the low 16 as `flags=N`). */
  flagsValue: number;
  mtu: number | null;
  mac: string | null;
  linkType: string | null;
  operstate: string | null;
  txqueuelen: number | null;
  addresses: InterfaceAddress[];
  stats: InterfaceStats | null;
}

/** `1.2 MB`-style size, in powers of 1000 like net-tools. */
export function humanBytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB", "PB"];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

const LINK_LABELS: Readonly<Record<string, string>> = {
  ether: "Ethernet",
  loopback: "Local Loopback",
  none: "UNSPEC",
  ipip: "IPIP Tunnel",
  sit: "IPv6-in-IPv4",
  gre: "GRE",
  ppp: "Point-to-Point Protocol",
};

/** One interface in net-tools ifconfig's layout. */
export function formatInterface(i: Interface): string[] {
  const low = i.flagsValue & 0xffff;
  const names = flagNames(low).join(",");
  const head = `${i.name}: flags=${low}<${names}>` + (i.mtu === null ? "" : `  mtu ${i.mtu}`);
  const lines = [head];
  const pad = "        ";
  for (const a of i.addresses) {
    if (a.family === "inet") {
      lines.push(`${pad}inet ${a.address}  netmask ${a.netmask}`);
    } else {
      const scope = a.scope ?? "global";
      const bits = { global: 0x0, host: 0x10, link: 0x20, site: 0x40 }[scope] ?? 0;
      lines.push(
        `${pad}inet6 ${a.address}  prefixlen ${a.prefixlen}  scopeid 0x${
          bits.toString(16)
        }<${scope}>`,
      );
    }
  }
  const kind = i.linkType === "loopback"
    ? "loop"
    : i.linkType === "ether"
    ? `ether ${i.mac}`
    : "unspec";
  const label = i.linkType ? LINK_LABELS[i.linkType] ?? i.linkType : "unknown";
  const queue = i.txqueuelen === null ? "" : `  txqueuelen ${i.txqueuelen}`;
  lines.push(`${pad}${kind}${queue}  (${label})`);
  if (i.stats) {
    const s = i.stats;
    lines.push(`${pad}RX packets ${s.rxPackets}  bytes ${s.rxBytes} (${humanBytes(s.rxBytes)})`);
    lines.push(`${pad}RX errors ${s.rxErrors}  dropped ${s.rxDropped}`);
    lines.push(`${pad}TX packets ${s.txPackets}  bytes ${s.txBytes} (${humanBytes(s.txBytes)})`);
    lines.push(`${pad}TX errors ${s.txErrors}  dropped ${s.txDropped}  collisions ${s.collisions}`);
  }
  return lines;
}

/** The letters of `ifconfig -s`'s Flg column, in net-tools' order. */
const SHORT_FLAGS: readonly [string, number][] = [
  ["A", 0x200],
  ["B", 0x2],
  ["D", 0x4],
  ["L", 0x8],
  ["M", 0x1000],
  ["d", 0x8000],
  ["P", 0x100],
  ["N", 0x20],
  ["O", 0x80],
  ["P", 0x10],
  ["s", 0x800],
  ["m", 0x400],
  ["R", 0x40],
  ["U", 0x1],
];

/** The header of `ifconfig -s`, exactly as net-tools prints it (its columns do not line up). */
export const SHORT_HEADER =
  "Iface      MTU    RX-OK RX-ERR RX-DRP RX-OVR    TX-OK TX-ERR TX-DRP TX-OVR Flg";

/**
 * One interface as `ifconfig -s` prints it (net-tools' ife_print_short:
 * `"%-15.15s %5d %8llu %6lu %6lu %-6lu %8llu %6lu %6lu %6lu "` then the flag letters).
 */
export function formatShort(i: Interface): string {
  const low = i.flagsValue & 0xffff;
  const letters = low === 0
    ? "[NO FLAGS]"
    : SHORT_FLAGS.filter(([, bit]) => low & bit).map(([c]) => c).join("");
  const head = `${i.name.slice(0, 15).padEnd(15)} ${String(i.mtu ?? 0).padStart(5)} `;
  const s = i.stats;
  if (!s) return `${head}${"     - no statistics available -".padEnd(56)}${letters}`;
  const n = (v: number, w: number) => String(v).padStart(w);
  return head +
    `${n(s.rxPackets, 8)} ${n(s.rxErrors, 6)} ${n(s.rxDropped, 6)} ${
      String(s.rxFifoErrors).padEnd(6)
    } ` +
    `${n(s.txPackets, 8)} ${n(s.txErrors, 6)} ${n(s.txDropped, 6)} ${n(s.txFifoErrors, 6)} ` +
    letters;
}

/** One interface's `ifconfig -s` row for `--json`. */
export function shortJson(i: Interface): Record<string, unknown> {
  const s = i.stats;
  return {
    name: i.name,
    mtu: i.mtu,
    flags: i.flags,
    rxOk: s?.rxPackets ?? null,
    rxErr: s?.rxErrors ?? null,
    rxDrp: s?.rxDropped ?? null,
    rxOvr: s?.rxFifoErrors ?? null,
    txOk: s?.txPackets ?? null,
    txErr: s?.txErrors ?? null,
    txDrp: s?.txDropped ?? null,
    txOvr: s?.txFifoErrors ?? null,
  };
}
