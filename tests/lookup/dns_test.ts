/**
 * `socklab dns` against a real DNS server (dnsmasq on 127.0.0.1, a free port)
 * with dig as the reference: the same records, the same presentation, the
 * same status. Plus hand-built servers for what dnsmasq will not do (no
 * reply, garbage, a wrong id). Nothing leaves loopback.
 */
import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { freePort, runCli } from "../helpers/cli.ts";
import { peerTest } from "../helpers/peers.ts";
import { type InProcessServer, serveInProcess } from "../helpers/udp_probe.ts";
import { parseDnsArgs, query } from "../../lib/lookup/dns.ts";
import { digLines, shortLines } from "../../lib/lookup/dns_format.ts";
import { type Dnsmasq, run, startDnsmasq, ZONE } from "./dnsmasq.ts";
import { craftReply, wireName } from "./wire_builder.ts";

/** The answer section's lines of a dig-like transcript. */
function answerSection(text: string): string[] {
  const lines = text.split("\n");
  const at = lines.indexOf(";; ANSWER SECTION:");
  if (at < 0) return [];
  const end = lines.indexOf("", at);
  return lines.slice(at + 1, end < 0 ? undefined : end);
}

/** dig's exit status for a name, to hold ours to it. */
async function digStatus(server: Dnsmasq, name: string): Promise<{ code: number }> {
  const r = await run("dig", ["@127.0.0.1", "-p", String(server.port), "+tries=1", name]);
  return { code: r.code };
}

