/**
 * `socklab ifconfig`: every network interface with its addresses
 * (prefix/netmask), MAC, flags, MTU and counters. The interface list, flags,
 * MTU and counters come from /sys/class/net, IPv6 addresses from
 * /proc/net/if_inet6, IPv4 addresses from the system's getifaddrs (Deno's
 * networkInterfaces). Without /sys (not Linux) only getifaddrs is used.
 *
 * ```sh
 * socklab ifconfig          # interfaces that are up
 * socklab ifconfig -a --json
 * socklab ifconfig lo
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { FailError } from "../cli/errors.ts";
import { parseFlags } from "../cli/flags.ts";
import { formatJson, writeOut } from "../cli/output.ts";
import {
  effectiveFlags,
  flagNames,
  formatInterface,
  formatShort,
  type Interface,
  type InterfaceAddress,
  type InterfaceStats,
  LINK_TYPES,
  parseIfInet6,
  prefixToNetmask,
  scopeOfAddress,
  SHORT_HEADER,
  shortJson,
} from "./interfaces.ts";

const USAGE = "usage: socklab ifconfig [-a] [-s] [--json] [INTERFACE]";
const ABOUT = `Shows the network interfaces: addresses with netmask and prefix length,
MAC, flags (UP, LOOPBACK, RUNNING, ...), MTU and byte/packet counters.`;
const OPTIONS = {
  all: {
    type: "boolean",
    short: "a",
    help: "every interface, also those that are down (default: only up ones)",
  },
  short: {
    type: "boolean",
    short: "s",
    help: "one line per interface: MTU, packet, error, drop and overrun counters, flag letters " +
      "(net-tools' ifconfig -s)",
  },
  json: {
    type: "boolean",
    help: 'one JSON document: {"interfaces": [...]} (-s: the short rows\' fields)',
  },
} as const;

/** Where the kernel's tables are (tests may point elsewhere). */
export interface SystemPaths {
  sys?: string;
  proc?: string;
}

function readText(path: string): string | null {
  try {
    return Deno.readTextFileSync(path).trim();
  } catch {
    return null; // missing, or EINVAL (e.g. carrier of a down interface)
  }
}

function readNumber(path: string): number | null {
  const t = readText(path);
  if (t === null || t === "") return null;
  const n = t.startsWith("0x") ? parseInt(t, 16) : Number(t);
  return Number.isFinite(n) ? n : null;
}

const STAT_FILES: [keyof InterfaceStats, string][] = [
  ["rxBytes", "rx_bytes"],
  ["rxPackets", "rx_packets"],
  ["rxErrors", "rx_errors"],
  ["rxDropped", "rx_dropped"],
  ["txBytes", "tx_bytes"],
  ["txPackets", "tx_packets"],
  ["txErrors", "tx_errors"],
  ["txDropped", "tx_dropped"],
  ["collisions", "collisions"],
  ["rxFifoErrors", "rx_fifo_errors"],
  ["txFifoErrors", "tx_fifo_errors"],
];

function readStats(dir: string): InterfaceStats | null {
  const stats = {} as InterfaceStats;
  for (const [key, file] of STAT_FILES) {
    const n = readNumber(`${dir}/statistics/${file}`);
    if (n === null) return null;
    stats[key] = n;
  }
  return stats;
}

/** IPv4 (and, without /proc, IPv6) addresses from getifaddrs, by interface name. */
function getifaddrs(withV6: boolean): Map<string, InterfaceAddress[]> {
  const byName = new Map<string, InterfaceAddress[]>();
  let list: Deno.NetworkInterfaceInfo[];
  try {
    list = Deno.networkInterfaces();
  } catch {
    return byName;
  }
  for (const n of list) {
    if (n.family === "IPv6" && !withV6) continue;
    const family = n.family === "IPv4" ? "inet" : "inet6";
    const prefixlen = Number(n.cidr?.split("/")[1] ?? (family === "inet" ? 32 : 128));
    const base = n.name.split(":")[0]; // eth0:1 is an alias label of eth0
    const addr: InterfaceAddress = {
      family,
      address: n.address,
      prefixlen,
      netmask: n.netmask || prefixToNetmask(prefixlen, family),
    };
    if (family === "inet") addr.label = n.name;
    else addr.scope = scopeOfAddress(n.address);
    const list2 = byName.get(base) ?? [];
    list2.push(addr);
    byName.set(base, list2);
  }
  return byName;
}

