/**
 * ifconfig: flag, address and layout helpers from tables, then the real
 * command against `ip -j addr` / `ip -j -s link` on this machine and inside a
 * private namespace with a dummy interface and a veth pair the test makes.
 */
import {
  effectiveFlags,
  flagNames,
  formatInterface,
  humanBytes,
  type Interface,
  parseIfInet6,
  prefixToNetmask,
  scopeName,
  scopeOfAddress,
} from "../../lib/sys/interfaces.ts";
import { assertEquals, assertMatch, assertOk, throws } from "../helpers/assert.ts";
import { peerTest } from "../helpers/peers.ts";
import { must, netnsTest, run, socklab } from "./tools.ts";

Deno.test("flagNames() names the bits in net-tools order", () => {
  assertEquals(flagNames(0x49), ["UP", "LOOPBACK", "RUNNING"]);
  assertEquals(flagNames(0x1043), ["UP", "BROADCAST", "RUNNING", "MULTICAST"]);
  assertEquals(flagNames(0x10000 | 0x1), ["UP", "LOWER_UP"]);
  assertEquals(flagNames(0), []);
});

const EFFECTIVE: [string, number, string, boolean | null, string[]][] = [
  ["loopback (operstate unknown)", 0x9, "unknown", true, ["UP", "LOOPBACK", "RUNNING", "LOWER_UP"]],
  ["ethernet with carrier", 0x1003, "up", true, [
    "UP",
    "BROADCAST",
    "RUNNING",
    "MULTICAST",
    "LOWER_UP",
  ]],
  ["up without carrier", 0x1003, "lowerlayerdown", false, ["UP", "BROADCAST", "MULTICAST"]],
  ["administratively down", 0x1002, "down", null, ["BROADCAST", "MULTICAST"]],
  ["dormant", 0x1, "dormant", true, ["UP", "LOWER_UP", "DORMANT"]],
];

for (const [what, sys, oper, carrier, want] of EFFECTIVE) {
  Deno.test(`effectiveFlags() adds RUNNING/LOWER_UP as the kernel does: ${what}`, () => {
    assertEquals(flagNames(effectiveFlags(sys, oper, carrier)), want);
  });
}

Deno.test("parseIfInet6() reads address (network order), index, prefix, scope and name", () => {
  const text = "fe8000000000000000fc00fffe000001 04 40 20 80     eth0\n" +
    "fd000000000000000000000000000002 04 40 00 82     eth0\n" +
    "00000000000000000000000000000001 01 80 10 80       lo\n" +
    "not a line\n";
  assertEquals(
    parseIfInet6(text).map((r) => [r.address, r.ifindex, r.prefixlen, r.scope, r.flags, r.name]),
    [
      ["fe80::fc:ff:fe00:1", 4, 64, "link", 0x80, "eth0"],
      ["fd00::2", 4, 64, "global", 0x82, "eth0"],
      ["::1", 1, 128, "host", 0x80, "lo"],
    ],
  );
});

Deno.test("scopeOfAddress() tells host, link, site and global IPv6 addresses apart", () => {
  assertEquals(
    ["::1", "fe80::1", "FEBF::1", "fec0::1", "2001:db8::1", "fd00::2"].map(scopeOfAddress),
    [
      "host",
      "link",
      "link",
      "site",
      "global",
      "global",
    ],
  );
});

Deno.test("scopeName() names ip's scopes", () => {
  assertEquals([0, 0x10, 0x20, 0x40].map(scopeName), ["global", "host", "link", "site"]);
});

