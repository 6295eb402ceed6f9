/**
 * getaddrinfo, gethostbyname, getnameinfo, hostname against the C library's
 * own tools: `getent ahosts` (byte for byte), `getent hosts`, and Python's
 * socket module. Most tests run in a private network namespace whose
 * /etc/hosts and resolver (a dnsmasq on its 127.0.0.1:53) the test writes, so
 * every name is known in advance and nothing reaches the real resolver.
 */
import { fileURLToPath } from "node:url";
import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { MAIN, runCli, socklabArgv } from "../helpers/cli.ts";
import { peerTest } from "../helpers/peers.ts";
import { run } from "./dnsmasq.ts";
import { namespaceDns, type Netns, openNetns } from "./netns.ts";

const PY = fileURLToPath(new URL("./py_reference.py", import.meta.url));

const HOSTS = `127.0.0.1 localhost
::1 localhost ip6-localhost ip6-loopback
10.1.2.3 multi.test m1 alias-a
10.1.2.4 multi.test
fd00::5 multi.test
fd00::6 six.test
192.0.2.7 gw.test gw
`;
/** Records the namespace's DNS server adds (names not in its hosts file). */
const DNS_RECORDS = [
  "--local=/test/",
  // Reverse names nobody defined get NXDOMAIN, not REFUSED (which the C library reports as EAI_AGAIN).
  "--local=/in-addr.arpa/",
  "--local=/ip6.arpa/",
  "--host-record=dnsonly.test,10.9.0.1,fd00::9",
  "--address=/dnsmulti.test/10.9.0.2",
  "--address=/dnsmulti.test/10.9.0.3",
  "--cname=alias.test,dnsonly.test",
];

/** Names whose every answer is known: from the hosts file, from DNS, and literals. */
const NAMES = [
  "localhost",
  "ip6-localhost",
  "multi.test",
  "m1",
  "alias-a",
  "six.test",
  "gw.test",
  "gw",
  "dnsonly.test",
  "dnsmulti.test",
  "alias.test",
  "10.1.2.3",
  "127.0.0.1",
  "::1",
  "fd00::5",
  "::ffff:10.0.0.1",
  "0x7f.1",
  "fe80::1%1",
];

/** Names also checked with -4 and -6. */
const FAMILY_NAMES = [
  "localhost",
  "multi.test",
  "six.test",
  "dnsonly.test",
  "alias.test",
  "10.1.2.3",
  "::1",
];

