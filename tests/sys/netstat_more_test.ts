/**
 * netstat's tables beyond TCP and UDP (issue 15, item 9), each against the
 * real tool that reads the same kernel file at the same moment: `-x` against
 * net-tools netstat (byte for byte on the fixture's Unix sockets), ss-style
 * filters against `ss` with the same filter, `-s` against iproute2's nstat
 * (in a fresh namespace, where the counters hold still, every value equal).
 */
import { counterLines, parsePairedCounters, parseSnmp6, selectGroups } from "../../lib/sys/snmp.ts";
import { parseUnix, selectUnix, unixLines } from "../../lib/sys/unix_sockets.ts";
import { matches, parseFilter, tokenize } from "../../lib/sys/filter.ts";
import { assertEquals, assertMatch, assertOk, throws } from "../helpers/assert.ts";
import { peerTest } from "../helpers/peers.ts";
import { must, netnsTest, run, socklab, ssAndOurs, startFixture } from "./tools.ts";

Deno.test("parsePairedCounters() and parseSnmp6() read the kernel's two layouts", () => {
  const snmp = "Ip: Forwarding DefaultTTL InReceives\nIp: 2 64 391448511\n" +
    "Tcp: RtoAlgorithm MaxConn CurrEstab\nTcp: 1 -1 400\nBad: a b\nBad: 1\n";
  assertEquals(parsePairedCounters(snmp), [
    { group: "Ip", counters: [["Forwarding", 2], ["DefaultTTL", 64], ["InReceives", 391448511]] },
    { group: "Tcp", counters: [["RtoAlgorithm", 1], ["MaxConn", -1], ["CurrEstab", 400]] },
  ]);
  const six = "Ip6InReceives                   \t847\nUdpLite6InDatagrams\t0\n" +
    "Icmp6OutType133 3\nUdp6InDatagrams 5\nnonsense\n";
  assertEquals(parseSnmp6(six).map((g) => [g.group, g.counters]), [
    ["Ip6", [["InReceives", 847]]],
    ["UdpLite6", [["InDatagrams", 0]]],
    ["Icmp6", [["OutType133", 3]]],
    ["Udp6", [["InDatagrams", 5]]],
  ]);
  const groups = parsePairedCounters(snmp);
  assertEquals(selectGroups(groups, { tcp: true, udp: false }).map((g) => g.group), ["Tcp"]);
  assertEquals(counterLines(groups.slice(1)), [
    "Tcp:",
    "    RtoAlgorithm: 1",
    "    MaxConn: -1",
    "    CurrEstab: 400",
  ]);
});

Deno.test("parseUnix() and unixLines() read /proc/net/unix as net-tools lays it out", () => {
  const text = "Num       RefCount Protocol Flags    Type St Inode Path\n" +
    "0000000000000000: 00000002 00000000 00010000 0001 01 4242 /run/a.sock\n" +
    "0000000000000000: 00000003 00000000 00000000 0001 03  1060\n" +
    "0000000000000000: 00000002 00000000 00000000 0002 01 77 @abstract\n";
  const rows = parseUnix(text);
  assertEquals(rows.map((r) => [r.type, r.st, r.inode, r.path]), [
    [1, 1, 4242, "/run/a.sock"],
    [1, 3, 1060, ""],
    [2, 1, 77, "@abstract"],
  ]);
  assertEquals(selectUnix(rows, { listening: true, all: false }).length, 1);
  assertEquals(selectUnix(rows, { listening: false, all: false }).length, 2);
  assertEquals(unixLines(rows), [
    "Proto RefCnt Flags       Type       State         I-Node   Path",
    "unix  2      [ ACC ]     STREAM     LISTENING     4242     /run/a.sock",
    "unix  3      [ ]         STREAM     CONNECTED     1060     ",
    "unix  2      [ ]         DGRAM                    77       @abstract",
  ]);
});

const SERVICES = (name: string) => ({ ssh: 22, http: 80 } as Record<string, number>)[name] ?? null;

function row(local: string, lport: number, remote: string, rport: number, state: string | null) {
  return {
    proto: "tcp" as const,
    state,
    local: { address: local, port: lport },
    remote: { address: remote, port: rport },
  };
}