const NETMASKS: [number, "inet" | "inet6", string][] = [
  [0, "inet", "0.0.0.0"],
  [8, "inet", "255.0.0.0"],
  [20, "inet", "255.255.240.0"],
  [24, "inet", "255.255.255.0"],
  [32, "inet", "255.255.255.255"],
  [0, "inet6", "::"],
  [64, "inet6", "ffff:ffff:ffff:ffff::"],
  [65, "inet6", "ffff:ffff:ffff:ffff:8000::"],
  [128, "inet6", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
];

for (const [prefix, family, mask] of NETMASKS) {
  Deno.test(`prefixToNetmask() turns /${prefix} (${family}) into ${mask}`, () => {
    assertEquals(prefixToNetmask(prefix, family), mask);
  });
}

Deno.test("prefixToNetmask() rejects prefixes out of range", () => {
  throws(() => prefixToNetmask(33, "inet"), /between 0 and 32/, RangeError);
  throws(() => prefixToNetmask(-1, "inet6"), /between 0 and 128/, RangeError);
});

Deno.test("humanBytes() scales by 1000 like net-tools", () => {
  assertEquals([0, 999, 1000, 1_500_000, 36_171_086_543].map(humanBytes), [
    "0.0 B",
    "999.0 B",
    "1.0 KB",
    "1.5 MB",
    "36.2 GB",
  ]);
});

Deno.test("formatInterface() lays an interface out like net-tools ifconfig", () => {
  const eth: Interface = {
    name: "eth0",
    index: 2,
    flags: ["UP", "BROADCAST", "RUNNING", "MULTICAST", "LOWER_UP"],
    flagsValue: 0x11043,
    mtu: 1500,
    mac: "02:00:00:00:00:01",
    linkType: "ether",
    operstate: "up",
    txqueuelen: 1000,
    addresses: [
      {
        family: "inet",
        address: "192.0.2.2",
        prefixlen: 24,
        netmask: "255.255.255.0",
        label: "eth0",
      },
      {
        family: "inet6",
        address: "fe80::1",
        prefixlen: 64,
        netmask: "ffff:ffff:ffff:ffff::",
        scope: "link",
      },
    ],
    stats: {
      rxBytes: 1500,
      rxPackets: 3,
      rxErrors: 0,
      rxDropped: 1,
      txBytes: 0,
      txPackets: 0,
      txErrors: 0,
      txDropped: 0,
      collisions: 0,
      rxFifoErrors: 0,
      txFifoErrors: 0,
    },
  };
  assertEquals(formatInterface(eth), [
    "eth0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500",
    "        inet 192.0.2.2  netmask 255.255.255.0",
    "        inet6 fe80::1  prefixlen 64  scopeid 0x20<link>",
    "        ether 02:00:00:00:00:01  txqueuelen 1000  (Ethernet)",
    "        RX packets 3  bytes 1500 (1.5 KB)",
    "        RX errors 0  dropped 1",
    "        TX packets 0  bytes 0 (0.0 B)",
    "        TX errors 0  dropped 0  collisions 0",
  ]);
});

interface IpAddr {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  operstate: string;
  txqlen?: number;
  link_type: string;
  address?: string;
  addr_info: { family: string; local: string; prefixlen: number; scope: string; label?: string }[];
}

interface IpStats {
  ifname: string;
  stats64: {
    rx: { bytes: number; packets: number; errors: number; dropped: number };
    tx: { bytes: number; packets: number; errors: number; dropped: number; collisions: number };
  };
}

/** Everything `ip -j addr` and ours must agree on, one line per fact, sorted. */
function ipFacts(list: IpAddr[]): string[] {
  return list.flatMap((i) => [
    `${i.ifname} index ${i.ifindex} mtu ${i.mtu} type ${i.link_type} oper ${i.operstate.toLowerCase()}`,
    `${i.ifname} mac ${i.address ?? "-"} txqlen ${i.txqlen ?? "-"}`,
    // ip adds NO-CARRIER / M-DOWN, which are not interface flags.
    `${i.ifname} flags ${
      i.flags.filter((f) => f !== "NO-CARRIER" && f !== "M-DOWN").sort().join(",")
    }`,
    ...i.addr_info.map((a) =>
      `${i.ifname} ${a.family} ${a.local}/${a.prefixlen}` +
      (a.family === "inet6" ? ` scope ${a.scope}` : ` label ${a.label}`)
    ),
  ]).sort();
}

function ourFacts(list: Interface[]): string[] {
  return list.flatMap((i) => [
    `${i.name} index ${i.index} mtu ${i.mtu} type ${i.linkType} oper ${i.operstate}`,
    `${i.name} mac ${i.mac ?? "-"} txqlen ${i.txqueuelen ?? "-"}`,
    `${i.name} flags ${i.flags.filter((f) => f !== "RUNNING").sort().join(",")}`,
    ...i.addresses.map((a) =>
      `${i.name} ${a.family} ${a.address}/${a.prefixlen}` +
      (a.family === "inet6" ? ` scope ${a.scope}` : ` label ${a.label}`)
    ),
  ]).sort();
}

/** ip's counters before ≤ ours ≤ ip's after, for every interface. */
function assertCountersBetween(before: IpStats[], ours: Interface[], after: IpStats[]): number {
  let checked = 0;
  for (const i of ours) {
    const b = before.find((x) => x.ifname === i.name)?.stats64;
    const a = after.find((x) => x.ifname === i.name)?.stats64;
    assertOk(b && a && i.stats, `counters for ${i.name}`);
    const pairs: [string, number, number, number][] = [
      ["rx bytes", b.rx.bytes, i.stats.rxBytes, a.rx.bytes],
      ["rx packets", b.rx.packets, i.stats.rxPackets, a.rx.packets],
      ["rx errors", b.rx.errors, i.stats.rxErrors, a.rx.errors],
      ["rx dropped", b.rx.dropped, i.stats.rxDropped, a.rx.dropped],
      ["tx bytes", b.tx.bytes, i.stats.txBytes, a.tx.bytes],
      ["tx packets", b.tx.packets, i.stats.txPackets, a.tx.packets],
      ["tx errors", b.tx.errors, i.stats.txErrors, a.tx.errors],
      ["tx dropped", b.tx.dropped, i.stats.txDropped, a.tx.dropped],
      ["collisions", b.tx.collisions, i.stats.collisions, a.tx.collisions],
    ];
    for (const [what, lo, mine, hi] of pairs) {
      assertOk(lo <= mine && mine <= hi, `${i.name} ${what}: ${lo} <= ${mine} <= ${hi}`);
      checked++;
    }
  }
  return checked;
}

async function compareWithIp(wrap: (argv: string[]) => string[]): Promise<Interface[]> {
  const before = JSON.parse(await must(wrap(["ip", "-j", "-s", "link"]))) as IpStats[];
  const ours = JSON.parse(await must(wrap(socklab("ifconfig", "-a", "--json"))))
    .interfaces as Interface[];
  const [ip, after] = await Promise.all([
    must(wrap(["ip", "-j", "addr"])),
    must(wrap(["ip", "-j", "-s", "link"])),
  ]);
  assertEquals(ourFacts(ours), ipFacts(JSON.parse(ip) as IpAddr[]));
  const counters = assertCountersBetween(before, ours, JSON.parse(after) as IpStats[]);
  console.log(
    `compared ${ours.length} interfaces with ip (${
      ourFacts(ours).length
    } facts, ${counters} counters)`,
  );
  return ours;
}

peerTest(
  "ifconfig -a --json agrees with ip -j addr and ip -s link on this machine",
  ["ip"],
  async () => {
    await compareWithIp((argv) => argv);
  },
);

netnsTest(
  "ifconfig agrees with ip inside a namespace with veth pairs (one without carrier) and an alias",
  ["ip"],
  "ifconfig",
  async (ns) => {
    // This kernel has no dummy interfaces; veth pairs made in our own namespace serve.
    const ip = (...args: string[]) => must(["ip", "-n", ns.name, ...args]);
    await ip(
      "link",
      "add",
      "va5",
      "address",
      "02:00:00:00:05:01",
      "mtu",
      "1400",
      "type",
      "veth",
      "peer",
      "name",
      "vb5",
    );
    await ip("addr", "add", "198.51.100.7/24", "dev", "va5");
    await ip("addr", "add", "198.51.100.8/32", "dev", "va5", "label", "va5:1");
    await ip("addr", "add", "2001:db8:5::7/64", "dev", "va5", "nodad");
    await ip("link", "set", "va5", "up");
    await ip("link", "set", "vb5", "up");
    await ip("link", "add", "vc5", "type", "veth", "peer", "name", "vd5");
    await ip("addr", "add", "203.0.113.1/30", "dev", "vc5");
    await ip("link", "set", "vc5", "up"); // its peer stays down: UP without carrier
    const ours = await compareWithIp(ns.exec);
    assertEquals(ours.map((i) => i.name).sort(), ["lo", "va5", "vb5", "vc5", "vd5"]);
    const vc = ours.find((i) => i.name === "vc5")!;
    assertEquals([
      vc.flags.includes("UP"),
      vc.flags.includes("RUNNING"),
      vc.flags.includes("LOWER_UP"),
    ], [
      true,
      false,
      false,
    ]);

    const text = await must(ns.exec(socklab("ifconfig")));
    assertMatch(text, /^va5: flags=4163<UP,BROADCAST,RUNNING,MULTICAST> {2}mtu 1400$/m);
    assertMatch(text, /^ {8}inet 198\.51\.100\.7 {2}netmask 255\.255\.255\.0$/m);
    assertMatch(text, /^ {8}inet 198\.51\.100\.8 {2}netmask 255\.255\.255\.255$/m);
    assertMatch(text, /^ {8}inet6 2001:db8:5::7 {2}prefixlen 64 {2}scopeid 0x0<global>$/m);
    assertMatch(text, /^ {8}ether 02:00:00:00:05:01 {2}txqueuelen \d+ {2}\(Ethernet\)$/m);
    assertMatch(text, /^vc5: flags=4099<UP,BROADCAST,MULTICAST> {2}mtu 1500$/m);
    assertOk(!/^vd5:/m.test(text), "without -a a down interface is not shown");
    const one = await run(ns.exec(socklab("ifconfig", "vd5")));
    assertEquals(one.code, 0);
    assertMatch(one.stdout, /^vd5: flags=4098<BROADCAST,MULTICAST> {2}mtu 1500$/m);
  },
  { root: true },
);

Deno.test("ifconfig of an unknown interface: one line, exit 1; bad flags exit 2", async () => {
  const out = await run(socklab("ifconfig", "no-such-if0"));
  assertEquals(out.code, 1);
  assertEquals(out.stderr, "socklab ifconfig: no interface 'no-such-if0'\n");
  const bad = await run(socklab("ifconfig", "--bogus"));
  assertEquals(bad.code, 2);
  assertMatch(bad.stderr, /usage: socklab ifconfig/);
});

Deno.test("ifconfig lo shows the loopback address and flags", async () => {
  const out = await run(socklab("ifconfig", "lo"));
  assertEquals(out.code, 0);
  assertMatch(out.stdout, /^lo: flags=73<UP,LOOPBACK,RUNNING> {2}mtu \d+$/m);
  assertMatch(out.stdout, /^ {8}inet 127\.0\.0\.1 {2}netmask 255\.0\.0\.0$/m);
  assertMatch(out.stdout, /^ {8}loop {2}txqueuelen \d+ {2}\(Local Loopback\)$/m);
});

/** Where each space-separated field of a line starts and ends. */
function fieldSpans(line: string): [number, number][] {
  return [...line.matchAll(/\S+/g)].map((m) => [m.index!, m.index! + m[0].length]);
}

/** `ifconfig -s` rows: name, MTU and flag letters, and the eight counters. */
function shortRows(text: string): Map<string, { fixed: string; counts: number[] }> {
  const rows = new Map<string, { fixed: string; counts: number[] }>();
  for (const line of text.trimEnd().split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    rows.set(f[0], { fixed: `${f[0]} ${f[1]} ${f[10]}`, counts: f.slice(2, 10).map(Number) });
  }
  return rows;
}

netnsTest(
  "ifconfig -s prints net-tools ifconfig -s's table: same layout, names, MTUs, flags, counters",
  ["ip", "ifconfig"],
  "ifshort",
  async (ns) => {
    const ip = (...args: string[]) => must(["ip", "-n", ns.name, ...args]);
    await ip("link", "add", "vs5", "mtu", "1400", "type", "veth", "peer", "name", "vt5");
    await ip("link", "set", "vs5", "up");
    await ip("link", "set", "vt5", "up");
    await ip("link", "add", "vu5", "type", "veth", "peer", "name", "vw5"); // both down
    for (const flags of [["-s"], ["-a", "-s"]]) {
      const before = await must(ns.exec(["ifconfig", ...flags]));
      const ours = await must(ns.exec(socklab("ifconfig", ...flags)));
      const after = await must(ns.exec(["ifconfig", ...flags]));
      const lines = ours.trimEnd().split("\n");
      assertEquals(lines[0], before.split("\n")[0], "the header, as net-tools prints it");
      const [b, o, a] = [shortRows(before), shortRows(ours), shortRows(after)];
      assertEquals([...o.keys()], [...b.keys()], `${flags.join(" ")}: the interfaces, in order`);
      for (const [name, row] of o) {
        assertEquals(row.fixed, b.get(name)!.fixed, name);
        row.counts.forEach((n, k) => {
          const [lo, hi] = [b.get(name)!.counts[k], a.get(name)!.counts[k]];
          assertOk(lo <= n && n <= hi, `${name} column ${k}: ${lo} <= ${n} <= ${hi}`);
        });
      }
      // Column for column: a field as wide as net-tools' ends (or starts) where its does.
      for (const line of lines.slice(1)) {
        const theirs = before.split("\n").find((l) => l.split(" ")[0] === line.split(" ")[0])!;
        const [a, b] = [fieldSpans(line), fieldSpans(theirs)];
        assertEquals(a.length, b.length, `${line}\n${theirs}`);
        a.forEach(([start, end], k) => {
          if (end - start !== b[k][1] - b[k][0]) return;
          assertOk(start === b[k][0] && end === b[k][1], `field ${k}:\n${line}\n${theirs}`);
        });
      }
    }
    const json = JSON.parse(await must(ns.exec(socklab("ifconfig", "-s", "-a", "--json"))));
    const vu = json.interfaces.find((i: { name: string }) => i.name === "vu5");
    assertEquals([vu.mtu, vu.rxOk, vu.flags.includes("UP")], [1500, 0, false]);
  },
  { root: true },
);
