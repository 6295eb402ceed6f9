/**
 * Pure parsers for the kernel's protocol counters, what `netstat -s` and
 * `nstat` read: `/proc/net/snmp` and `/proc/net/netstat` (pairs of lines, a
 * header of names then a line of values, per protocol) and
 * `/proc/net/snmp6` (one `NameValue` line per counter, the protocol a
 * prefix of the name). No file access here (see netstat_stats.ts).
 *
 * ```text
 * snmp, netstat := *(group ":" 1*(SP name) LF group ":" 1*(SP value) LF)
 * snmp6         := *(group name 1*WSP value LF)      ; group: Ip6 Icmp6 Udp6 UdpLite6
 * ```
 *
 * @example
 * ```ts
 * import { parsePairedCounters, parseSnmp6 } from "./snmp.ts";
 * const [tcp] = parsePairedCounters("Tcp: ActiveOpens CurrEstab\nTcp: 12 3\n");
 * console.assert(tcp.group === "Tcp" && tcp.counters[1][0] === "CurrEstab" && tcp.counters[1][1] === 3);
 * const [ip6] = parseSnmp6("Ip6InReceives                   \t847\n");
 * console.assert(ip6.group === "Ip6" && ip6.counters[0][0] === "InReceives");
 * ```
 * @module
 */

/** One protocol's counters, in the kernel's order. */
export interface CounterGroup {
  /** The protocol as the kernel names it: Ip, Icmp, IcmpMsg, Tcp, Udp, TcpExt, Ip6, ... */
  group: string;
  counters: [name: string, value: number][];
}

function pushCounter(groups: CounterGroup[], group: string, name: string, value: number): void {
  let last = groups.at(-1);
  if (last?.group !== group) {
    last = { group, counters: [] };
    groups.push(last);
  }
  last.counters.push([name, value]);
}

/**
 * Parses `/proc/net/snmp` or `/proc/net/netstat`: each header line of names
 * is followed by a line of values for the same group. A pair whose lengths
 * differ, or a value that is not a number, is skipped.
 */
export function parsePairedCounters(text: string): CounterGroup[] {
  const groups: CounterGroup[] = [];
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  for (let k = 0; k + 1 < lines.length; k += 2) {
    const [group, names] = splitGroup(lines[k]);
    const [group2, values] = splitGroup(lines[k + 1]);
    if (group === "" || group !== group2 || names.length !== values.length) continue;
    if (!values.every((v) => /^-?[0-9]+$/.test(v))) continue;
    names.forEach((name, i) => pushCounter(groups, group, name, Number(values[i])));
  }
  return groups;
}

function splitGroup(line: string): [string, string[]] {
  const colon = line.indexOf(":");
  if (colon <= 0) return ["", []];
  return [line.slice(0, colon), line.slice(colon + 1).trim().split(/\s+/).filter(Boolean)];
}

/** Groups of /proc/net/snmp6, longest prefix first so `UdpLite6` is not read as `Udp6`. */
const SNMP6_GROUPS = ["UdpLite6", "Icmp6", "Udp6", "Ip6"];

/** Parses `/proc/net/snmp6`; a line of another shape is skipped. */
export function parseSnmp6(text: string): CounterGroup[] {
  const groups: CounterGroup[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\S+)\s+(-?[0-9]+)\s*$/.exec(line);
    if (!m) continue;
    const group = SNMP6_GROUPS.find((g) => m[1].startsWith(g) && m[1].length > g.length);
    if (group) pushCounter(groups, group, m[1].slice(group.length), Number(m[2]));
  }
  return groups;
}

/** Which groups `-t` and `-u` keep (both, or neither, keep every group). */
export function groupProto(group: string): "tcp" | "udp" | null {
  if (/^(Tcp|TcpExt|MPTcpExt)$/.test(group)) return "tcp";
  if (/^(Udp|UdpLite)6?$/.test(group)) return "udp";
  return null;
}

/** The groups that `-t`/`-u` select (every group when neither is given). */
export function selectGroups(
  groups: readonly CounterGroup[],
  sel: { tcp: boolean; udp: boolean },
): CounterGroup[] {
  if (!sel.tcp && !sel.udp) return [...groups];
  return groups.filter((g) => {
    const p = groupProto(g.group);
    return (p === "tcp" && sel.tcp) || (p === "udp" && sel.udp);
  });
}

/** `Group:` then one indented `Name: value` line per counter, as netstat -s shows counters. */
export function counterLines(groups: readonly CounterGroup[]): string[] {
  const lines: string[] = [];
  for (const g of groups) {
    lines.push(`${g.group}:`);
    for (const [name, value] of g.counters) lines.push(`    ${name}: ${value}`);
  }
  return lines;
}

/** `{"Ip": {"Forwarding": 2, ...}, ...}` for `--json`. */
export function countersJson(groups: readonly CounterGroup[]): Record<string, unknown> {
  const out: Record<string, Record<string, number>> = {};
  for (const g of groups) out[g.group] = Object.fromEntries(g.counters);
  return out;
}