const FILTER_CASES: [string, ReturnType<typeof row>, boolean][] = [
  ["sport = :22", row("0.0.0.0", 22, "0.0.0.0", 0, "LISTEN"), true],
  ["sport = :ssh", row("0.0.0.0", 22, "0.0.0.0", 0, "LISTEN"), true],
  ["sport == 22", row("0.0.0.0", 23, "0.0.0.0", 0, "LISTEN"), false],
  ["dport >= :1024", row("10.0.0.1", 22, "10.0.0.2", 50000, "ESTABLISHED"), true],
  ["dport lt :1024", row("10.0.0.1", 22, "10.0.0.2", 50000, "ESTABLISHED"), false],
  ["src 10.0.0.0/8", row("10.9.8.7", 22, "1.2.3.4", 5, "ESTABLISHED"), true],
  ["src 10.0.0.0/8", row("::ffff:10.9.8.7", 22, "::", 0, "LISTEN"), true],
  ["src 10.0.0.0/8", row("11.0.0.1", 22, "1.2.3.4", 5, "ESTABLISHED"), false],
  ["dst [::1]:22", row("::1", 5, "::1", 22, "ESTABLISHED"), true],
  ["dst ::1", row("::1", 5, "::1", 22, "ESTABLISHED"), true],
  ["src 127.0.0.1:80", row("127.0.0.1", 80, "0.0.0.0", 0, "LISTEN"), true],
  ["src *:80", row("::", 80, "::", 0, "LISTEN"), true],
  ["sport = :22 or dport = :22", row("1.1.1.1", 9, "2.2.2.2", 22, "ESTABLISHED"), true],
  ["sport = :22 dport = :22", row("1.1.1.1", 9, "2.2.2.2", 22, "ESTABLISHED"), false],
  ["! ( sport = :9 ) && dport = :22", row("1.1.1.1", 9, "2.2.2.2", 22, "ESTABLISHED"), false],
  ["not sport = :9 || dport = :22", row("1.1.1.1", 9, "2.2.2.2", 22, "ESTABLISHED"), true],
  ["state established", row("1.1.1.1", 9, "2.2.2.2", 22, "ESTABLISHED"), true],
  ["state time-wait", row("1.1.1.1", 9, "2.2.2.2", 22, "ESTABLISHED"), false],
  ["src != 1.1.1.1", row("1.1.1.1", 9, "2.2.2.2", 22, "ESTABLISHED"), false],
];

for (const [text, r, want] of FILTER_CASES) {
  Deno.test(`parseFilter("${text}") ${want ? "matches" : "does not match"} its row`, () => {
    assertEquals(matches(parseFilter(text, SERVICES), r), want);
  });
}

Deno.test("parseFilter() refuses what ss refuses, naming the problem", () => {
  assertEquals(tokenize("sport=:22&&(dst 1.2.3.4)"), [
    "sport",
    "=",
    ":22",
    "&&",
    "(",
    "dst",
    "1.2.3.4",
    ")",
  ]);
  assertEquals(parseFilter("  ", SERVICES), null);
  throws(() => parseFilter("sport", SERVICES), /operator after sport expected/);
  throws(() => parseFilter("sport = :nosuch", SERVICES), /":nosuch" is not a port/);
  throws(() => parseFilter("( sport = :22", SERVICES), /"\)" expected/);
  throws(() => parseFilter("src 10.0.0.0/33", SERVICES), /bad prefix length/);
  throws(() => parseFilter("bogus", SERVICES), /unexpected "bogus"/);
  throws(() => parseFilter("state sleepy", SERVICES), /unknown state "sleepy"/);
});

peerTest(
  "netstat FILTER shows the sockets ss shows for the same filter",
  ["ss"],
  async () => {
    await using fixture = await startFixture();
    const [p4, p6, pAny] = fixture.ports.tcp;
    const [u4] = fixture.ports.udp;
    const all = [...fixture.ports.tcp, ...fixture.ports.udp];
    const filters = [
      `sport = :${p4}`,
      `dport = :${p6}`,
      `sport = :${u4}`,
      `src 127.0.0.1 and ( sport = :${p4} or dport = :${p4} )`,
      `dst [::1] and dport = :${p6}`,
      `src 127.0.0.0/8 and sport = :${pAny}`,
      `dst 127.0.0.1:${pAny}`,
      `sport >= :${Math.min(...all)} and sport <= :${Math.max(...all)}`,
      `( sport = :${p4} or sport = :${p6} ) and not dport = :0`,
    ];
    for (const filter of filters) {
      const { want, got } = await ssAndOurs("-tuan", { filter, ports: all });
      assertOk(want.length > 0, `ss shows the fixture's sockets for '${filter}'`);
      assertEquals(got, want, filter);
    }
    const bad = await run(socklab("netstat", "-tuan", "sport = :"));
    assertEquals(bad.code, 2);
    assertMatch(bad.stderr, /^socklab netstat: Cannot parse filter: /);
  },
);

/** The lines of a `netstat -xap` table that belong to process `pid`. */
function linesOf(text: string, pid: number): string[] {
  return text.split("\n").filter((l) => l.includes(` ${pid}/`)).sort();
}