async function dig(server: Dnsmasq, ...args: string[]): Promise<string> {
  const r = await run("dig", [
    `@127.0.0.1`,
    "-p",
    String(server.port),
    "+tries=1",
    "+time=5",
    ...args,
  ]);
  assertEquals(r.code, 0, `dig ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

peerTest(
  "dns answers every record of the test zone exactly as dig prints it",
  ["dnsmasq", "dig"],
  async () => {
    await using server = await startDnsmasq();
    let records = 0;
    for (const [name, type] of ZONE.queries) {
      const reference = (await dig(server, "+noall", "+answer", name, type)).trimEnd().split("\n");
      const req = parseDnsArgs(["--server", `127.0.0.1:${server.port}`, name, type]);
      const { message, info } = await query(req);
      const ours = answerSection(digLines(message, info).join("\n"));
      // dnsmasq may rotate the order of a record set between two queries: compare as sets.
      assertEquals([...ours].sort(), [...reference].sort(), `${name} ${type}`);
      assertOk(ours.length > 0, `${name} ${type} has answers`);
      records += ours.length;
      if (name === "big.test") {
        assertEquals(
          info.transport,
          "TCP",
          "a truncated UDP reply is retried over TCP",
        );
      }
      const short = (await dig(server, "+short", name, type)).trimEnd().split("\n");
      assertEquals([...shortLines(message)].sort(), [...short].sort(), `${name} ${type} +short`);
    }
    console.log(`dns: ${ZONE.queries.length} queries, ${records} records identical to dig`);
  },
);

peerTest(
  "dns reports the same status as dig for missing names and types",
  ["dnsmasq", "dig"],
  async () => {
    await using server = await startDnsmasq();
    for (
      const [name, type] of [["nowhere.test", "A"], ["h.test", "MX"], ["a.test", "AAAA"], [
        "elsewhere.example",
        "A",
      ]]
    ) {
      const reference = (await dig(server, "+noall", "+comments", name, type)).match(
        /status: (\w+)/,
      )?.[1];
      const { message } = await query(
        parseDnsArgs(["--server", `127.0.0.1:${server.port}`, name, type]),
      );
      const { rcodeName } = await import("../../lib/lookup/dns_wire.ts");
      assertEquals(rcodeName(message.rcode), reference, `${name} ${type}`);
    }
  },
);

peerTest(
  "socklab dns prints dig's layout, --short, --json and exit codes",
  ["dnsmasq", "dig"],
  async () => {
    await using server = await startDnsmasq();
    const at = ["--server", `127.0.0.1:${server.port}`];
    const full = await runCli(["dns", ...at, "c.test"]);
    assertEquals(full.code, 0, full.stderr);
    assertMatch(full.stdout, /^;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: \d+$/m);
    assertMatch(
      full.stdout,
      /^;; flags: qr aa rd ra; QUERY: 1, ANSWER: 2, AUTHORITY: 0, ADDITIONAL: 1$/m,
    );
    assertMatch(full.stdout, /^;c\.test\.\t\t\t\tIN\tA$/m);
    assertMatch(
      full.stdout,
      new RegExp(`^;; SERVER: 127\\.0\\.0\\.1#${server.port}\\(127\\.0\\.0\\.1\\) \\(UDP\\)$`, "m"),
    );
    assertEquals(
      answerSection(full.stdout).sort(),
      (await dig(server, "+noall", "+answer", "c.test")).trimEnd().split("\n").sort(),
    );

    // An address as NAME is a reverse (PTR) look-up, as dig -x.
    const reverse = await runCli(["dns", ...at, "10.0.0.2", "--short"]);
    assertEquals([reverse.code, reverse.stdout], [
      0,
      await dig(server, "+short", "-x", "10.0.0.2"),
    ]);
    const reverse6 = await runCli(["dns", ...at, "fd00::2", "--short"]);
    assertEquals(reverse6.stdout, await dig(server, "+short", "-x", "fd00::2"));

    const json = await runCli(["dns", ...at, "mx.test", "MX", "--json"]);
    assertEquals(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout);
    assertEquals([doc.status, doc.question[0].type, doc.transport], ["NOERROR", "MX", "udp"]);
    const digMx = (await dig(server, "+short", "mx.test", "MX")).trimEnd().split("\n").sort();
    assertEquals(
      doc.answer.map((a: { preference: number; exchange: string }) =>
        `${a.preference} ${a.exchange}`
      ).sort(),
      digMx,
    );
    assertEquals(doc.answer.map((a: { data: string }) => a.data).sort(), digMx);

    // As dig: NXDOMAIN is a reply, shown in the header, exit 0, nothing on stderr.
    const nx = await runCli(["dns", ...at, "nowhere.test"]);
    const digNx = await digStatus(server, "nowhere.test");
    assertEquals([nx.code, nx.stderr], [digNx.code, ""]);
    assertMatch(nx.stdout, /status: NXDOMAIN/);
    const nxShort = await runCli(["dns", ...at, "nowhere.test", "--short"]);
    assertEquals([nxShort.code, nxShort.stdout], [0, ""]);
    const tcp = await runCli(["dns", ...at, "--tcp", "s.test", "A"]);
    assertMatch(tcp.stdout, /\(TCP\)$/m);
  },
);

peerTest(
  "socklab dns takes dig's own syntax and gives dig's answers",
  ["dnsmasq", "dig"],
  async () => {
    await using server = await startDnsmasq();
    const p = `${server.port}`;
    const lines: string[][] = [
      ["@127.0.0.1", "-p", p, "mx.test", "MX", "+short"],
      ["@127.0.0.1", "-p", p, "MX", "mx.test", "+short"],
      ["@127.0.0.1", `-p${p}`, "mx.test", "IN", "MX", "+short", "+norec"],
      ["@127.0.0.1", "-p", p, "-t", "MX", "mx.test", "+short", "+tcp"],
      ["@127.0.0.1", "-p", p, "-x", "10.0.0.2", "+short", "+time=1", "+tries=2"],
    ];
    for (const args of lines) {
      const ours = await runCli(["dns", ...args]);
      const theirs = await new Deno.Command("dig", { args, stdout: "piped" }).output();
      assertEquals(ours.code, 0, `${args.join(" ")}: ${ours.stderr}`);
      assertEquals(
        ours.stdout.trimEnd().split("\n").sort(),
        new TextDecoder().decode(theirs.stdout).trimEnd().split("\n").sort(),
        args.join(" "),
      );
    }
  },
);