/** Runs `fn` over `items`, at most `limit` at a time (each is a process or two). */
async function mapLimit<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      try {
        await fn(items[next++]);
      } catch (err) {
        next = items.length; // the other workers stop too
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

async function socklabIn(ns: Netns, args: string[]) {
  const [cmd, ...rest] = socklabArgv();
  return await ns.run("env", ["NO_COLOR=1", cmd, ...rest, ...args]);
}

async function inNamespace(fn: (ns: Netns) => Promise<void>): Promise<void> {
  await using ns = await openNetns(HOSTS);
  await using _dns = await namespaceDns(ns, DNS_RECORDS);
  await fn(ns);
}

const NS_PEERS = ["ip", "dnsmasq", "getent"];

peerTest(
  "getaddrinfo prints exactly what getent ahosts/ahostsv4/ahostsv6 print",
  NS_PEERS,
  async () => {
    await inNamespace(async (ns) => {
      let lines = 0;
      const families = [[[], "ahosts"], [["-4"], "ahostsv4"], [["-6"], "ahostsv6"]] as const;
      // Every name with AF_UNSPEC; the per-family variants on a mixed subset (each is a process).
      const cases = NAMES.flatMap((name) =>
        (FAMILY_NAMES.includes(name) ? families : families.slice(0, 1)).map(([flag, db]) => ({
          name,
          flag,
          db,
        }))
      );
      await mapLimit(cases, 3, async ({ name, flag, db }) => {
        const reference = await ns.run("getent", [db, name]);
        const ours = await socklabIn(ns, ["getaddrinfo", ...flag, name]);
        if (reference.code !== 0) {
          // getent says "not found" with status 2: so do we, with one line.
          assertEquals(ours.code, reference.code, `${flag} ${name}: ${ours.stdout}`);
          assertEquals(ours.stderr.split("\n").length, 2, ours.stderr);
          return;
        }
        assertEquals(
          ours.stdout,
          reference.stdout,
          `getaddrinfo ${flag.join(" ")} ${name} vs getent ${db}`,
        );
        assertEquals(ours.code, 0);
        lines += ours.stdout.split("\n").length - 1;
      });
      console.log(`getaddrinfo: ${NAMES.length} names, ${lines} lines identical to getent`);
    });
  },
  { root: true },
);

peerTest(
  "getaddrinfo fails on an unknown name with one line and getent's exit 2",
  NS_PEERS,
  async () => {
    await inNamespace(async (ns) => {
      assertEquals(
        (await ns.run("getent", ["ahosts", "nowhere.test"])).code,
        2,
        "getent agrees it is unknown",
      );
      const r = await socklabIn(ns, ["getaddrinfo", "nowhere.test"]);
      assertEquals([r.code, r.stdout], [2, ""]);
      assertEquals(
        r.stderr,
        "socklab getaddrinfo: unknown host 'nowhere.test' (Name or service not known)\n",
      );
      const g = await socklabIn(ns, ["gethostbyname", "nowhere.test"]);
      assertEquals((await ns.run("getent", ["hosts", "nowhere.test"])).code, 2);
      assertEquals([g.code, g.stderr], [
        2,
        "socklab gethostbyname: unknown host 'nowhere.test' (Unknown host)\n",
      ]);
      const s = await socklabIn(ns, ["getaddrinfo", "--service", "no-such-service", "localhost"]);
      assertEquals(s.code, 2);
      assertMatch(s.stderr, /^socklab getaddrinfo: unknown service 'no-such-service' \(.+\)\n$/);
    });
  },
  { root: true },
);

peerTest(
  "getaddrinfo NAME NAME... prints what getent ahosts NAME NAME... prints, with its exit status",
  NS_PEERS,
  async () => {
    await inNamespace(async (ns) => {
      const lists = [
        ["localhost", "multi.test", "six.test"],
        ["multi.test", "nowhere.test", "dnsonly.test", "gw"],
        ["localhost", "ip6-localhost"], // a second NAME that is no service
        ["nowhere.test", "also-nowhere.test"],
      ];
      for (const names of lists) {
        const reference = await ns.run("getent", ["ahosts", ...names]);
        const ours = await socklabIn(ns, ["getaddrinfo", ...names]);
        assertEquals([ours.code, ours.stdout], [reference.code, reference.stdout], names.join(" "));
        const missing = names.filter((n) => n.includes("nowhere"));
        assertEquals(
          ours.stderr.trimEnd().split("\n").filter(Boolean),
          missing.map((n) =>
            `socklab getaddrinfo: unknown host '${n}' (Name or service not known)`
          ),
        );
      }
      // A port number or a service name in second place is SERVICE, as in the C call.
      const withService = await socklabIn(ns, ["getaddrinfo", "localhost", "http"]);
      assertMatch(withService.stdout, /^(127\.0\.0\.1:80|\[::1\]:80) +STREAM localhost$/m);
      const json = await socklabIn(ns, ["getaddrinfo", "--json", "localhost", "nowhere.test"]);
      const docs = JSON.parse(json.stdout);
      assertEquals(docs.map((d: { name: string }) => d.name), ["localhost", "nowhere.test"]);
      assertOk(docs[0].results.length > 0 && typeof docs[1].error === "string", json.stdout);
      assertEquals(json.code, 2);
    });
  },
  { root: true },
);

peerTest(
  "getnameinfo --name-required for an address without a name exits 2, as getent hosts",
  NS_PEERS,
  async () => {
    await inNamespace(async (ns) => {
      assertEquals((await ns.run("getent", ["hosts", "192.0.2.99"])).code, 2);
      const r = await socklabIn(ns, ["getnameinfo", "--name-required", "192.0.2.99"]);
      assertEquals([r.code, r.stdout], [2, ""]);
      assertMatch(r.stderr, /^socklab getnameinfo: no name for '192\.0\.2\.99'/);
    });
  },
  { root: true },
);

peerTest(
  "getaddrinfo with SERVICE, --socktype and --protocol matches Python's socket.getaddrinfo",
  [...NS_PEERS, "python3"],
  async () => {
    await inNamespace(async (ns) => {
      const cases: [string, string, string, string, string][] = [
        ["multi.test", "http", "0", "0", "0"],
        ["multi.test", "53", "0", "dgram", "0"],
        ["dnsonly.test", "domain", "4", "0", "0"], // fails in C too: see below
        ["dnsonly.test", "domain", "0", "0", "0"],
        ["alias.test", "443", "6", "stream", "0"],
        ["localhost", "ssh", "0", "0", "6"],
        ["gw.test", "", "0", "raw", "0"],
        ["m1", "8080", "0", "0", "17"],
      ];
      let failures = 0;
      for (const [name, service, family, socktype, proto] of cases) {
        const py = await ns.run("python3", [PY, "gai", name, service, family, socktype, proto]);
        const args = ["getaddrinfo", "--json", name];
        if (service) args.push(service);
        if (family !== "0") args.push(`-${family}`);
        if (socktype !== "0") args.push("--socktype", socktype);
        if (proto !== "0") args.push("--protocol", proto);
        const ours = await socklabIn(ns, args);
        if (py.code !== 0) {
          // The C library refuses this one (e.g. AI_ADDRCONFIG with no IPv4 but loopback
          // skips the DNS A query): so must we, with its reason.
          const reason = JSON.parse(py.stdout).error.replace(/^\[Errno -?\d+\] /, "");
          assertEquals(ours.code, 2, `${args.join(" ")}: ${ours.stdout}`);
          assertOk(ours.stderr.includes(`(${reason})`), `${ours.stderr} should give "${reason}"`);
          failures++;
          continue;
        }
        assertEquals(ours.code, 0, ours.stderr);
        const doc = JSON.parse(ours.stdout);
        assertEquals(doc.source, "libc");
        const mine = doc.results.map((r: Record<string, unknown>) => ({
          family: r.family,
          address: r.address,
          port: r.port,
          socktype: r.socktype,
          protocolNumber: r.protocolNumber,
          canonname: r.canonname ?? "",
        }));
        assertEquals(mine, JSON.parse(py.stdout), `${args.join(" ")}`);
      }
      assertOk(failures < cases.length / 2, `${failures} of ${cases.length} cases failed in both`);
    });
  },
  { root: true },
);

peerTest("gethostbyname matches Python's gethostbyname_ex and getent hosts", [
  ...NS_PEERS,
  "python3",
], async () => {
  await inNamespace(async (ns) => {
    for (
      const name of [
        "localhost",
        "m1",
        "multi.test",
        "gw",
        "dnsonly.test",
        "alias.test",
        "dnsmulti.test",
        "10.1.2.3",
      ]
    ) {
      const py = await ns.run("python3", [PY, "ghbn", name]);
      const ours = await socklabIn(ns, ["gethostbyname", "--json", name]);
      assertEquals(ours.code, 0, ours.stderr);
      const doc = JSON.parse(ours.stdout);
      const [official, aliases, addresses] = JSON.parse(py.stdout);
      assertEquals([doc.official, doc.aliases, [...doc.addresses].sort()], [
        official,
        aliases,
        [...addresses].sort(),
      ], name);
      const text = await socklabIn(ns, ["gethostbyname", name]);
      assertEquals(
        text.stdout,
        `Official name is: ${doc.official}\n    IP addresses: ${doc.addresses.join(" ")}\n`,
      );
    }
    // getent hosts answers IPv6 first; on an IPv4-only name it is gethostbyname's answer.
    const getent = (await ns.run("getent", ["hosts", "gw"])).stdout.trim().split(/\s+/);
    const gw = JSON.parse((await socklabIn(ns, ["gethostbyname", "--json", "gw"])).stdout);
    assertEquals(getent, [...gw.addresses, gw.official, ...gw.aliases]);
  });
}, { root: true });

peerTest("getnameinfo matches Python's socket.getnameinfo", [...NS_PEERS, "python3"], async () => {
  await inNamespace(async (ns) => {
    // flags: NI_NUMERICHOST 1, NI_NUMERICSERV 2, NI_NAMEREQD 8, NI_DGRAM 16
    const cases: [string, string, number, string[]][] = [
      ["10.1.2.3", "80", 0, []],
      ["192.0.2.7", "53", 16, ["--dgram"]],
      ["fd00::6", "443", 0, []],
      ["10.9.0.1", "22", 0, []], // a PTR record from the namespace's DNS
      ["fd00::9", "25", 0, []],
      ["10.99.99.99", "9", 0, []], // no name: the address itself
      ["10.1.2.3", "80", 3, ["-n"]],
      ["127.0.0.1", "65000", 0, []],
    ];
    for (const [addr, port, flags, extra] of cases) {
      const py = await ns.run("python3", [PY, "gni", addr, port, String(flags)]);
      assertEquals(py.code, 0, `${addr} ${port}: ${py.stdout}`);
      const [host, service] = JSON.parse(py.stdout);
      const ours = await socklabIn(ns, ["getnameinfo", ...extra, addr, port]);
      assertEquals(
        [ours.code, ours.stdout],
        [0, `hostname: ${host}\nservice: ${service}\n`],
        `${addr} ${port}`,
      );
    }
    const py = await ns.run("python3", [PY, "gni", "10.99.99.99", "0", "8"]);
    assertEquals(py.code, 1, "Python fails too with NI_NAMEREQD");
    const strict = await socklabIn(ns, ["getnameinfo", "--name-required", "10.99.99.99"]);
    assertEquals([strict.code, strict.stderr], [
      2,
      "socklab getnameinfo: no name for '10.99.99.99' (Name or service not known)\n",
    ]);
  });
}, { root: true });

peerTest("dns without --server asks the name server in /etc/resolv.conf, as dig does", [
  ...NS_PEERS,
  "dig",
], async () => {
  await inNamespace(async (ns) => {
    const reference = await ns.run("dig", ["+short", "dnsonly.test", "AAAA"]);
    const ours = await socklabIn(ns, ["dns", "--short", "dnsonly.test", "AAAA"]);
    assertEquals([ours.code, ours.stdout], [0, reference.stdout]);
    const full = await socklabIn(ns, ["dns", "alias.test"]);
    assertMatch(full.stdout, /^;; SERVER: 127\.0\.0\.1#53\(127\.0\.0\.1\) \(UDP\)$/m);
  });
}, { root: true });

// ---- on the machine itself: only names from /etc/hosts and literals (no DNS traffic) ----

function hostsFileNames(): string[] {
  const names = new Set<string>();
  for (const line of Deno.readTextFileSync("/etc/hosts").split("\n")) {
    const fields = line.replace(/#.*/, "").trim().split(/\s+/);
    fields.slice(1).forEach((n) => n && names.add(n));
  }
  return [...names];
}

peerTest("getaddrinfo agrees with getent ahosts for this machine's /etc/hosts names and literals", [
  "getent",
], async () => {
  for (const name of [...hostsFileNames(), "127.0.0.1", "::1", "0x7f000001"]) {
    const reference = await run("getent", ["ahosts", name]);
    if (reference.code !== 0) continue; // e.g. an IPv6-only name with no IPv6 configured
    const ours = await runCli(["getaddrinfo", name]);
    assertEquals(ours.stdout, reference.stdout, name);
  }
});

peerTest(
  "hostname prints what the hostname command and Python print",
  ["hostname", "python3"],
  async () => {
    const reference = (await run("hostname", [])).stdout.trim();
    const py = JSON.parse((await run("python3", [PY, "hostname"])).stdout);
    assertEquals(reference, py);
    assertEquals((await runCli(["hostname"])).stdout, `${reference}\n`);
    assertEquals((await runCli(["hostname", "--verbose"])).stdout, `My hostname: ${reference}\n`);
    assertEquals(JSON.parse((await runCli(["hostname", "--json"])).stdout), {
      hostname: reference,
    });
  },
);

Deno.test("without --allow-ffi the look-ups fall back to node:dns and say so", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      "--allow-sys",
      MAIN,
      "getaddrinfo",
      "--json",
      "localhost",
    ],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  assertMatch(new TextDecoder().decode(out.stderr), /note: the C library is not reachable/);
  const doc = JSON.parse(stdout);
  assertEquals(doc.source, "node:dns");
  const reference = await run("getent", ["ahosts", "localhost"]);
  const addresses = [
    ...new Set(reference.stdout.split("\n").filter(Boolean).map((l) => l.split(/\s+/)[0])),
  ];
  assertEquals([...new Set(doc.results.map((r: { address: string }) => r.address))], addresses);
});

Deno.test("look-up commands refuse bad command lines with exit 2 and their usage line", async () => {
  const cases: [string[], RegExp][] = [
    [["gethostbyname"], /^usage: socklab gethostbyname /m],
    [["getaddrinfo"], /^usage: socklab getaddrinfo /m],
    [["getaddrinfo", "-4", "-6", "x"], /Cannot use -4 and -6 together/],
    [["getaddrinfo", "--socktype", "seq", "x"], /Cannot parse --socktype "seq"/],
    [["getnameinfo", "not-an-address"], /not an IPv4 or IPv6 literal/],
    [["getnameinfo", "127.0.0.1", "70000"], /must be between 0 and 65535/],
    [["getnameinfo", "fe80::1%lo"], /give the IPv6 zone as a number/],
    [["hostname", "extra"], /^usage: socklab hostname /m],
  ];
  for (const [args, pattern] of cases) {
    const r = await runCli(args);
    assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assertMatch(r.stderr, pattern);
    assertOk(r.stdout === "", "nothing on stdout");
  }
  for (const cmd of ["hostname", "gethostbyname", "getaddrinfo", "getnameinfo", "dns", "inet"]) {
    const help = await runCli([cmd, "--help"]);
    assertEquals(help.code, 0);
    assertMatch(help.stdout, new RegExp(`^usage: socklab ${cmd} `));
  }
});

Deno.test("getaddrinfo --long and --canonname show the same results as --json", async () => {
  const json = JSON.parse((await runCli(["getaddrinfo", "--json", "localhost", "http"])).stdout);
  const long = (await runCli(["getaddrinfo", "-l", "localhost", "http"])).stdout.trimEnd().split(
    "\n",
  );
  assertMatch(long[0], /^FAMILY +ADDRESS +PORT +SOCKTYPE +PROTOCOL +CANONNAME$/);
  assertEquals(
    long.slice(1).map((l) => l.split(/\s+/).slice(0, 5).join(" ")),
    json.results.map((r: Record<string, unknown>) =>
      `${r.family} ${r.address} ${r.port} ${r.socktype} ${r.protocol}`
    ),
  );
  const canon = await runCli(["getaddrinfo", "--canonname", "localhost"]);
  assertEquals(canon.stdout, `${json.canonname}\n`);
  const withPort = (await runCli(["getaddrinfo", "localhost", "http"])).stdout.split("\n")[0];
  assertMatch(withPort, /^(127\.0\.0\.1:80|\[::1\]:80) +STREAM localhost$/);
});