netnsTest(
  "netstat -xap prints the fixture's Unix sockets exactly as net-tools netstat does",
  ["ip", "netstat"],
  "unix",
  async (ns) => {
    const dir = Deno.makeTempDirSync({ prefix: "socklab-unix-" });
    try {
      await using fixture = await startFixture(ns.exec([]), ["--unix", dir]);
      const [theirs, ours, json] = await Promise.all([
        must(ns.exec(["netstat", "-xap"])),
        must(ns.exec(socklab("netstat", "-xap"))),
        must(ns.exec(socklab("netstat", "-xa", "--json"))),
      ]);
      const want = linesOf(theirs, fixture.ports.pid);
      // The listener, both ends of the pair, the datagram socket (and Deno's own).
      assertOk(want.length >= 4, theirs);
      assertEquals(linesOf(ours, fixture.ports.pid), want);
      assertEquals(
        ours.split("\n").slice(0, 2),
        theirs.split("\n").slice(0, 2),
        "title and header",
      );
      const doc = JSON.parse(json) as { unix: { path: string | null; state: string }[] };
      const listener = doc.unix.find((s) =>
        s.path === fixture.ports.unix[0] && s.state === "LISTENING"
      );
      assertOk(listener, json);
      assertOk(doc.unix.some((s) => s.path === fixture.ports.unix[1]), "the datagram socket");
      const listening = await must(ns.exec(socklab("netstat", "-xl")));
      assertEquals(
        listening.split("\n").filter((l) => l.startsWith("unix")).map((l) => l.split(/\s+/).at(-1)),
        [fixture.ports.unix[0]],
      );
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
  { root: true },
);

type Counters = Record<string, Record<string, number>>;

/**
 * nstat's text output (`NAME VALUE RATE` lines) as name → value. Its --json
 * is not used: it wraps values at 2^32 (IpExtInOctets 291,042,261,761 came
 * out as 3,279,452,929), where its text and the kernel do not.
 */
function parseNstat(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^(\w+)\s+(-?\d+)\s/gm)) out[m[1]] = Number(m[2]);
  return out;
}

/** Our `-s --json` as nstat names counters: the group, then the name (`TcpActiveOpens`). */
function asNstat(doc: { counters: Counters }): Map<string, number> {
  const out = new Map<string, number>();
  for (const [group, counters] of Object.entries(doc.counters)) {
    for (const [name, value] of Object.entries(counters)) out.set(group + name, value);
  }
  return out;
}

netnsTest(
  "netstat -s shows every counter nstat shows, with the same values in a quiet namespace",
  ["ip", "nstat"],
  "snmp",
  async (ns) => {
    // Some traffic, so that not every counter is 0: a refused TCP connection and UDP datagrams.
    await run(ns.exec(socklab("nc", "-z", "127.0.0.1", "9")));
    await run(
      ns.exec([
        "sh",
        "-c",
        "echo x | " + socklab("nc", "-u", "-w", "1", "127.0.0.1", "9").join(" "),
      ]),
    );
    const [nstat, ours] = await Promise.all([
      must(ns.exec(["nstat", "-asz"])),
      must(ns.exec(socklab("netstat", "-s", "--json"))),
    ]);
    const theirs = Object.entries(parseNstat(nstat));
    const mine = asNstat(JSON.parse(ours));
    assertOk(theirs.length > 100, `nstat lists ${theirs.length} counters`);
    const differ = theirs.filter(([k, v]) => mine.get(k) !== v).map(([k, v]) =>
      `${k}: nstat ${v}, ours ${mine.get(k)}`
    );
    assertEquals(differ, []);
    assertOk(
      (mine.get("TcpAttemptFails") ?? 0) + (mine.get("TcpOutRsts") ?? 0) > 0,
      "traffic seen",
    );
    const text = await must(ns.exec(socklab("netstat", "-s", "-t")));
    assertMatch(text, /^Tcp:\n {4}RtoAlgorithm: \d+$/m);
    assertOk(!/^Udp:/m.test(text), "-t keeps TCP's groups only");
  },
  { root: true },
);

peerTest("netstat -s on this machine: nstat's counters, each between two nstat readings", [
  "nstat",
], async () => {
  const read = async () => parseNstat(await must(["nstat", "-asz"]));
  const before: Record<string, number> = await read();
  const mine = asNstat(JSON.parse(await must(socklab("netstat", "-s", "--json"))));
  const after: Record<string, number> = await read();
  const gauges = new Set(["TcpCurrEstab"]);
  for (const [k, lo] of Object.entries(before)) {
    const ours = mine.get(k);
    assertOk(ours !== undefined, `ours has ${k}`);
    if (gauges.has(k) || after[k] < lo) continue;
    assertOk(lo <= ours && ours <= after[k], `${k}: ${lo} <= ${ours} <= ${after[k]}`);
  }
});