Deno.test("socklab dns fails at once with dig's status 9 when the server's port is closed", async () => {
  const port = freePort("udp");
  const started = performance.now();
  const r = await runCli(["dns", `@127.0.0.1`, "-p", `${port}`, "x.test"]);
  const ms = performance.now() - started;
  assertEquals([r.code, r.stderr], [
    9,
    `socklab dns: no reply from 127.0.0.1:${port}: connection refused\n`,
  ]);
  // Three tries of 2 s each would take 6 s; refused is known from the first ICMP.
  assertOk(ms < 2000, `took ${ms} ms`);
});

Deno.test("socklab dns refuses bad command lines with exit 2 before any query", async () => {
  for (
    const args of [
      ["x.test", "NOPE"],
      ["a..b"],
      ["--short", "--json", "x.test"],
      [],
      [
        "+bogus",
        "x.test",
      ],
      ["x.test", "-p", "70000"],
      ["x.test", "CH", "TXT"],
      ["x.test", "+time=x"],
      [
        "--server",
        "[::1",
        "x",
      ],
    ]
  ) {
    const r = await runCli(["dns", ...args]);
    assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assertMatch(r.stderr, /^usage: socklab dns /m);
  }
});

/** A UDP server on 127.0.0.1 that answers each query with `reply(query)` (or not at all). */
function fakeServer(reply: (q: Uint8Array) => Uint8Array[]): InProcessServer & {
  queries: Uint8Array[];
} {
  const queries: Uint8Array[] = [];
  const server = serveInProcess(async (conn, { signal }) => {
    signal.addEventListener("abort", () => conn.close());
    try {
      for await (const [data, from] of conn) {
        queries.push(data);
        for (const r of reply(data)) await conn.send(r, from);
      }
    } catch {
      // closed
    }
  });
  return Object.assign(server, { queries });
}

/** `socklab dns --server 127.0.0.1:PORT ARGS...` against a {@linkcode fakeServer}. */
function askVia(server: { port: number }, ...args: string[]) {
  return runCli(["dns", "--server", `127.0.0.1:${server.port}`, ...args]);
}

Deno.test("socklab dns gives up after --retries with the shared no-reply line", async () => {
  await using silent = fakeServer(() => []);
  const started = performance.now();
  const r = await askVia(silent, "--timeout", "150", "--retries", "1", "x.test");
  assertEquals(r.code, 9, "dig's status for no reply");
  assertEquals(r.stderr, `socklab dns: no reply from 127.0.0.1:${silent.port} after 2 tries\n`);
  assertEquals(silent.queries.length, 2, "one query and one retry reached the server");
  assertOk(performance.now() - started < 5000);
});

Deno.test("socklab dns rejects a malformed reply at once instead of waiting for a time-out", async () => {
  // The right id, then a compression pointer that points at itself.
  await using bad = fakeServer((
    q,
  ) => [new Uint8Array([q[0], q[1], 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1])]);
  const r = await askVia(bad, "--timeout", "5000", "x.test");
  assertEquals(r.code, 1);
  assertMatch(
    r.stderr,
    new RegExp(
      `^socklab dns: malformed reply from 127\\.0\\.0\\.1:${bad.port}: Malformed DNS message: bad compression pointer in question name\\n$`,
    ),
  );
});

Deno.test("socklab dns ignores a reply with the wrong id and takes the real one", async () => {
  await using spoof = fakeServer((q) => [
    craftReply(q, [{ type: 1, ttl: 60, rdata: "0a000063" }], { id: ((q[0] << 8) | q[1]) ^ 0xffff }),
    craftReply(q, [{ type: 1, ttl: 60, rdata: "0a000001" }]),
  ]);
  const r = await askVia(spoof, "--short", "x.test");
  assertEquals([r.code, r.stdout], [0, "10.0.0.1\n"]);
});

Deno.test("socklab dns prints a record type it does not know in RFC 3597 form", async () => {
  await using odd = fakeServer((
    q,
  ) => [craftReply(q, [{ type: 4242, ttl: 1, rdata: "c0ffee" + wireName("x") }])]);
  const r = await askVia(odd, "--short", "x.test", "TYPE4242");
  assertEquals([r.code, r.stdout], [0, "\\# 6 C0FFEE017800\n"]);
});