/** Reads every interface, ordered by index (as `ip` lists them). */
export function readInterfaces(paths: SystemPaths = {}): Interface[] {
  const sys = paths.sys ?? "/sys/class/net";
  const proc = paths.proc ?? "/proc";
  let names: string[];
  try {
    names = [...Deno.readDirSync(sys)].map((e) => e.name);
  } catch {
    return fromGetifaddrsOnly();
  }
  const inet6Text = readText(`${proc}/net/if_inet6`);
  const inet6 = inet6Text === null ? null : parseIfInet6(inet6Text);
  const v4 = getifaddrs(inet6 === null);
  const out: Interface[] = [];
  for (const name of names) {
    const dir = `${sys}/${name}`;
    const index = readNumber(`${dir}/ifindex`);
    const operstate = readText(`${dir}/operstate`);
    const carrier = readText(`${dir}/carrier`);
    const flags = effectiveFlags(
      readNumber(`${dir}/flags`) ?? 0,
      operstate ?? "unknown",
      carrier === null ? null : carrier === "1",
    );
    const type = readNumber(`${dir}/type`);
    const addresses = [...(v4.get(name) ?? [])];
    for (const row of inet6 ?? []) {
      if (row.ifindex !== index) continue;
      addresses.push({
        family: "inet6",
        address: row.address,
        prefixlen: row.prefixlen,
        netmask: prefixToNetmask(row.prefixlen, "inet6"),
        scope: row.scope,
      });
    }
    out.push({
      name,
      index,
      flags: flagNames(flags),
      flagsValue: flags,
      mtu: readNumber(`${dir}/mtu`),
      mac: readText(`${dir}/address`) || null,
      linkType: type === null ? null : LINK_TYPES[type] ?? `type ${type}`,
      operstate,
      txqueuelen: readNumber(`${dir}/tx_queue_len`),
      addresses,
      stats: readStats(dir),
    });
  }
  return out.sort((a, b) => (a.index ?? 0) - (b.index ?? 0) || a.name.localeCompare(b.name));
}

/** What getifaddrs alone tells (systems without /sys): names, addresses, MAC. */
function fromGetifaddrsOnly(): Interface[] {
  const byName = getifaddrs(true);
  const macs = new Map<string, string>();
  try {
    for (const n of Deno.networkInterfaces()) macs.set(n.name.split(":")[0], n.mac);
  } catch {
    // no interface information at all
  }
  return [...byName].map(([name, addresses]) => ({
    name,
    index: null,
    flags: ["UP"],
    flagsValue: 1,
    mtu: null,
    mac: macs.get(name) ?? null,
    linkType: null,
    operstate: null,
    txqueuelen: null,
    addresses,
    stats: null,
  }));
}

/** CLI entry point. */
export function main(args: string[], _ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    usage: USAGE,
    about: ABOUT,
    options: OPTIONS,
    rows: [["INTERFACE", "only this interface (shown even when down)"]],
    exitStatus: "0 shown, 1 no such interface, 2 usage.",
    maxPositionals: 1,
  });
  let list = readInterfaces();
  const wanted = positionals[0];
  if (wanted !== undefined) {
    list = list.filter((i) => i.name === wanted);
    if (list.length === 0) throw new FailError(`no interface '${wanted}'`);
  } else if (!values.all) {
    list = list.filter((i) => i.flags.includes("UP"));
  }
  if (values.short) {
    // net-tools lists the short table by name (eth2 before eth10).
    list.sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true }));
  }
  if (values.json) {
    writeOut(formatJson({ interfaces: values.short ? list.map(shortJson) : list }) + "\n");
  } else if (values.short) {
    writeOut([SHORT_HEADER, ...list.map(formatShort)].join("\n") + "\n");
  } else {
    writeOut(list.map((i) => formatInterface(i).join("\n")).join("\n\n") + "\n");
  }
  return Promise.resolve(0);
}
